"""Volunteers, the staff screens and exports, and the one news list (CASL)."""

import csv
import html
import io
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from core import clock
from core.db import db
from core.mail.services import record_consent
from involve.models import Campaign, ContentPage, Volunteer
from tests.helpers import Mailbox, csrf_token, post_form, sign_in
from tests.involve_fixtures import confirm_link, sign


def volunteer(client, path="/volunteer", **overrides):
    data = {
        "name": "Nadia Haddad",
        "email": "nadia@example.org",
        "phone": "613 555 0199",
        "languages": ["fr", "en"],
        "interests": ["translation", "events"],
        "availability": ["evenings"],
        "message": "I translate for a living.",
        **overrides,
    }
    return post_form(client, path, data, token_from="/volunteer")


def read_csv(response):
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_a_volunteer_signs_up_and_is_thanked_by_email(app, client, deliver):
    response = volunteer(client)
    assert response.status_code == 303 and response.location.endswith("/volunteer/thanks")
    assert "Thank you for volunteering" in client.get(response.location).get_data(as_text=True)
    [thanks] = deliver().to("nadia@example.org")
    assert thanks["Subject"] == "Thank you for volunteering"
    assert not [u for u in Mailbox.links(thanks) if "/unsubscribe/" in u]  # no news asked for
    with app.app_context():
        row = db.session.scalar(sa.select(Volunteer))
        assert (row.languages, row.interests, row.availability) == (
            ["fr", "en"],
            ["translation", "events"],
            ["evenings"],
        )


def test_the_volunteer_form_in_french_with_its_errors(app, client):
    response = volunteer(
        client, path="/volunteer?lang=fr", languages=[], interests=[], email="pas-une-adresse"
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for message in (
        "Veuillez choisir au moins une langue.",
        "Veuillez choisir au moins une façon d’aider.",
        "Veuillez entrer une adresse courriel valide.",
    ):
        assert message in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Volunteer)) == 0


def test_an_unknown_choice_is_refused_in_the_visitors_language(app, client):
    response = volunteer(client, path="/volunteer?lang=fr", interests=["events", "drive-a-tank"])
    assert response.status_code == 400
    assert "n'est pas un choix valide" in html.unescape(response.get_data(as_text=True))


def test_staff_filter_volunteers_and_export_them_safely(app, client, signed_in):
    volunteer(client)
    volunteer(
        client,
        name='=HYPERLINK("http://evil.example")',
        email="other@example.org",
        languages=["en"],
        interests=["writing"],
        availability=["weekends"],
        message="+1 for peace",
    )
    admin = signed_in("admin")
    page = admin.get("/admin/volunteers?interest=translation").get_data(as_text=True)
    assert "Nadia Haddad" in page and "other@example.org" not in page
    page = admin.get("/admin/volunteers?language=en&availability=weekends").get_data(as_text=True)
    assert "other@example.org" in page and "Nadia Haddad" not in page
    assert "Nadia" in admin.get("/admin/volunteers?search=NADIA").get_data(as_text=True)
    assert admin.get("/admin/volunteers?interest=tanks").status_code == 400

    rows = read_csv(admin.get("/admin/volunteers.csv?interest=writing"))
    assert rows[0][:3] == ["signed_up_at", "name", "email"]
    [row] = rows[1:]
    assert row[1] == '\'=HYPERLINK("http://evil.example")'  # inert in a spreadsheet
    assert row[7] == "'+1 for peace"
    assert len(read_csv(admin.get("/admin/volunteers.csv"))) == 3


def test_signature_export_and_the_letters_pdf(app, client, make_campaign, signed_in, deliver):
    campaign_id = make_campaign(title_en="Peace now")
    sign(client, "test-campaign", name="@SUM(A1:A9)", personal_message="-2+3 matters")
    path = urlsplit(confirm_link(deliver().to("lea@example.org")[0])).path
    post_form(client, path, {}, token_from="/take-action/test-campaign")
    sign(client, "test-campaign", email="waiting@example.org", name="Not Yet")

    admin = signed_in("admin")
    summary = admin.get(f"/admin/take-action/{campaign_id}").get_data(as_text=True)
    assert "Waiting for confirmation" in summary

    rows = read_csv(admin.get(f"/admin/take-action/{campaign_id}/signatures.csv"))
    assert rows[0][:4] == ["id", "status", "name", "email"]
    by_email = {row[3]: row for row in rows[1:]}
    assert by_email["lea@example.org"][1:3] == ["confirmed", "'@SUM(A1:A9)"]
    assert by_email["lea@example.org"][6] == "'-2+3 matters"
    assert by_email["waiting@example.org"][1] == "pending"

    response = admin.get(f"/admin/take-action/{campaign_id}/letters.pdf")
    assert response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Peace now" in text and "Letters in this document: 1" in text
    assert "@SUM(A1:A9)" in text and "-2+3 matters" in text and "Not Yet" not in text
    assert len(reader.pages) == 2  # the cover, then one page per letter


