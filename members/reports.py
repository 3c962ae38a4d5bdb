"""The treasurer's queries: the member list and its filters, a member's history, exports."""

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from core.accounts.models import User
from core.audit import AuditEntry
from core.db import db
from core.errors import NotFound, ValidationError
from core.money import to_decimal
from members import dates
from members.models import (
    Dues,
    DuesStatus,
    HouseholdMember,
    Membership,
    MembershipReminder,
    MembershipStatus,
    Tier,
)

PAGE_SIZE = 50


@dataclass(frozen=True)
class MemberFilters:
    """What the treasurer narrowed the list to; empty values mean "any"."""

    status: str = ""
    tier: str = ""  # a tier's slug
    ending_within: int | None = None  # days from today
    search: str = ""  # part of a name or email


def _conditions(filters, today):
    conditions = []
    if filters.status:
        try:
            conditions.append(Membership.status == MembershipStatus(filters.status))
        except ValueError:
            raise ValidationError(_l("There is no such status."), field="status") from None
    if filters.tier:
        tier_id = db.session.scalar(sa.select(Tier.id).where(Tier.slug == filters.tier))
        if tier_id is None:
            raise ValidationError(_l("There is no such tier."), field="tier")
        conditions.append(Membership.tier_id == tier_id)
    if filters.ending_within is not None:
        if not 0 <= filters.ending_within <= 3660:
            raise ValidationError(
                _l("Please give a number of days between 0 and 3660."), field="ending_within"
            )
        conditions.append(Membership.ends_on >= today)
        conditions.append(Membership.ends_on <= today + timedelta(days=filters.ending_within))
    text = filters.search.strip()
    if text:
        conditions.append(
            sa.or_(
                User.name.icontains(text, autoescape=True),
                User.email.icontains(text, autoescape=True),
                Membership.mailing_name.icontains(text, autoescape=True),
            )
        )
    return conditions


