"""Periodic work: letters to their recipients, and the moderators' digest.

Both are worker tasks and CLI commands, and both are safe to run twice or at once on
two machines: a letter or a comment is marked in the same transaction that puts its
email in the outbox, and the rows are claimed with ``SKIP LOCKED`` on PostgreSQL.
"""

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import clock
from core.accounts.models import Role, User
from core.db import db, is_postgres
from core.mail.services import queue_email
from core.urls import absolute_url
from involve.models import (
    Campaign,
    Comment,
    CommentStatus,
    DeliveryMethod,
    Signature,
    SignatureStatus,
)

DIGEST_EVERY = timedelta(days=1)


def _claim(query):
    query = query.with_for_update(skip_locked=True) if is_postgres() else query
    return db.session.scalars(query.execution_options(populate_existing=True)).all()


def _undelivered(campaign_id):
    return sa.select(Signature).where(
        Signature.campaign_id == campaign_id,
        Signature.status == SignatureStatus.confirmed,
        Signature.delivered_at.is_(None),
    )


def deliver_letters():
    """Put the letters that are due in the outbox; return how many letters went.

    By email: each confirmed letter once, no more than the campaign's letters per hour.
    By digest: every undelivered letter in one email, at most once a day. Campaigns
    delivered by hand (PDF) are left to staff.
    """
    waiting = (
        sa.select(Campaign.id)
        .where(
            Campaign.delivery.in_([DeliveryMethod.email, DeliveryMethod.digest]),
            Campaign.recipient_email.is_not(None),
            Campaign.recipient_email != "",
            sa.exists(_undelivered(Campaign.id)),
        )
        .order_by(Campaign.id)
    )
    sent = 0
    for campaign_id in db.session.scalars(waiting).all():
        # One worker per campaign at a time: the hourly allowance is counted under this lock.
        [campaign] = _claim(sa.select(Campaign).where(Campaign.id == campaign_id)) or [None]
        if campaign is None:
            continue
        if campaign.delivery == DeliveryMethod.email:
            sent += _email_letters(campaign)
        else:
            sent += _digest_letters(campaign)
        db.session.flush()
    return sent


def _email_letters(campaign):
    now = clock.now()
    sent_this_hour = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Signature)
        .where(
            Signature.campaign_id == campaign.id,
            Signature.delivered_at > now - timedelta(hours=1),
        )
    )
    allowance = campaign.letters_per_hour - sent_this_hour
    if allowance <= 0:
        return 0
    letters = _claim(
        _undelivered(campaign.id).order_by(Signature.confirmed_at, Signature.id).limit(allowance)
    )
    for signature in letters:
        queue_email(
            campaign.recipient_email,
            "involve/letter",
            subject=campaign.text("title", signature.language),
            language=signature.language,
            context={"campaign": campaign, "signature": signature},
        )
        signature.delivered_at = now
    return len(letters)


def _digest_letters(campaign):
    now = clock.now()
    if campaign.last_digest_at is not None and now - campaign.last_digest_at < DIGEST_EVERY:
        return 0
    letters = _claim(_undelivered(campaign.id).order_by(Signature.confirmed_at, Signature.id))
    if not letters:
        return 0
    language = campaign.recipient_language
    queue_email(
        campaign.recipient_email,
        "involve/letters_digest",
        subject=_l("Letters from supporters: %(title)s", title=campaign.text("title", language)),
        language=language,
        context={"campaign": campaign, "letters": letters},
    )
    for signature in letters:
        signature.delivered_at = now
    campaign.last_digest_at = now
    return len(letters)


def moderators():
    """Who gets the digest: the moderators, or the admins where there is no moderator."""
    for role in (Role.moderator, Role.admin):
        people = db.session.scalars(
            sa.select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
        ).all()
        if people:
            return people
    return []


def send_moderation_digest():
    """Email the moderators the comments that came in since the last digest.

    Returns how many new comments it listed (0: nothing was sent).
    """
    new = _claim(
        sa.select(Comment)
        .where(Comment.status == CommentStatus.pending, Comment.digested_at.is_(None))
        .order_by(Comment.id)
    )
    if not new:
        return 0
    waiting = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Comment)
        .where(Comment.status == CommentStatus.pending)
    )
    url = absolute_url("involve.moderation")
    for person in moderators():
        queue_email(
            person.email,
            "involve/moderation_digest",
            subject=_l("Comments waiting for moderation: %(count)s", count=waiting),
            language=person.language,
            context={"comments": new, "waiting": waiting, "url": url, "person": person},
        )
    now = clock.now()
    for comment in new:
        comment.digested_at = now
    db.session.flush()
    return len(new)