def test_the_letters_pdf_in_french_draws_any_name(app, make_campaign, signed_in):
    from involve import services
    from involve.letters_pdf import printable

    campaign_id = make_campaign()
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        for n, name in enumerate(["Zoë Ñúñez-Ødegård", "Nguyễn Thị Minh", "Ольга", "李小龍"]):
            signature = services.sign_campaign(
                campaign,
                services.SignRequest(
                    name=name, email=f"p{n}@example.org", postal_code="G1R 4P5", language="fr"
                ),
            )
            services.confirm_signature(signature)
        db.session.commit()
    response = signed_in("admin").get(f"/admin/take-action/{campaign_id}/letters.pdf?lang=fr")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Lettres dans ce document" in text and "Monsieur le Premier Ministre" in text
    for name in ("Zoë Ñúñez-Ødegård", "Nguyễn Thị Minh", "Ольга"):
        assert name in text
    assert printable("李小龍") == "\ufffd" * 3  # shown as missing, never silently dropped


def test_staff_screens_are_for_admins(app, client, make_campaign, signed_in, make_user):
    campaign_id = make_campaign()
    treasurer = signed_in("treasurer")
    for path in (
        "/admin/volunteers",
        "/admin/volunteers.csv",
        "/admin/news-consent",
        "/admin/news-consent.csv",
        f"/admin/take-action/{campaign_id}/signatures.csv",
        f"/admin/take-action/{campaign_id}/letters.pdf",
    ):
        assert client.get(path).status_code == 403, path
        assert treasurer.get(path).status_code == 403, path
    admin = app.test_client()
    _, email, password = make_user(email="ada@example.org", role="admin")
    sign_in(admin, email, password)
    assert admin.get("/admin/take-action/999").status_code == 404


