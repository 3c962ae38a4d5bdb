"""The membership state machine and its dates, table by table, in ORG_TIMEZONE."""

from datetime import UTC, date, datetime

import pytest

from core import clock
from core.errors import IllegalTransition
from members import dates
from members.models import MembershipStatus as S
from members.models import ReminderKind, membership_states

ALLOWED = {
    (S.pending, S.current),
    (S.pending, S.cancelled),
    (S.current, S.grace),
    (S.current, S.cancelled),
    (S.current, S.suspended),
    (S.grace, S.current),
    (S.grace, S.expired),
    (S.grace, S.cancelled),
    (S.grace, S.suspended),
    (S.expired, S.current),
    (S.expired, S.lapsed),
    (S.expired, S.cancelled),
    (S.expired, S.suspended),
    (S.lapsed, S.current),
    (S.lapsed, S.cancelled),
    (S.cancelled, S.pending),
    (S.cancelled, S.current),
    (S.suspended, S.current),
    (S.suspended, S.grace),
    (S.suspended, S.expired),
    (S.suspended, S.lapsed),
    (S.suspended, S.cancelled),
}
EVERY_MOVE = [(a, b) for a in S for b in S if a != b]


class Row:
    __tablename__ = "membership"

    def __init__(self, status):
        self.id = 1
        self.status = status


@pytest.mark.parametrize(("start", "end"), EVERY_MOVE, ids=lambda s: s.value)
def test_every_move_is_allowed_or_refused_as_listed(app_ctx, start, end):
    row = Row(start)
    if (start, end) in ALLOWED:
        assert membership_states.move(row, end, actor="test") is True
        assert row.status == end
    else:
        with pytest.raises(IllegalTransition):
            membership_states.move(row, end, actor="test")
        assert row.status == start


def test_a_move_is_audited_with_where_it_came_from(app_ctx):
    import sqlalchemy as sa

    from core.audit import AuditEntry
    from core.db import db

    membership_states.move(Row(S.current), S.grace, actor="lifecycle")
    entry = db.session.scalar(sa.select(AuditEntry).order_by(AuditEntry.id.desc()))
    assert entry.action == "membership.grace"
    assert entry.data == {"from": "current", "to": "grace"}
    assert entry.actor == "lifecycle"
    db.session.rollback()


END = date(2027, 3, 15)


@pytest.mark.parametrize(
    ("on", "status"),
    [
        (date(2027, 3, 14), S.current),
        (END, S.current),  # the end date itself is still paid for
        (date(2027, 3, 16), S.grace),
        (date(2027, 4, 14), S.grace),  # the 30th day of grace
        (date(2027, 4, 15), S.expired),
        (date(2028, 4, 14), S.expired),
        (date(2028, 4, 15), S.lapsed),  # a year after it expired
    ],
)
def test_status_by_date(app_ctx, on, status):
    assert dates.status_on(END, on) == status


@pytest.mark.parametrize(
    ("status", "ends_on", "on", "expected"),
    [
        # New member: a year from the day paid.
        (None, None, date(2026, 5, 1), (date(2026, 5, 1), date(2027, 5, 1))),
        # Early renewal: from the end date, no day lost.
        (S.current, END, date(2026, 11, 2), (END, date(2028, 3, 15))),
        # End date today.
        (S.current, END, END, (END, date(2028, 3, 15))),
        # In grace, even on its last day: from the old end date.
        (S.grace, END, date(2027, 4, 14), (END, date(2028, 3, 15))),
        # Expired: from the day paid.
        (S.expired, END, date(2027, 6, 1), (date(2027, 6, 1), date(2028, 6, 1))),
        (S.lapsed, END, date(2029, 6, 1), (date(2029, 6, 1), date(2030, 6, 1))),
        # Leap day: the next 29 February does not exist.
        (None, None, date(2028, 2, 29), (date(2028, 2, 29), date(2029, 2, 28))),
        (S.current, date(2028, 2, 29), date(2028, 1, 5), (date(2028, 2, 29), date(2029, 2, 28))),
    ],
)
def test_the_term_dues_buy(app_ctx, status, ends_on, on, expected):
    term = dates.next_term(lifetime=False, ends_on=ends_on, status=status, on=on)
    assert (term.starts_on, term.ends_on) == expected


def test_a_lifetime_term_has_no_end(app_ctx):
    term = dates.next_term(lifetime=True, ends_on=END, status=S.current, on=date(2026, 7, 1))
    assert (term.starts_on, term.ends_on) == (date(2026, 7, 1), None)


@pytest.mark.parametrize(
    ("on", "kind"),
    [
        (date(2027, 2, 12), None),  # 31 days left
        (date(2027, 2, 13), ReminderKind.before_30),
        (date(2027, 3, 7), ReminderKind.before_30),
        (date(2027, 3, 8), ReminderKind.before_7),
        (date(2027, 3, 14), ReminderKind.before_7),
        (END, ReminderKind.ends_today),
        (date(2027, 3, 20), ReminderKind.ends_today),  # missed: still sent in grace
        (date(2027, 4, 15), None),  # past grace: too late to remind
    ],
)
def test_which_reminder_is_due(app_ctx, on, kind):
    assert dates.reminder_due(END, on) == kind


@pytest.mark.parametrize(
    ("utc", "local"),
    [
        # 23:30 on 14 March in Toronto is already the 15th in UTC.
        (datetime(2027, 3, 15, 3, 30, tzinfo=UTC), date(2027, 3, 14)),
        (datetime(2027, 3, 15, 4, 30, tzinfo=UTC), date(2027, 3, 15)),
        # Leap day, in winter time (UTC-5).
        (datetime(2028, 3, 1, 4, 59, tzinfo=UTC), date(2028, 2, 29)),
    ],
)
def test_today_is_where_the_organization_is(app_ctx, utc, local):
    clock.freeze(utc)
    try:
        assert dates.today() == local
    finally:
        clock.reset()


def test_the_lifecycle_moves_by_the_organizations_date(app_ctx):
    from members.lifecycle import advance

    row = Row(S.current)
    row.ends_on = END
    row.auto_renew = False
    row.renews_on = None
    row.failed_renewal = None
    clock.freeze(datetime(2027, 3, 16, 3, 59, tzinfo=UTC))  # 23:59 on the 15th in Toronto
    try:
        assert advance(row, dates.today()) == []
        clock.freeze(datetime(2027, 3, 16, 4, 1, tzinfo=UTC))  # 00:01 on the 16th
        assert advance(row, dates.today()) == ["grace"]
        # Far behind (the task did not run for months): every step, each audited.
        assert advance(row, date(2028, 5, 1)) == ["expired", "lapsed"]
    finally:
        clock.reset()
        from core.db import db

        db.session.rollback()


def test_an_auto_renewal_due_today_is_not_grace_yet(app_ctx):
    from members.lifecycle import advance

    row = Row(S.current)
    row.ends_on = END
    row.auto_renew = True
    row.renews_on = date(2027, 3, 17)  # charged two days after the end date
    row.failed_renewal = None
    assert advance(row, date(2027, 3, 16)) == []
    assert advance(row, date(2027, 3, 18)) == ["grace"]
    from core.db import db

    db.session.rollback()
