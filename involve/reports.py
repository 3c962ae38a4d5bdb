"""Staff queries: a campaign's signatures and letters, volunteers, and the news list."""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from core import clock
from core.db import db
from core.mail.models import EmailConsent
from core.mail.services import NEWS
from involve.letters_pdf import Letter, LettersDocument
from involve.models import Campaign, Signature, SignatureStatus, Volunteer, has_code


def campaign_stats(campaign_id):
    """Signatures waiting for confirmation, confirmed, and delivered to the recipient."""
    row = db.session.execute(
        sa.select(
            sa.func.count().filter(Signature.status == SignatureStatus.pending),
            sa.func.count().filter(Signature.status == SignatureStatus.confirmed),
            sa.func.count().filter(Signature.delivered_at.is_not(None)),
        ).where(Signature.campaign_id == campaign_id)
    ).one()
    return {"pending": row[0], "confirmed": row[1], "delivered": row[2]}


def campaigns_with_stats():
    return db.session.scalars(
        sa.select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    ).all()


SIGNATURE_HEADER = [
    "id",
    "status",
    "name",
    "email",
    "postal_code",
    "language",
    "personal_message",
    "news_consent",
    "signed_at",
    "confirmed_at",
    "delivered_at",
]


def _stamp(moment):
    return clock.local(moment).isoformat(timespec="seconds") if moment else ""


def signature_rows(campaign_id):
    """Every signature of a campaign as CSV rows, read a batch at a time."""
    query = (
        sa.select(Signature)
        .where(Signature.campaign_id == campaign_id)
        .order_by(Signature.id)
        .execution_options(yield_per=500)
    )
    for signature in db.session.scalars(query):
        yield [
            signature.id,
            signature.status.value,
            signature.name,
            signature.email,
            signature.postal_code,
            signature.language,
            signature.personal_message,
            "yes" if signature.news_consent else "no",
            _stamp(signature.created_at),
            _stamp(signature.confirmed_at),
            _stamp(signature.delivered_at),
        ]


def letters_document(campaign, language):
    """Every confirmed letter of ``campaign``, ready to draw (see :mod:`involve.letters_pdf`)."""
    signatures = db.session.scalars(
        sa.select(Signature)
        .where(Signature.campaign_id == campaign.id, Signature.status == SignatureStatus.confirmed)
        .order_by(Signature.confirmed_at, Signature.id)
    )
    letters = tuple(
        Letter(
            language=s.language,
            body=campaign.text("letter", s.language),
            name=s.name,
            postal_code=s.postal_code,
            signed_on=clock.local(s.confirmed_at).date(),
            recipient_name=campaign.text("recipient_name", s.language),
            personal_message=s.personal_message,
        )
        for s in signatures
    )
    return LettersDocument(
        language=language,
        title=campaign.text("title", language),
        recipient_name=campaign.text("recipient_name", language),
        recipient_address=campaign.recipient_address,
        org_name=current_app.config["ORG_NAME"],
        prepared_on=clock.today(),
        letters=letters,
    )


# -- volunteers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VolunteerFilters:
    interest: str = ""
    language: str = ""
    availability: str = ""
    search: str = ""


def volunteers_query(filters):
    query = sa.select(Volunteer).order_by(Volunteer.created_at.desc(), Volunteer.id.desc())
    if filters.interest:
        query = query.where(has_code(Volunteer.interests, filters.interest))
    if filters.language:
        query = query.where(has_code(Volunteer.languages, filters.language))
    if filters.availability:
        query = query.where(has_code(Volunteer.availability, filters.availability))
    if filters.search:
        pattern = "%" + filters.search.strip().lower().replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(
            sa.or_(
                sa.func.lower(Volunteer.name).like(pattern, escape="\\"),
                Volunteer.email.like(pattern, escape="\\"),
            )
        )
    return query


def search_volunteers(filters, limit=500):
    return db.session.scalars(volunteers_query(filters).limit(limit)).all()


VOLUNTEER_HEADER = [
    "signed_up_at",
    "name",
    "email",
    "phone",
    "languages",
    "interests",
    "availability",
    "message",
    "language",
    "news_consent",
]


def volunteer_rows(filters):
    query = volunteers_query(filters).execution_options(yield_per=500)
    for v in db.session.scalars(query):
        yield [
            _stamp(v.created_at),
            v.name,
            v.email,
            v.phone,
            " ".join(v.languages),
            " ".join(v.interests),
            " ".join(v.availability),
            v.message,
            v.language,
            "yes" if v.news_consent else "no",
        ]


# -- the news list (CASL) --------------------------------------------------------------------


def _latest_choices(topic):
    """The id of each address's newest consent row for ``topic``."""
    return (
        sa.select(sa.func.max(EmailConsent.id).label("id"))
        .where(EmailConsent.topic == topic)
        .group_by(EmailConsent.email)
        .subquery()
    )


def news_subscribers_query(topic=NEWS):
    """Everyone whose latest word on ``topic`` is yes, with that consent's wording.

    The consent log keeps every change, so one unsubscribe (from any email, or the
    preferences page) is the newest row and takes the person off, whichever form
    (donate, join, sign, volunteer) they agreed on.
    """
    latest = _latest_choices(topic)
    return (
        sa.select(EmailConsent)
        .join(latest, EmailConsent.id == latest.c.id)
        .where(EmailConsent.granted.is_(True))
        .order_by(EmailConsent.email)
    )


def news_subscribers(limit=None):
    query = news_subscribers_query()
    if limit:
        query = query.limit(limit)
    return db.session.scalars(query).all()


def news_subscriber_count():
    latest = _latest_choices(NEWS)
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(EmailConsent)
        .join(latest, EmailConsent.id == latest.c.id)
        .where(EmailConsent.granted.is_(True))
    )


NEWS_HEADER = ["email", "language", "agreed_at", "source", "wording"]


def news_rows():
    for consent in db.session.scalars(news_subscribers_query().execution_options(yield_per=500)):
        yield [
            consent.email,
            consent.language,
            _stamp(consent.created_at),
            consent.source,
            consent.wording,
        ]


def export_stamp():
    return clock.local(clock.now()).strftime("%Y-%m-%d")