def test_an_admin_creates_a_campaign_and_a_page(app, client, signed_in):
    admin = signed_in("admin")
    data = {
        "slug": "un-budget",
        "title_en": "Pay the UN on time",
        "title_fr": "Payer l’ONU à temps",
        "body_en": "Dues **matter**.",
        "body_fr": "Les contributions **comptent**.",
        "letter_en": "Dear Minister,\n\nPlease pay.",
        "letter_fr": "Madame la Ministre,\n\nVeuillez payer.",
        "recipient_name_en": "Minister of Foreign Affairs",
        "recipient_name_fr": "Ministre des Affaires étrangères",
        "recipient_email": "",
        "recipient_language": "en",
        "starts_on": "2026-01-01",
        "ends_on": "2099-12-31",
        "goal": "500",
        "delivery": "email",
        "letters_per_hour": "30",
        "published": "y",
        "comments_open": "y",
    }
    refused = admin.post(
        "/admin/campaign/new/",
        data={"csrf_token": csrf_token(admin, "/admin/campaign/new/"), **data},
    )
    assert refused.status_code == 200  # the form again, with why
    assert "Delivery by email needs the recipient" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0
    data["delivery"] = "pdf"
    created = admin.post(
        "/admin/campaign/new/",
        data={"csrf_token": csrf_token(admin, "/admin/campaign/new/"), **data},
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    page = client.get("/take-action/un-budget").get_data(as_text=True)
    assert "Pay the UN on time" in page and "<strong>matter</strong>" in page

    bad_slug = admin.post(
        "/admin/contentpage/new/",
        data={
            "csrf_token": csrf_token(admin, "/admin/contentpage/new/"),
            "slug": "Not A Slug",
            "title_en": "About",
        },
    )
    assert "Use lower-case letters" in bad_slug.get_data(as_text=True)
    made = admin.post(
        "/admin/contentpage/new/",
        data={
            "csrf_token": csrf_token(admin, "/admin/contentpage/new/"),
            "slug": "about-us",
            "title_en": "About us",
            "title_fr": "À propos",
            "body_en": "We work for peace.",
            "body_fr": "Nous travaillons pour la paix.",
            "published": "y",
            "comments_open": "y",
        },
    )
    assert made.status_code == 302, made.get_data(as_text=True)
    with app.app_context():
        page_id = db.session.scalar(sa.select(ContentPage.id).where(ContentPage.slug == "about-us"))
    linked = admin.post(
        "/admin/pagelink/new/",
        data={
            "csrf_token": csrf_token(admin, "/admin/pagelink/new/"),
            "page": str(page_id),
            "position": "1",
            "label_en": "Donate",
            "label_fr": "Donner",
            "href": "/donate",
        },
    )
    assert linked.status_code == 302, linked.get_data(as_text=True)
    page = client.get("/pages/about-us?lang=fr").get_data(as_text=True)
    assert "À propos" in page and 'href="/donate"' in page and "Donner" in page


def test_a_link_to_a_script_is_refused(app, client, content, signed_in):
    admin = signed_in("admin")
    with app.app_context():
        page_id = db.session.scalar(sa.select(ContentPage.id))
    response = admin.post(
        "/admin/pagelink/new/",
        data={
            "csrf_token": csrf_token(admin, "/admin/pagelink/new/"),
            "page": str(page_id),
            "position": "9",
            "label_en": "Click",
            "href": "javascript:alert(1)",
        },
    )
    assert response.status_code == 400  # the form again, with the message
    assert "Use a full web address" in response.get_data(as_text=True)
    assert "javascript:" not in client.get("/pages/france-canada-peacekeeping-roadmap").get_data(
        as_text=True
    )


# -- the news list (CASL) -------------------------------------------------------------------


def test_one_news_list_from_every_form_and_any_unsubscribe_removes_the_person(
    app, client, make_campaign, signed_in, deliver, mailbox
):
    make_campaign()
    with app.app_context():  # as the donate and join forms record it
        record_consent(
            "donor@example.org",
            True,
            wording="Yes, send me news by email (donate form).",
            language="en",
            source="donation form",
        )
        record_consent(
            "member@example.org",
            True,
            wording="Oui, envoyez-moi des nouvelles (adhésion).",
            language="fr",
            source="membership form",
        )
        record_consent(
            "nonews@example.org", False, wording="No thanks", language="en", source="donation form"
        )
        db.session.commit()
    volunteer(client, news_consent="y")
    [thanks] = deliver().to("nadia@example.org")
    sign(client, "test-campaign", email="signer@example.org", news_consent="y")
    sign(client, "test-campaign", email="unconfirmed@example.org", news_consent="y")
    path = urlsplit(confirm_link(deliver().to("signer@example.org")[0])).path
    post_form(client, path, {}, token_from="/take-action/test-campaign")
    # The donor also volunteers: still one line, with the newest wording they agreed to.
    clock.advance(minutes=1)
    volunteer(client, email="donor@example.org", news_consent="y", name="Dana")

    admin = signed_in("admin")
    page = admin.get("/admin/news-consent").get_data(as_text=True)
    assert "4 people" in page
    rows = read_csv(admin.get("/admin/news-consent.csv"))
    assert rows[0] == ["email", "language", "agreed_at", "source", "wording"]
    listed = {row[0]: row for row in rows[1:]}
    assert set(listed) == {
        "donor@example.org",
        "member@example.org",
        "nadia@example.org",
        "signer@example.org",
    }
    assert listed["donor@example.org"][3] == "volunteer form"
    assert listed["member@example.org"][1:2] == ["fr"]
    assert listed["signer@example.org"][3] == "take action: test-campaign"
    assert listed["signer@example.org"][4].startswith("Yes, send me news by email")
    assert listed["nadia@example.org"][2][:4] == str(clock.now().year)

    # Nadia unsubscribes with the link in her volunteer thank-you email.
    [link] = [u for u in Mailbox.links(thanks) if "/unsubscribe/" in u]
    assert app.test_client().post(urlsplit(link).path).status_code == 200
    rows = read_csv(admin.get("/admin/news-consent.csv"))
    assert "nadia@example.org" not in {row[0] for row in rows[1:]}
    assert len(rows) == 4


@pytest.mark.parametrize("source", ["donation form", "volunteer form"])
def test_agreeing_again_after_unsubscribing_puts_the_person_back(app, signed_in, source):
    from involve import reports

    with app.app_context():
        for granted in (True, False, True):
            record_consent("x@example.org", granted, wording="w", language="en", source=source)
        db.session.commit()
        assert [c.email for c in reports.news_subscribers()] == ["x@example.org"]
        record_consent("x@example.org", False, wording="u", language="en", source="unsubscribe")
        db.session.commit()
        assert reports.news_subscribers() == []


def test_an_admin_removes_a_link_with_the_box_on_its_form(app, client, content, signed_in):
    from core.audit import AuditEntry
    from involve.models import PageLink

    admin = signed_in("admin")
    with app.app_context():
        link = db.session.scalar(sa.select(PageLink).where(PageLink.href == "/get-involved"))
        link_id, page_id = link.id, link.page_id
    path = f"/admin/pagelink/edit/?id={link_id}"
    response = admin.post(
        path,
        data={
            "csrf_token": csrf_token(admin, path),
            "page": str(page_id),
            "position": "1",
            "label_en": "Get Involved",
            "href": "/get-involved",
            "remove": "y",
        },
    )
    assert response.status_code == 302
    page = client.get("/pages/france-canada-peacekeeping-roadmap").get_data(as_text=True)
    links = page[page.index('class="links-list"') :]
    links = links[: links.index("</ul>")]
    assert 'href="/get-involved"' not in links and 'href="/take-action"' in links
    with app.app_context():
        assert db.session.get(PageLink, link_id) is None
        assert db.session.scalar(
            sa.select(AuditEntry.action).where(AuditEntry.action == "page_link.removed")
        )
