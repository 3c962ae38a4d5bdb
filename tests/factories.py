"""factory_boy factories for rows that tests need directly (inside an app context)."""

from datetime import UTC, datetime

import factory
from factory.alchemy import SQLAlchemyModelFactory

from core.accounts.models import Role, User
from core.accounts.services import hash_password
from core.db import db
from donations.models import (
    Donation,
    DonationKind,
    DonationStatus,
    Fund,
    MonthlyGift,
    MonthlyStatus,
)


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731  (the app context's)
        sqlalchemy_session_persistence = "flush"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Faker("name")
    password_hash = factory.LazyFunction(lambda: hash_password("a test password"))
    role = Role.member
    language = "en"
    email_verified_at = factory.LazyFunction(lambda: datetime.now(UTC))


class FundFactory(Base):
    class Meta:
        model = Fund

    slug = factory.Sequence(lambda n: f"fund-{n}")
    name_en = factory.Sequence(lambda n: f"Fund {n}")
    name_fr = factory.Sequence(lambda n: f"Fonds {n}")


class DonorFactory(Base):
    """Donor details shared by gifts and monthly gifts."""

    class Meta:
        abstract = True

    donor_name = "Marie Tremblay"
    email = factory.Sequence(lambda n: f"donor{n}@example.org")
    address_line1 = "45 rue Saint-Denis"
    city = "Montréal"
    province = "QC"
    postal_code = "H2X 3K8"
    language = "en"
    fund = factory.SubFactory(FundFactory)


class MonthlyGiftFactory(DonorFactory):
    class Meta:
        model = MonthlyGift

    amount = 2000
    charged = factory.SelfAttribute("amount")
    status = MonthlyStatus.active
    annual_receipt = True


class DonationFactory(DonorFactory):
    """A gift that has been paid."""

    class Meta:
        model = Donation

    kind = DonationKind.one_time
    status = DonationStatus.paid
    amount = 5000
    received_at = datetime(2026, 12, 31, 14, 0, tzinfo=UTC)
