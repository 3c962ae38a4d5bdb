"""Who receives an issue of *Mondial*: the storefront's mailing lists ask here.

A member is entitled to the issues published during a term they paid for (or were
granted), and during the grace period after it; a term without an end (Life, honorary)
covers every issue from its first day. A household gets one copy. Refunded or
charged-back dues buy nothing, and a cancelled or suspended membership gets no issue.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from core.accounts.models import User
from core.db import db
from members import dates
from members.models import (
    Dues,
    DuesStatus,
    Membership,
    MembershipStatus,
    MondialFormat,
)

#: Memberships that receive nothing, whatever their terms covered.
EXCLUDED = (MembershipStatus.cancelled, MembershipStatus.suspended, MembershipStatus.pending)


@dataclass(frozen=True)
class Recipient:
    """One copy of an issue: to whom, in which form, and where."""

    membership_id: int
    format: str  # "print" or "digital"
    name: str
    email: str
    language: str
    address_line1: str
    address_line2: str
    city: str
    province: str
    postal_code: str
    country: str


def _covering(published_on, grace):
    """Dues rows whose term, with its grace period, covers ``published_on``."""
    return sa.exists().where(
        Dues.membership_id == Membership.id,
        Dues.status == DuesStatus.paid,
        Dues.starts_on <= published_on,
        sa.or_(Dues.ends_on.is_(None), Dues.ends_on >= published_on - timedelta(days=grace)),
    )


def recipients(published_on, fmt=None):
    """The copies of an issue published on ``published_on`` (a date), one per membership.

    ``fmt`` narrows the list to ``"print"`` (with mailing addresses) or ``"digital"``.
    """
    if not isinstance(published_on, date):
        raise TypeError("published_on must be a date")
    wanted = [MondialFormat.print, MondialFormat.digital] if fmt is None else [MondialFormat(fmt)]
    rows = db.session.execute(
        sa.select(Membership, User.email, User.name, User.language)
        .join(User, Membership.user_id == User.id)
        .where(
            Membership.status.not_in(EXCLUDED),
            Membership.mondial_format.in_(wanted),
            _covering(published_on, dates.grace_days()),
        )
        .order_by(Membership.id)
    ).all()
    return [
        Recipient(
            membership_id=m.id,
            format=m.mondial_format.value,
            name=m.mailing_name or name,
            email=email,
            language=language,
            address_line1=m.address_line1,
            address_line2=m.address_line2,
            city=m.city,
            province=m.province,
            postal_code=m.postal_code,
            country=m.country,
        )
        for m, email, name, language in rows
    ]


def is_entitled(membership, published_on):
    """Whether this membership receives the issue published on ``published_on``."""
    return any(r.membership_id == membership.id for r in recipients(published_on))


def counts(published_on):
    """How many copies of each form an issue needs: ``{"print": n, "digital": m}``."""
    found = {"print": 0, "digital": 0}
    for recipient in recipients(published_on):
        found[recipient.format] += 1
    return found
