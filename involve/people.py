"""A person's Take Action signatures, comments and volunteer sign-ups, in their record.

Erasing removes what is only theirs (comments, volunteer sign-ups, signatures whose
letter has not gone yet) and anonymises the signatures already delivered, so that a
campaign's count of letters sent stays true.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from core import cache
from core.db import db
from core.people import Column, Provider, Section, matches, search_rows, update_rows
from involve.caching import CAMPAIGNS, COMMENTS
from involve.forms import AVAILABILITY, INTERESTS, LANGUAGES
from involve.models import Campaign, Comment, Signature, SignatureStatus, Volunteer

SIGNATURE_STATUS_LABELS = {
    "pending": _l("Waiting for confirmation"),
    "confirmed": _l("Confirmed"),
}
COMMENT_STATUS_LABELS = {
    "pending": _l("Waiting for moderation"),
    "approved": _l("Published"),
    "rejected": _l("Not published"),
    "spam": _l("Spam"),
}
#: A volunteer's languages, interests and availability, as the sign-up form says them.
CHOICE_LABELS = {choice.value: choice.label for choice in LANGUAGES + INTERESTS + AVAILABILITY}

SIGNATURES = [
    Column("campaign", _l("Campaign")),
    Column("status", _l("Status"), labels=SIGNATURE_STATUS_LABELS),
    Column("name", _l("Name")),
    Column("email", _l("Email")),
    Column("postal_code", _l("Postal code")),
    Column("personal_message", _l("Personal message"), detail=True),
    Column("news_consent", _l("News by email"), "bool"),
    Column("created_at", _l("Signed"), "datetime"),
    Column("confirmed_at", _l("Confirmed"), "datetime"),
    Column("delivered_at", _l("Letter sent"), "datetime"),
]

COMMENTS_COLUMNS = [
    Column("id", _l("Number")),
    Column("on", _l("On")),
    Column("status", _l("Status"), labels=COMMENT_STATUS_LABELS),
    Column("name", _l("Name")),
    Column("email", _l("Email")),
    Column("body", _l("Comment"), detail=True),
    Column("created_at", _l("Written"), "datetime"),
]

VOLUNTEERS = [
    Column("id", _l("Number")),
    Column("name", _l("Name")),
    Column("email", _l("Email")),
    Column("phone", _l("Phone")),
    Column("languages", _l("Languages"), "list", labels=CHOICE_LABELS),
    Column("interests", _l("Interests"), "list", labels=CHOICE_LABELS),
    Column("availability", _l("Availability"), "list", labels=CHOICE_LABELS),
    Column("message", _l("Message"), detail=True),
    Column("news_consent", _l("News by email"), "bool"),
    Column("created_at", _l("Signed up"), "datetime"),
]


def _signatures(person):
    return db.session.scalars(
        sa.select(Signature)
        .where(matches(Signature.email, person))
        .options(joinedload(Signature.campaign))
        .order_by(Signature.id.desc())
    ).all()


def _row(obj, columns, **extra):
    return {c.key: getattr(obj, c.key) for c in columns if c.key not in extra} | extra


def sections(person):
    comments = db.session.scalars(
        sa.select(Comment)
        .where(matches(Comment.email, person))
        .options(joinedload(Comment.page), joinedload(Comment.campaign))
        .order_by(Comment.id.desc())
    ).all()
    volunteers = db.session.scalars(
        sa.select(Volunteer).where(matches(Volunteer.email, person)).order_by(Volunteer.id.desc())
    ).all()
    return [
        Section(
            "signatures",
            _l("Take Action signatures"),
            SIGNATURES,
            [_row(s, SIGNATURES, campaign=s.campaign.title_en) for s in _signatures(person)],
        ),
        Section(
            "volunteers",
            _l("Volunteering"),
            VOLUNTEERS,
            [_row(v, VOLUNTEERS) for v in volunteers],
        ),
        Section(
            "comments",
            _l("Comments"),
            COMMENTS_COLUMNS,
            [_row(c, COMMENTS_COLUMNS, on=c.target.title_en) for c in comments],
        ),
    ]


def search(term, limit):
    found = []
    for model in (Signature, Volunteer, Comment):
        found.extend(search_rows(term, limit, model.email, model.name))
    return found


def _uncount(signature):
    """A confirmed signature that goes no longer counts on its campaign."""
    if signature.status == SignatureStatus.confirmed:
        db.session.execute(
            sa.update(Campaign)
            .where(Campaign.id == signature.campaign_id)
            .values(signature_count=Campaign.signature_count - 1)
        )
        cache.changed(CAMPAIGNS)


def erase(person, placeholder):
    removed = anonymised = 0
    for signature in _signatures(person):
        if signature.delivered_at is None:
            _uncount(signature)
            db.session.delete(signature)
            removed += 1
        else:
            signature.name = ""
            signature.email = placeholder
            signature.postal_code = ""
            signature.personal_message = ""
            anonymised += 1
    comments = db.session.execute(sa.delete(Comment).where(matches(Comment.email, person))).rowcount
    if comments:
        cache.changed(COMMENTS)
    volunteers = db.session.execute(
        sa.delete(Volunteer).where(matches(Volunteer.email, person))
    ).rowcount
    return {
        "signatures_removed": removed,
        "signatures_anonymised": anonymised,
        "comments": comments,
        "volunteers": volunteers,
    }


def merge(source, target):
    signed = {s.campaign_id for s in _signatures(target)}
    signatures = 0
    for signature in _signatures(source):
        if signature.campaign_id in signed:
            # One person, one signature: A's stays, and B's no longer counts.
            _uncount(signature)
            db.session.delete(signature)
        else:
            signature.email = target.email
            signed.add(signature.campaign_id)
            signatures += 1
    db.session.flush()
    comments = update_rows(Comment, matches(Comment.email, source), email=target.email)
    volunteers = update_rows(Volunteer, matches(Volunteer.email, source), email=target.email)
    return {"signatures": signatures, "comments": comments, "volunteers": volunteers}


provider = Provider(
    "involve",
    sections,
    search=search,
    erase=erase,
    merge=merge,
    order=40,
)
