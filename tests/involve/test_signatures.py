"""Take Action: who may sign, when a signature counts, and how letters reach the recipient."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from core import clock
from core.db import db
from core.mail.models import EmailConsent, OutboxMessage
from involve.models import Campaign, DeliveryMethod, Signature, SignatureStatus
from tests.helpers import Mailbox, post_form
from tests.involve_fixtures import confirm_link, sign


def count_of(app, slug="test-campaign"):
    with app.app_context():
        return db.session.scalar(sa.select(Campaign.signature_count).where(Campaign.slug == slug))


def confirm(client, link):
    """Open the link, then press the button (its CSRF token is the session's)."""
    path = urlsplit(link).path
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    return post_form(client, path, {}, token_from=path.split("/confirm/")[0])


def test_a_signature_counts_only_once_the_email_is_confirmed(app, client, make_campaign, deliver):
    make_campaign()
    response = sign(client, "test-campaign")
    assert response.status_code == 303
    assert response.location.endswith("/take-action/test-campaign#sign")
    page = client.get("/take-action/test-campaign").get_data(as_text=True)
    assert "we have sent a link to lea@example.org" in page
    assert count_of(app) == 0
    assert 'id="signature-count">0 signatures<' in page

    [message] = deliver().to("lea@example.org")
    assert message["Subject"] == "Please confirm your signature"
    done = confirm(client, confirm_link(message))
    assert done.status_code == 303
    assert count_of(app) == 1
    page = client.get("/take-action/test-campaign").get_data(as_text=True)
    assert "your signature is confirmed and counted" in page
    assert 'id="signature-count">1 signature<' in page
    with app.app_context():
        signature = db.session.scalar(sa.select(Signature))
        assert signature.status == SignatureStatus.confirmed
        assert signature.postal_code == "H2X 1Y4"  # typed in lower case without the space


def test_confirming_twice_counts_once(app, client, make_campaign, deliver):
    make_campaign()
    sign(client, "test-campaign")
    link = confirm_link(deliver().to("lea@example.org")[0])
    confirm(client, link)
    assert "already confirmed" in client.get(urlsplit(link).path).get_data(as_text=True)
    again = confirm(client, link)  # the button pressed again from a page left open
    assert again.status_code == 303
    assert "already confirmed" in client.get(again.location).get_data(as_text=True)
    assert count_of(app) == 1


def test_a_second_signature_with_the_same_email_is_refused_politely(
    app, client, make_campaign, deliver, mailbox
):
    make_campaign()
    sign(client, "test-campaign")
    confirm(client, confirm_link(deliver().to("lea@example.org")[0]))
    deliver()  # the thank-you
    mailbox.clear()
    clock.advance(hours=2)

    other = app.test_client()  # another browser, the same person, the address typed differently
    response = sign(other, "test-campaign", email=" LEA@example.org ", name="Lea T.")
    assert response.status_code == 303
    # The page tells everyone the same thing: whether an address signed is told only to it.
    assert "we have sent a link" in other.get(response.location).get_data(as_text=True)
    [message] = deliver().to("lea@example.org")
    assert message["Subject"] == "You have already signed this letter"
    assert "each person's signature counts once" in Mailbox.text(message)
    assert not [u for u in Mailbox.links(message) if "/confirm/" in u]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 1
        assert db.session.scalar(sa.select(Signature.name)) == "Léa Tremblay"  # unchanged
    assert count_of(app) == 1


def test_signing_again_before_confirming_updates_it_and_sends_a_new_link(
    app, client, make_campaign, deliver, mailbox
):
    make_campaign()
    sign(client, "test-campaign", name="Lea Tremblay")
    first = deliver().to("lea@example.org")
    mailbox.clear()
    clock.advance(minutes=11)
    sign(client, "test-campaign", name="Léa Tremblay", personal_message="Ma voix compte.")
    second = deliver().to("lea@example.org")
    assert len(first) == len(second) == 1
    with app.app_context():
        signature = db.session.scalar(sa.select(Signature))
        assert (signature.name, signature.personal_message) == ("Léa Tremblay", "Ma voix compte.")
    confirm(client, confirm_link(second[0]))
    assert count_of(app) == 1


def test_repeated_signing_does_not_flood_someone_elses_inbox(app, client, make_campaign, deliver):
    make_campaign()
    for _ in range(3):
        assert sign(client, "test-campaign", email="stranger@example.org").status_code == 303
    assert len(deliver().to("stranger@example.org")) == 1


def test_a_closed_campaign_refuses_signatures_and_shows_its_result(app, client, make_campaign):
    today = clock.now().date()
    make_campaign(
        starts_on=today - timedelta(days=60),
        ends_on=today - timedelta(days=30),
        result_en="The letter was **delivered**.",
    )
    page = client.get("/take-action/test-campaign").get_data(as_text=True)
    assert "The result" in page and "<strong>delivered</strong>" in page
    assert 'id="sign-submit"' not in page
    response = sign(client, "test-campaign")
    assert response.status_code == 409
    assert "This campaign is closed and no longer takes signatures." in response.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0


def test_a_campaign_that_closes_before_the_link_is_opened_does_not_count_it(
    app, client, make_campaign, deliver
):
    make_campaign(ends_on=clock.now().date() + timedelta(days=1))
    sign(client, "test-campaign")
    link = confirm_link(deliver().to("lea@example.org")[0])
    clock.advance(days=3)
    path = urlsplit(link).path
    response = post_form(client, path, {}, token_from="/take-action/test-campaign")
    assert response.status_code == 409
    assert count_of(app) == 0


def test_an_upcoming_campaign_takes_no_signature_yet(app, client, make_campaign):
    today = clock.now().date()
    make_campaign(starts_on=today + timedelta(days=5), ends_on=today + timedelta(days=20))
    assert "opens on" in client.get("/take-action/test-campaign").get_data(as_text=True)
    assert sign(client, "test-campaign").status_code == 409


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postal_code", "12345", "Please enter a Canadian postal code such as K1A 0B1."),
        ("postal_code", "D1A 0B1", "Please enter a Canadian postal code such as K1A 0B1."),
        ("postal_code", "", "Please enter your postal code."),
        ("email", "not-an-email", "Please enter a valid email address."),
        ("name", "   ", "Please enter your name."),
        ("personal_message", "x" * 2001, "Please keep to 2000 characters."),
    ],
)
def test_bad_input_gets_a_clear_message_and_a_400(
    app, client, make_campaign, field, value, message
):
    make_campaign()
    response = sign(client, "test-campaign", **{field: value})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0


