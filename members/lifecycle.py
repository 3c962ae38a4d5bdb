"""The daily lifecycle: memberships whose dates have passed move on, reminders go out.

``flask members lifecycle`` and the worker's daily task both call :func:`run`. Running it
twice, or twice a day, changes nothing more: a move happens once (the state machine
ignores a move to where a membership already is) and a reminder is sent once per end date
(its row has a unique key).
"""

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import audit
from core.db import db
from core.mail.services import queue_email
from core.urls import absolute_url
from members import dates
from members.models import (
    Membership,
    MembershipReminder,
    MembershipStatus,
    ReminderKind,
    membership_states,
)
from members.services import lock_membership

ACTOR = "lifecycle"

#: The order of the date-driven states; a membership only ever moves forward along it.
ORDER = (
    MembershipStatus.current,
    MembershipStatus.grace,
    MembershipStatus.expired,
    MembershipStatus.lapsed,
)


def due_ids(today):
    """Ids of memberships that may have a move or a reminder due on ``today``.

    The bounds are generous (a lapse needs at least a year past the end date); each
    membership is checked exactly when it is handled.
    """
    reminders_to = today + timedelta(days=max(dates.REMINDER_DAYS))
    lapse_before = dates.add_years(today, -dates.LAPSE_AFTER_YEARS)
    query = (
        sa.select(Membership.id)
        .where(
            sa.or_(
                sa.and_(
                    Membership.status.in_((MembershipStatus.current, MembershipStatus.grace)),
                    Membership.ends_on <= reminders_to,
                ),
                sa.and_(
                    Membership.status == MembershipStatus.expired,
                    Membership.ends_on < lapse_before,
                ),
            )
        )
        .order_by(Membership.id)
    )
    return db.session.scalars(query).all()


def advance(membership, today):
    """Move one membership along its dates; return the moves made (as status values)."""
    if membership.status not in ORDER or membership.ends_on is None:
        return []
    target = dates.status_on(membership.ends_on, today)
    if (
        membership.auto_renew
        and membership.renews_on is not None
        and today <= membership.renews_on
        and membership.failed_renewal is None
        and target == MembershipStatus.grace
    ):
        # The renewal is charged on its day; until then the member is simply current.
        target = MembershipStatus.current
    moves = []
    while ORDER.index(membership.status) < ORDER.index(target):
        step = ORDER[ORDER.index(membership.status) + 1]
        membership_states.move(
            membership, step, actor=ACTOR, data={"ends_on": membership.ends_on.isoformat()}
        )
        moves.append(step.value)
    return moves


REMINDER_SUBJECTS = {
    ReminderKind.before_30: _l("Your membership ends in a month"),
    ReminderKind.before_7: _l("Your membership ends in a week"),
    ReminderKind.ends_today: _l("Your membership has come to its end date"),
}
RENEWAL_NOTICE_SUBJECT = _l("Your membership renews automatically next month")


def remind(membership, today):
    """Queue the reminder due today, if it was not sent for this end date; return its kind."""
    if membership.status not in (MembershipStatus.current, MembershipStatus.grace):
        return None
    kind = dates.reminder_due(membership.ends_on, today)
    if kind is None:
        return None
    if membership.auto_renew and membership.failed_renewal is None:
        # One notice before an automatic charge; nothing to do for the member after that.
        if kind != ReminderKind.before_30:
            return None
    exists = db.session.scalar(
        sa.select(MembershipReminder.id).where(
            MembershipReminder.membership_id == membership.id,
            MembershipReminder.kind == kind,
            MembershipReminder.ends_on == membership.ends_on,
        )
    )
    if exists:
        return None
    db.session.add(
        MembershipReminder(membership_id=membership.id, kind=kind, ends_on=membership.ends_on)
    )
    user = membership.user
    renewal_notice = membership.auto_renew and membership.failed_renewal is None
    queue_email(
        user.email,
        "members/renewal_notice" if renewal_notice else "members/reminder",
        subject=RENEWAL_NOTICE_SUBJECT if renewal_notice else REMINDER_SUBJECTS[kind],
        language=user.language,
        context={
            "membership": membership,
            "kind": kind.value,
            "tier_name": membership.tier.name(user.language),
            "days_left": (membership.ends_on - today).days,
            "grace_ends_on": dates.grace_ends_on(membership.ends_on),
            "renew_url": absolute_url("members.join_tier", slug=membership.tier.slug),
            "account_url": absolute_url("members.account"),
        },
    )
    audit.record("membership.reminded", membership, actor=ACTOR, data={"kind": kind.value})
    return kind


def handle(membership_id, today):
    """Moves and reminder for one membership, under its row lock."""
    membership = lock_membership(membership_id)
    if membership is None:
        return [], None
    moves = advance(membership, today)
    kind = remind(membership, today)
    db.session.flush()
    return moves, kind


def run(today=None, *, progress=None, commit_every=None):
    """Handle every membership that has something due; return counts of moves and reminders.

    ``progress`` wraps the list of ids (a progress bar); ``commit_every`` commits after that
    many memberships, for the command line, so a long run keeps its work if stopped.
    """
    today = today or dates.today()
    ids = due_ids(today)
    counts = {"checked": 0, "moved": 0, "reminded": 0}
    handled = 0
    iterable = progress(ids) if progress is not None else ids
    for membership_id in iterable:
        moves, kind = handle(membership_id, today)
        counts["checked"] += 1
        counts["moved"] += len(moves)
        counts["reminded"] += kind is not None
        handled += 1
        if commit_every and handled % commit_every == 0:
            db.session.commit()
    return counts
