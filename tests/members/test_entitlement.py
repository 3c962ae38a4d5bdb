"""Who receives an issue of Mondial published on a date: the storefront's mailing lists."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.accounts.models import User
from core.db import db
from members import entitlement
from members.models import (
    Dues,
    DuesMethod,
    DuesStatus,
    HouseholdMember,
    Membership,
    MembershipStatus,
    MondialFormat,
    Tier,
)

ISSUE = date(2027, 5, 1)


def member(
    name,
    *,
    starts_on,
    ends_on,
    status=MembershipStatus.current,
    tier="individual",
    fmt=MondialFormat.print,
    dues_status=DuesStatus.paid,
):
    user = User(email=f"{name}@example.org", password_hash="!", name=name.title())
    tier_row = db.session.scalar(sa.select(Tier).where(Tier.slug == tier))
    membership = Membership(
        user=user,
        tier=tier_row,
        status=status,
        started_on=starts_on,
        ends_on=ends_on,
        mondial_format=fmt,
        address_line1="1 Main Street",
        city="Ottawa",
        province="ON",
        postal_code="K1A 0B1",
    )
    db.session.add(membership)
    db.session.add(
        Dues(
            membership=membership,
            tier=tier_row,
            status=dues_status,
            method=DuesMethod.card,
            amount=tier_row.price,
            starts_on=starts_on,
            ends_on=ends_on,
            received_at=datetime(starts_on.year, starts_on.month, starts_on.day, 16, tzinfo=UTC),
        )
    )
    db.session.flush()
    return membership


CASES = [
    # name, term start, term end (None: life), status now, entitled to the 1 May 2027 issue
    ("before", date(2026, 9, 1), date(2027, 9, 1), MembershipStatus.current, True),
    ("on", ISSUE, date(2028, 5, 1), MembershipStatus.current, True),
    ("after", ISSUE + timedelta(days=1), date(2028, 5, 2), MembershipStatus.current, False),
    ("endedtheday", date(2026, 5, 1), ISSUE, MembershipStatus.current, True),
    # The issue came out during grace (ended 20 days before).
    ("ingrace", date(2026, 4, 11), date(2027, 4, 11), MembershipStatus.grace, True),
    # The 30th day of grace, and the 31st.
    ("lastgraceday", date(2026, 4, 1), date(2027, 4, 1), MembershipStatus.expired, True),
    ("expired", date(2026, 3, 31), date(2027, 3, 31), MembershipStatus.expired, False),
    ("longexpired", date(2024, 1, 1), date(2025, 1, 1), MembershipStatus.lapsed, False),
    ("life", date(2020, 1, 1), None, MembershipStatus.current, True),
    ("lifelater", date(2028, 1, 1), None, MembershipStatus.current, False),
    ("suspended", date(2026, 9, 1), date(2027, 9, 1), MembershipStatus.suspended, False),
    ("cancelled", date(2026, 9, 1), date(2027, 9, 1), MembershipStatus.cancelled, False),
]


@pytest.fixture
def members(app_ctx, tiers):
    made = {}
    for name, start, end, status, _ in CASES:
        made[name] = member(
            name,
            starts_on=start,
            ends_on=end,
            status=status,
            tier="life" if end is None else "individual",
        )
    made["refunded"] = member(
        "refunded",
        starts_on=date(2026, 9, 1),
        ends_on=date(2027, 9, 1),
        dues_status=DuesStatus.refunded,
    )
    made["digital"] = member(
        "digital", starts_on=date(2026, 9, 1), ends_on=date(2027, 9, 1), fmt=MondialFormat.digital
    )
    made["nocopy"] = member(
        "nocopy", starts_on=date(2026, 9, 1), ends_on=date(2027, 9, 1), fmt=MondialFormat.none
    )
    yield made
    db.session.rollback()


@pytest.mark.parametrize(
    ("name", "start", "end", "status", "entitled"), CASES, ids=[c[0] for c in CASES]
)
def test_entitled_as_the_rules_say(members, name, start, end, status, entitled):
    assert entitlement.is_entitled(members[name], ISSUE) is entitled


def test_print_and_digital_lists_with_addresses(members):
    printed = entitlement.recipients(ISSUE, "print")
    digital = entitlement.recipients(ISSUE, "digital")
    assert {r.name for r in digital} == {"Digital"}
    expected = {c[0].title() for c in CASES if c[4]}
    assert {r.name for r in printed} == expected
    assert all(r.address_line1 == "1 Main Street" and r.postal_code == "K1A 0B1" for r in printed)
    assert "Refunded" not in {r.name for r in printed} and "Nocopy" not in {r.name for r in printed}
    assert entitlement.counts(ISSUE) == {"print": len(expected), "digital": 1}


def test_a_household_gets_one_copy(app_ctx, tiers):
    family = member("holder", starts_on=date(2026, 9, 1), ends_on=date(2027, 9, 1), tier="family")
    second = User(email="partner@example.org", password_hash="!", name="Partner")
    db.session.add(second)
    db.session.add(
        HouseholdMember(
            membership=family,
            email=second.email,
            user=second,
            accepted_at=datetime(2026, 9, 2, tzinfo=UTC),
        )
    )
    db.session.flush()
    assert [r.membership_id for r in entitlement.recipients(ISSUE)] == [family.id]
    db.session.rollback()


def test_the_lists_take_one_query_however_many_members(app_ctx, tiers):
    for n in range(30):
        member(f"m{n}", starts_on=date(2026, 9, 1), ends_on=date(2027, 9, 1))
    counted = []

    def count(*args):
        counted.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        found = entitlement.recipients(ISSUE)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(found) == 30
    assert len([q for q in counted if "membership" in q]) == 1
    db.session.rollback()