def test_a_tampered_or_foreign_link_is_refused(app, client, make_campaign, deliver):
    make_campaign()
    make_campaign(slug="other-campaign")
    sign(client, "test-campaign")
    path = urlsplit(confirm_link(deliver().to("lea@example.org")[0])).path
    assert client.get(path[:-3] + "abc").status_code == 400
    assert client.get(path.replace("test-campaign", "other-campaign")).status_code == 400


def test_the_robot_that_fills_the_hidden_field_signs_nothing(app, client, make_campaign, deliver):
    make_campaign()
    response = sign(client, "test-campaign", website="http://spam.example")
    assert response.status_code == 303  # told the same as a person, so it learns nothing
    assert deliver().messages == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0


def test_consent_to_news_is_recorded_once_the_email_is_confirmed(
    app, client, make_campaign, deliver, mailbox
):
    from core.mail.services import has_consent

    make_campaign()
    post_form(
        client,
        "/take-action/test-campaign?lang=fr",
        {"name": "Léa", "email": "lea@example.org", "postal_code": "H2X 1Y4", "news_consent": "y"},
    )
    with app.app_context():
        assert not has_consent("lea@example.org")
    [message] = deliver().to("lea@example.org")
    assert message["Subject"] == "Veuillez confirmer votre signature"
    mailbox.clear()
    confirm(client, confirm_link(message))
    with app.app_context():
        signature = db.session.scalar(sa.select(Signature))
        consent = db.session.get(EmailConsent, signature.consent_id)
        assert consent.granted and consent.language == "fr"
        assert consent.wording.startswith("Oui, envoyez-moi des nouvelles")
        assert consent.source == "take action: test-campaign"
    [thanks] = deliver().to("lea@example.org")
    assert [u for u in Mailbox.links(thanks) if "/unsubscribe/" in u]


# -- delivery -------------------------------------------------------------------------------


def confirmed_signatures(app, campaign_id, count, start=0):
    """Signatures confirmed through the service, as the link would."""
    from involve import services

    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        for n in range(start, start + count):
            signature = services.sign_campaign(
                campaign,
                services.SignRequest(
                    name=f"Signer {n}",
                    email=f"signer{n}@example.org",
                    postal_code="K1A 0B1",
                    personal_message=f"Paragraph {n}" if n % 2 else "",
                    language="fr" if n % 3 == 0 else "en",
                ),
            )
            services.confirm_signature(signature)
        db.session.commit()


