"""The emails sent to a person and their consents to news, as part of their record.

Both are facts about an address: merging leaves them with it (core.people keeps the
address as an alias of the record), and only erasing touches them.
"""

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core.db import db
from core.mail.models import EmailConsent, OutboxMessage
from core.mail.services import record_consent
from core.people import Column, Provider, Section, like, matches, update_rows

STATUS_LABELS = {
    "pending": _l("Waiting"),
    "sending": _l("Being sent"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}
CATEGORY_LABELS = {"transactional": _l("Transactional"), "news": _l("News")}
TOPIC_LABELS = {"news": _l("News")}

OUTBOX = [
    Column("id", _l("Number")),
    Column("to_addr", _l("To")),
    Column("subject", _l("Subject")),
    Column("template", _l("Kind")),
    Column("category", _l("Category"), labels=CATEGORY_LABELS),
    Column("status", _l("Status"), labels=STATUS_LABELS),
    Column("created_at", _l("Written"), "datetime"),
    Column("sent_at", _l("Sent"), "datetime"),
    Column("text_body", _l("Text"), "text", detail=True),
]

CONSENTS = [
    Column("id", _l("Number")),
    Column("email", _l("Email")),
    Column("topic", _l("Topic"), labels=TOPIC_LABELS),
    Column("granted", _l("Consents"), "bool"),
    Column("wording", _l("Wording"), detail=True),
    Column("language", _l("Language"), labels={"en": _l("English"), "fr": _l("French")}),
    Column("source", _l("Where")),
    Column("created_at", _l("When"), "datetime"),
]


def _row(obj, columns):
    return {column.key: getattr(obj, column.key) for column in columns}


def sections(person):
    sent = db.session.scalars(
        sa.select(OutboxMessage)
        .where(matches(OutboxMessage.to_addr, person))
        .order_by(OutboxMessage.id.desc())
    ).all()
    consents = db.session.scalars(
        sa.select(EmailConsent)
        .where(matches(EmailConsent.email, person))
        .order_by(EmailConsent.id.desc())
    ).all()
    return [
        Section(
            "consents",
            _l("Consents to news emails"),
            CONSENTS,
            [_row(c, CONSENTS) for c in consents],
        ),
        Section("outbox", _l("Emails sent"), OUTBOX, [_row(m, OUTBOX) for m in sent]),
    ]


#: What of an email to someone else may name the person (an invitation from them, say).
WORDING = ("subject", "text_body", "html_body")


def _others_mentioning(person):
    """Emails to other people that hold one of the person's addresses."""
    return db.session.scalars(
        sa.select(OutboxMessage).where(
            sa.or_(
                *(
                    sa.func.lower(getattr(OutboxMessage, column)).like(like(email))
                    for column in WORDING
                    for email in person.emails
                )
            )
        )
    ).all()


def erase(person, placeholder):
    # Nothing more will be sent; a consent's proof is kept without the address it was for.
    messages = db.session.execute(
        sa.delete(OutboxMessage).where(matches(OutboxMessage.to_addr, person))
    ).rowcount
    # An email to someone else keeps what it said, under the placeholder address.
    mention = re.compile("|".join(map(re.escape, person.emails)), re.IGNORECASE)
    mentions = 0
    for message in _others_mentioning(person):
        for column in WORDING:
            setattr(message, column, mention.sub(placeholder, getattr(message, column)))
        mentions += 1
    topics = db.session.scalars(
        sa.select(EmailConsent.topic).where(matches(EmailConsent.email, person)).distinct()
    ).all()
    consents = update_rows(EmailConsent, matches(EmailConsent.email, person), email=placeholder)
    # The placeholder's last word is no: it is on no list, nor counted as a subscriber.
    for topic in topics:
        record_consent(placeholder, False, wording="", language="en", source="erasure", topic=topic)
    return {"emails": messages, "emails_to_others": mentions, "consents": consents}


provider = Provider("mail", sections, erase=erase, order=90)
