"""The calendar of a membership: terms, grace, reminders, in the organization's time zone.

Every rule here takes ``today`` (a date where the organization is) rather than reading a
clock, so the rules are plain functions that tests can drive day by day.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from core.clock import local_date, local_noon, today  # noqa: F401  (memberships' calendar)
from core.settings import get_setting

DEFAULT_GRACE_DAYS = 30
#: An expired membership lapses this long after it expired.
LAPSE_AFTER_YEARS = 1
#: Reminders go this many days before the end date (and one on the end date itself).
REMINDER_DAYS = (30, 7)


def add_years(day, years=1):
    """``day`` moved by whole years; 29 February becomes 28 February, as card billing does."""
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def grace_days():
    return int(get_setting("members.grace_days", DEFAULT_GRACE_DAYS))


def grace_ends_on(ends_on, days=None):
    """The last day of the grace period after a term ending on ``ends_on``."""
    return ends_on + timedelta(days=grace_days() if days is None else days)


def lapses_on(ends_on, days=None):
    """The day an expired membership becomes lapsed."""
    return add_years(grace_ends_on(ends_on, days) + timedelta(days=1), LAPSE_AFTER_YEARS)


@dataclass(frozen=True)
class Term:
    """A term as shown before paying: its first and last days (no last day: for life)."""

    starts_on: date
    ends_on: date | None


def next_term(*, lifetime, ends_on, status, on):
    """The term that dues paid on ``on`` buy.

    Renewing early, or in grace, extends from the current end date, so no day is lost
    and none is given twice; after that (expired, lapsed, new) a term starts on the day
    it is paid. A lifetime tier has no end.
    """
    from members.models import MembershipStatus

    extends = ends_on is not None and status in (MembershipStatus.current, MembershipStatus.grace)
    if extends and on <= grace_ends_on(ends_on):
        starts_on = ends_on
    else:
        starts_on = on
    if lifetime:
        return Term(starts_on=on, ends_on=None)
    return Term(starts_on=starts_on, ends_on=add_years(starts_on))


def status_on(ends_on, on, days=None):
    """Which date-driven status a membership with this end date has on ``on``.

    Current up to and including the end date, then in grace for the grace period,
    then expired, and lapsed a year after that.
    """
    from members.models import MembershipStatus

    if ends_on is None or on <= ends_on:
        return MembershipStatus.current
    if on <= grace_ends_on(ends_on, days):
        return MembershipStatus.grace
    if on < lapses_on(ends_on, days):
        return MembershipStatus.expired
    return MembershipStatus.lapsed


def reminder_due(ends_on, on):
    """The reminder kinds whose day has come for a term ending on ``ends_on``, on ``on``.

    A reminder whose day was missed (the task did not run) is still sent late, unless a
    later one is due: a member never gets "30 days left" a week before the end.
    """
    from members.models import ReminderKind

    if ends_on is None:
        return None
    left = (ends_on - on).days
    if left < 0:
        return ReminderKind.ends_today if -left <= grace_days() else None
    if left == 0:
        return ReminderKind.ends_today
    if left <= REMINDER_DAYS[1]:
        return ReminderKind.before_7
    if left <= REMINDER_DAYS[0]:
        return ReminderKind.before_30
    return None
