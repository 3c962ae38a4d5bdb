"""Writing emails to the outbox and delivering them.

Delivery is at least once: a message is leased before it is sent and marked sent after;
if the worker dies between the two, the lease runs out and the message is sent again,
with the same ``Message-ID`` so that mail clients can fold the copies together.
"""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from core import clock
from core.db import db, is_postgres
from core.errors import ValidationError
from core.mail.backends import backend_for
from core.mail.models import EmailConsent, MailCategory, MailStatus, OutboxAttachment, OutboxMessage
from core.tokens import make_token, read_token
from core.urls import absolute_url
from core.validators import has_control_characters, normalise_email

log = logging.getLogger(__name__)

NEWS = "news"


class UnsafeHeader(ValidationError):
    """A header value that would end a header early: refused before it reaches the outbox."""

    code = "unsafe_email_header"
    default_message = _l(
        "This email cannot be sent: a header holds a line break or control character."
    )


def _check_header(name, value):
    text = str(value)
    if has_control_characters(text):
        raise UnsafeHeader(
            _l(
                "This email cannot be sent: a line break or control character is in its "
                "%(header)s.",
                header=name,
            ),
            field=name,
        )
    return text


def preferences_token(email):
    return make_token("email-preferences", normalise_email(email))


def email_from_preferences_token(token):
    return read_token("email-preferences", token)


@dataclass(frozen=True)
class DrawnAttachment:
    """An attachment drawn when the email is sent, by a renderer registered under ``renderer``."""

    filename: str
    content_type: str
    renderer: str
    params: dict = field(default_factory=dict)


def register_attachment(app, name, render):
    """Let emails carry attachments drawn at send time by ``render(**params)`` (bytes)."""
    app.extensions.setdefault("mail_attachments", {})[name] = render


def _outbox_attachment(attachment):
    if isinstance(attachment, DrawnAttachment):
        return OutboxAttachment(
            filename=attachment.filename,
            content_type=attachment.content_type,
            renderer=attachment.renderer,
            params=dict(attachment.params),
        )
    name, ctype, content = attachment
    return OutboxAttachment(filename=name, content_type=ctype, content=content)


def _content(attachment):
    if attachment.renderer is None:
        return attachment.content
    render = current_app.extensions.get("mail_attachments", {}).get(attachment.renderer)
    if render is None:
        raise LookupError(f"no renderer {attachment.renderer!r} for {attachment.filename}")
    return render(**(attachment.params or {}))


def queue_email(
    to,
    template,
    *,
    subject,
    language="en",
    context=None,
    category=MailCategory.transactional,
    attachments=(),
    flush=True,
    reply_to=None,
):
    r"""Render ``email/<template>.txt`` and ``.html`` in ``language`` and add them to the outbox.

    ``subject`` may be a lazy string; it is rendered in the recipient's language.
    ``attachments`` are ``(filename, content_type, bytes)`` triples, or
    :class:`DrawnAttachment`\s that the worker draws when it sends the email. ``flush=False``
    leaves the row to the next flush, so that thousands of emails queued at once (an import)
    are written in a few statements rather than one round trip each.

    Raises :class:`UnsafeHeader` when the address, the subject, ``reply_to`` or a file
    name holds a line break or another control character: such a message could never
    be sent (or would carry headers nobody wrote), so it is refused now, not at send time.
    """
    to = normalise_email(_check_header("To", to))
    if "@" not in to or any(sep in to for sep in ",; "):
        raise UnsafeHeader(
            _l("This email cannot be sent: %(to)s is not one address.", to=to), field="To"
        )
    context = dict(context or {})
    headers = {}
    if reply_to:
        headers["Reply-To"] = _check_header("Reply-To", reply_to)
    language = language if language in current_app.config["LANGUAGES"] else "en"
    if category == MailCategory.news:
        token = preferences_token(to)
        context["unsubscribe_url"] = absolute_url("mail.unsubscribe", token=token)
        context["preferences_url"] = absolute_url("mail.preferences", token=token)
        headers["List-Unsubscribe"] = f"<{context['unsubscribe_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    with force_locale(language):
        context.setdefault("org_name", current_app.config["ORG_NAME"])
        context.setdefault("base_url", current_app.config["BASE_URL"])
        context["subject"] = str(subject)
        text = render_template(f"email/{template}.txt", **context)
        html = render_template(f"email/{template}.html", **context)
        subject = _check_header("Subject", subject)
    for name, value in headers.items():
        _check_header(name, value)
    for attachment in attachments:
        filename = attachment.filename if isinstance(attachment, DrawnAttachment) else attachment[0]
        _check_header("attachment name", filename)
    domain = current_app.config["BASE_URL"].split("//", 1)[-1].split("/", 1)[0].split(":")[0]
    message = OutboxMessage(
        message_id=make_msgid(idstring=uuid.uuid4().hex[:12], domain=domain or "localhost"),
        to_addr=to,
        subject=subject,
        text_body=text,
        html_body=html,
        headers=headers,
        category=category,
        template=template,
        language=language,
        next_attempt_at=clock.now(),
        attachments=[_outbox_attachment(a) for a in attachments],
    )
    db.session.add(message)
    if flush:
        db.session.flush()
    return message


