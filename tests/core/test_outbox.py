"""The outbox: rendered in the recipient's language, delivered at least once, news with consent."""

from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa

from core import clock
from core.db import db
from core.mail.models import MailCategory, MailStatus, OutboxMessage
from core.mail.services import (
    claim_due,
    deliver_due,
    has_consent,
    queue_email,
    record_consent,
)
from tests.helpers import Mailbox


def queue_news(to="reader@example.org", language="en"):
    message = queue_email(
        to,
        "news",
        subject="Mondial 2026 is out",
        language=language,
        context={"body": "The new issue is out.\n\nRead it online."},
        category=MailCategory.news,
    )
    db.session.commit()
    return message.id


def test_news_carries_an_unsubscribe_link_that_works_without_signing_in(app, client, deliver):
    with app.app_context():
        record_consent(
            "reader@example.org", True, wording="Send me news", language="en", source="test"
        )
        queue_news()
    [message] = deliver().to("reader@example.org")
    assert message["List-Unsubscribe"].startswith("<http://127.0.0.1:")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [link] = [u for u in Mailbox.links(message) if "/unsubscribe/" in u]
    path = urlsplit(link).path

    page = client.get(path)
    assert page.status_code == 200
    assert "reader@example.org" in page.get_data(as_text=True)
    # The one-click POST of RFC 8058 comes from a mail client: no session, no CSRF token.
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    with app.app_context():
        assert has_consent("reader@example.org") is False


def test_preferences_page_records_consent_with_its_wording(app, client, deliver):
    with app.app_context():
        queue_news()
    [message] = deliver().to("reader@example.org")
    [link] = [u for u in Mailbox.links(message) if "/email-preferences/" in u]
    path = urlsplit(link).path
    from tests.helpers import post_form

    response = post_form(client, path, {"news": "y"})
    assert response.status_code == 302
    with app.app_context():
        from core.mail.services import current_consent

        row = current_consent("reader@example.org")
        assert row.granted and "unsubscribe at any time" in row.wording
        assert row.source == "preferences page" and row.created_at is not None


def test_a_forged_preferences_link_is_refused(client):
    assert client.get("/email-preferences/not-a-token").status_code == 400


def test_transactional_mail_has_no_unsubscribe_link(app, deliver):
    with app.app_context():
        queue_email(
            "buyer@example.org",
            "accounts/email_changed",
            subject="Changed",
            context={"user": None, "new_email": "x@example.org"},
        )
        db.session.commit()
    [message] = deliver().to("buyer@example.org")
    assert message["List-Unsubscribe"] is None
    assert "unsubscribe" not in Mailbox.text(message).lower()


def test_rendered_in_the_recipients_language(app, deliver):
    with app.app_context():
        queue_news(to="lecteur@example.org", language="fr")
    [message] = deliver().to("lecteur@example.org")
    assert message["Content-Language"] == "fr"
    assert "Se désabonner" in Mailbox.text(message)


def test_a_crash_mid_send_resends_with_the_same_message_id(app, mailbox, deliver):
    with app.app_context():
        message_id = queue_news()
        claimed = claim_due(10)  # the worker leased it ... and died before sending
        assert claimed == [message_id]
        assert deliver_due() == (0, 0)  # still leased: nobody else sends it
        clock.advance(seconds=app.config["OUTBOX_LEASE_SECONDS"] + 1)
        assert deliver_due() == (1, 0)
        row = db.session.get(OutboxMessage, message_id)
        assert row.status == MailStatus.sent and row.attempts == 2
    [message] = mailbox.messages
    with app.app_context():
        assert message["Message-ID"] == db.session.get(OutboxMessage, message_id).message_id


def test_an_unreachable_server_backs_off_and_retries(app, mailbox):
    with app.app_context():
        message_id = queue_news()
        port = app.config["MAIL_PORT"]
        app.config["MAIL_PORT"] = 1  # nothing listens there
        try:
            assert deliver_due() == (0, 1)
        finally:
            app.config["MAIL_PORT"] = port
        row = db.session.get(OutboxMessage, message_id)
        assert row.status == MailStatus.pending and "ConnectionRefused" in row.last_error
        assert row.next_attempt_at > clock.now()
        assert deliver_due() == (0, 0)  # not due yet
        clock.advance(minutes=2)
        assert deliver_due() == (1, 0)
    assert len(mailbox.messages) == 1


def test_gives_up_after_the_last_attempt(app):
    with app.app_context():
        message_id = queue_news()
        port, app.config["MAIL_PORT"] = app.config["MAIL_PORT"], 1
        try:
            for _ in range(app.config["OUTBOX_MAX_ATTEMPTS"]):
                deliver_due()
                clock.advance(hours=7)
        finally:
            app.config["MAIL_PORT"] = port
        assert db.session.get(OutboxMessage, message_id).status == MailStatus.failed


def test_outbox_rows_roll_back_with_their_transaction(app):
    with app.app_context():
        queue_email("x@example.org", "news", subject="s", context={"body": "b"})
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_send_once_command(app, mailbox):
    with app.app_context():
        for n in range(3):
            queue_news(to=f"r{n}@example.org")
    result = app.test_cli_runner().invoke(args=["outbox", "send-once"])
    assert result.exit_code == 0, result.output
    assert "Sent 3, failed 0." in result.output
    assert len(mailbox.messages) == 3


def test_retry_delay_grows():
    from core.mail.services import _retry_delay

    delays = [_retry_delay(n) for n in range(1, 12)]
    assert delays == sorted(delays)
    assert delays[0] == timedelta(minutes=1) and delays[-1] == timedelta(hours=6)