def run_command(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_email_delivery_sends_each_confirmed_letter_once_even_if_run_twice(
    app, make_campaign, deliver, mailbox
):
    campaign_id = make_campaign(delivery=DeliveryMethod.email, letters_per_hour=100)
    confirmed_signatures(app, campaign_id, 3)
    deliver()
    mailbox.clear()
    # One more signs without confirming: that letter must not go.
    from involve import services

    with app.app_context():
        services.sign_campaign(
            db.session.get(Campaign, campaign_id),
            services.SignRequest(name="Unsure", email="unsure@example.org", postal_code="K1A0B1"),
        )
        db.session.commit()
    deliver()
    mailbox.clear()

    assert "Letters queued: 3." in run_command(app, "involve", "send-letters")
    assert "Letters queued: 0." in run_command(app, "involve", "send-letters")
    letters = deliver().to("pm@example.org")
    assert len(letters) == 3
    assert deliver().to("pm@example.org") == letters  # nothing more on a second outbox run
    texts = sorted(Mailbox.text(m) for m in letters)
    assert sum("Paragraph 1" in t for t in texts) == 1
    assert any("Monsieur le Premier Ministre" in t for t in texts)  # in the signer's language
    assert not any("unsure" in t.lower() for t in texts)
    assert not any("@example.org" in t for t in texts)  # signers' addresses stay with us


def test_email_delivery_keeps_to_the_hourly_limit(app, make_campaign):
    campaign_id = make_campaign(delivery=DeliveryMethod.email, letters_per_hour=2)
    confirmed_signatures(app, campaign_id, 5)
    assert "Letters queued: 2." in run_command(app, "involve", "send-letters")
    assert "Letters queued: 0." in run_command(app, "involve", "send-letters")
    clock.advance(minutes=61)
    assert "Letters queued: 2." in run_command(app, "involve", "send-letters")
    clock.advance(minutes=61)
    assert "Letters queued: 1." in run_command(app, "involve", "send-letters")
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Signature)
                .where(Signature.delivered_at.is_(None))
            )
            == 0
        )


def test_digest_delivery_sends_one_email_a_day(app, make_campaign, deliver, mailbox):
    campaign_id = make_campaign(delivery=DeliveryMethod.digest)
    confirmed_signatures(app, campaign_id, 4)
    deliver()
    mailbox.clear()
    assert "Letters queued: 4." in run_command(app, "involve", "send-letters")
    confirmed_signatures(app, campaign_id, 2, start=4)
    assert "Letters queued: 0." in run_command(app, "involve", "send-letters")  # same day
    clock.advance(days=1, minutes=1)
    assert "Letters queued: 2." in run_command(app, "involve", "send-letters")
    deliver()
    digests = mailbox.to("pm@example.org")
    assert len(digests) == 2
    assert Mailbox.text(digests[0]).count("Postal code: K1A 0B1") == 4
    assert "Signer 5" in Mailbox.text(digests[1])


def test_pdf_campaigns_are_never_emailed(app, make_campaign, deliver, mailbox):
    campaign_id = make_campaign(delivery=DeliveryMethod.pdf)
    confirmed_signatures(app, campaign_id, 2)
    assert "Letters queued: 0." in run_command(app, "involve", "send-letters")
    deliver()
    assert mailbox.to("pm@example.org") == []


def test_the_worker_runs_letter_delivery(app, make_campaign):
    from core.worker import run_due_tasks

    campaign_id = make_campaign(letters_per_hour=10)
    confirmed_signatures(app, campaign_id, 2)
    with app.app_context():
        assert "involve.letters" in run_due_tasks()
        letters = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.to_addr == "pm@example.org")
        )
        assert letters == 2
        assert "involve.letters" not in run_due_tasks()  # not due again for ten minutes


@pytest.mark.postgres
def test_two_senders_at_once_send_each_letter_once(app, make_campaign):
    """Two workers run delivery at the same moment: the campaign lock lets only one send."""
    import threading

    from tests.helpers import POSTGRES, require

    require(POSTGRES, "PostgreSQL (TEST_DATABASE_URL)")
    from involve.delivery import deliver_letters

    campaign_id = make_campaign(letters_per_hour=1000)
    confirmed_signatures(app, campaign_id, 20)
    barrier = threading.Barrier(2)
    results = []

    def run():
        with app.app_context():
            barrier.wait()
            results.append(deliver_letters())
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results)[-1] + sorted(results)[0] == 20
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.to_addr == "pm@example.org")
            )
            == 20
        )


def test_a_member_finds_their_name_and_email_filled_in(app, client, make_campaign, make_user):
    from tests.helpers import sign_in

    make_campaign()
    _, email, password = make_user(email="mia@example.org", name="Mia Member")
    sign_in(client, email, password)
    for path in ("/take-action/test-campaign", "/volunteer"):
        page = client.get(path).get_data(as_text=True)
        assert 'value="Mia Member"' in page and 'value="mia@example.org"' in page, path