@dataclass
class MemberPage:
    items: list
    count: int
    page: int
    per_page: int

    @property
    def pages(self):
        return max(1, -(-self.count // self.per_page))

    @property
    def has_previous(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages


def _base(filters, today):
    return (
        sa.select(Membership)
        .join(User, Membership.user_id == User.id)
        .where(*_conditions(filters, today))
    )


def search_members(filters, page=1, per_page=PAGE_SIZE):
    """Memberships ``filters`` match, soonest end date first, ``per_page`` at a time."""
    if page < 1:
        raise ValidationError(_l("There is no such page."), field="page")
    today = dates.today()
    base = _base(filters, today)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    items = db.session.scalars(
        base.options(joinedload(Membership.user), joinedload(Membership.tier))
        .order_by(Membership.ends_on.is_(None), Membership.ends_on, Membership.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return MemberPage(items=list(items), count=int(count), page=page, per_page=per_page)


def status_counts():
    rows = db.session.execute(
        sa.select(Membership.status, sa.func.count()).group_by(Membership.status)
    ).all()
    return {status.value: int(n) for status, n in rows}


@dataclass
class MemberDetail:
    membership: Membership
    dues: list
    household: list
    history: list  # audit entries about the membership and its dues, newest first
    reminders: list


def member_detail(membership_id):
    membership = db.session.scalar(
        sa.select(Membership)
        .where(Membership.id == membership_id)
        .options(
            joinedload(Membership.user),
            joinedload(Membership.tier),
            selectinload(Membership.dues).joinedload(Dues.tier),
            selectinload(Membership.household),
        )
    )
    if membership is None:
        raise NotFound()
    dues_ids = [str(d.id) for d in membership.dues]
    history = db.session.scalars(
        sa.select(AuditEntry)
        .where(
            sa.or_(
                sa.and_(
                    AuditEntry.target_type == "membership",
                    AuditEntry.target_id == str(membership.id),
                ),
                sa.and_(
                    AuditEntry.target_type == "membership_dues",
                    AuditEntry.target_id.in_(dues_ids or ["-"]),
                ),
            )
        )
        .order_by(AuditEntry.id.desc())
        .limit(200)
    ).all()
    reminders = db.session.scalars(
        sa.select(MembershipReminder)
        .where(MembershipReminder.membership_id == membership.id)
        .order_by(MembershipReminder.id.desc())
    ).all()
    return MemberDetail(
        membership=membership,
        dues=sorted(membership.dues, key=lambda d: d.id, reverse=True),
        household=[h for h in membership.household if h.removed_at is None],
        history=list(history),
        reminders=list(reminders),
    )


# -- exports ---------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    _l("Membership"),
    _l("Email"),
    _l("Name"),
    _l("Status"),
    _l("Tier"),
    _l("Member since"),
    _l("End date"),
    _l("Auto-renew"),
    _l("Mondial"),
    _l("Mailing name"),
    _l("Address"),
    _l("Address line 2"),
    _l("City"),
    _l("Province"),
    _l("Postal code"),
    _l("Country"),
    _l("Language"),
    _l("Household"),
    _l("Dues paid, total"),
)


def export_header():
    return [str(c) for c in EXPORT_COLUMNS]


def export_rows(filters):
    """CSV rows for ``filters``, read as they are written; filters are checked at once."""
    today = dates.today()
    conditions = _conditions(filters, today)
    paid = (
        sa.select(sa.func.coalesce(sa.func.sum(Dues.amount - Dues.refunded), 0))
        .where(Dues.membership_id == Membership.id, Dues.status == DuesStatus.paid)
        .scalar_subquery()
    )
    adults = (
        sa.select(sa.func.count(HouseholdMember.id))
        .where(
            HouseholdMember.membership_id == Membership.id,
            HouseholdMember.accepted_at.is_not(None),
            HouseholdMember.removed_at.is_(None),
        )
        .scalar_subquery()
    )
    query = (
        sa.select(Membership, User.email, User.name, User.language, Tier.slug, paid, adults)
        .join(User, Membership.user_id == User.id)
        .join(Tier, Membership.tier_id == Tier.id)
        .where(*conditions)
        .order_by(Membership.id)
        .execution_options(yield_per=500)
    )
    yes, no = str(_l("yes")), str(_l("no"))

    def rows():
        for m, email, name, language, slug, total, household in db.session.execute(query):
            yield [
                m.id,
                email,
                name,
                m.status.value,
                slug,
                m.started_on.isoformat() if m.started_on else "",
                m.ends_on.isoformat() if m.ends_on else "",
                yes if m.auto_renew else no,
                m.mondial_format.value,
                m.mailing_name,
                m.address_line1,
                m.address_line2,
                m.city,
                m.province,
                m.postal_code,
                m.country,
                language,
                1 + int(household or 0),
                to_decimal(int(total or 0)),
            ]

    return rows()


GOOD_STANDING_COLUMNS = (
    _l("Name"),
    _l("Email"),
    _l("Membership"),
    _l("Tier"),
    _l("End date"),
    _l("Role in the membership"),
)


def good_standing_header():
    return [str(c) for c in GOOD_STANDING_COLUMNS]


def good_standing_rows(record_date):
    """Each adult who was a member in good standing on ``record_date`` (for a vote or an AGM).

    In good standing: a paid or granted term covered the date, or its grace period did,
    and the membership is not cancelled or suspended. Each adult of a household counts.
    """
    if not isinstance(record_date, date):
        raise ValidationError(_l("Please give the record date."), field="record_date")
    grace = dates.grace_days()
    covered = sa.exists().where(
        Dues.membership_id == Membership.id,
        Dues.status == DuesStatus.paid,
        Dues.starts_on <= record_date,
        sa.or_(Dues.ends_on.is_(None), Dues.ends_on >= record_date - timedelta(days=grace)),
    )
    memberships = db.session.execute(
        sa.select(Membership, User.name, User.email, Tier.slug)
        .join(User, Membership.user_id == User.id)
        .join(Tier, Membership.tier_id == Tier.id)
        .where(
            covered,
            Membership.status.not_in((MembershipStatus.cancelled, MembershipStatus.suspended)),
        )
        .order_by(User.name, Membership.id)
    ).all()
    ids = [m.id for m, *_ in memberships]
    adults = {}
    if ids:
        for place, name, email in db.session.execute(
            sa.select(HouseholdMember, User.name, User.email)
            .join(User, HouseholdMember.user_id == User.id)
            .where(
                HouseholdMember.membership_id.in_(ids),
                HouseholdMember.accepted_at.is_not(None),
                HouseholdMember.removed_at.is_(None),
            )
        ):
            adults.setdefault(place.membership_id, []).append((name, email))
    holder, adult = str(_l("holder")), str(_l("household adult"))
    rows = []
    for m, name, email, slug in memberships:
        end = m.ends_on.isoformat() if m.ends_on else ""
        rows.append([name, email, m.id, slug, end, holder])
        for other_name, other_email in adults.get(m.id, []):
            rows.append([other_name, other_email, m.id, slug, end, adult])
    return rows