def build_message(row, sender):
    """The :class:`EmailMessage` for an outbox row; the same bytes on every attempt."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_addr
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id
    message["Date"] = format_datetime(row.created_at)
    for name, value in (row.headers or {}).items():
        message[name] = value
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    message["Content-Language"] = row.language  # after set_content, which drops Content-*
    for attachment in row.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            _content(attachment), maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


def _retry_delay(attempts):
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def claim_due(limit):
    """Lease up to ``limit`` messages that are due, skipping rows another worker holds."""
    now = clock.now()
    due = sa.or_(
        sa.and_(OutboxMessage.status == MailStatus.pending, OutboxMessage.next_attempt_at <= now),
        # A lease that ran out means a worker died mid-send: send again.
        sa.and_(OutboxMessage.status == MailStatus.sending, OutboxMessage.lease_until < now),
    )
    query = sa.select(OutboxMessage).where(due).order_by(OutboxMessage.id).limit(limit)
    if is_postgres():
        query = query.with_for_update(skip_locked=True)
    rows = db.session.scalars(query).all()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    for row in rows:
        row.status = MailStatus.sending
        row.lease_until = now + lease
        row.attempts += 1
    ids = [row.id for row in rows]
    db.session.commit()
    return ids


def deliver_due(limit=None):
    """Send what is due; return ``(sent, failed)`` counts. Commits after each message."""
    limit = limit or current_app.config["OUTBOX_BATCH"]
    ids = claim_due(limit)
    if not ids:
        return 0, 0
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    sent = failed = 0
    try:
        with backend_for(current_app.config) as backend:
            for message_id in ids:
                row = db.session.get(OutboxMessage, message_id)
                try:
                    backend.send(build_message(row, sender))
                except Exception as error:  # one bad message must not stop the rest
                    _failed(row, error)
                    failed += 1
                else:
                    row.status = MailStatus.sent
                    row.sent_at = clock.now()
                    row.lease_until = None
                    row.last_error = None
                    sent += 1
                db.session.commit()
    except OSError as error:  # the server is unreachable: put back what was not sent
        db.session.rollback()
        for message_id in ids:
            row = db.session.get(OutboxMessage, message_id)
            if row.status == MailStatus.sending:
                _failed(row, error)
                failed += 1
        db.session.commit()
    return sent, failed


def _failed(row, error):
    log.warning("Email %s to %s failed: %s", row.id, row.to_addr, error)
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    row.lease_until = None
    if row.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        row.status = MailStatus.failed
    else:
        row.status = MailStatus.pending
        row.next_attempt_at = clock.now() + _retry_delay(row.attempts)


def current_consent(email, topic=NEWS):
    """The newest consent row for an address and topic, or None if never asked."""
    return db.session.scalars(
        sa.select(EmailConsent)
        .where(EmailConsent.email == normalise_email(email), EmailConsent.topic == topic)
        .order_by(EmailConsent.id.desc())
        .limit(1)
    ).first()


def has_consent(email, topic=NEWS):
    row = current_consent(email, topic)
    return bool(row and row.granted)


def record_consent(email, granted, *, wording, language, source, topic=NEWS):
    """Add a consent change with the exact words the person saw."""
    row = EmailConsent(
        email=normalise_email(email),
        topic=topic,
        granted=bool(granted),
        wording=str(wording),
        language=language,
        source=source,
    )
    db.session.add(row)
    db.session.flush()
    return row
