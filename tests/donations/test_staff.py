"""The treasurer's donation screens: list, detail, donor, offline gifts, CSV, settings."""

import csv
import html
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from core import clock
from core.audit import AuditEntry
from core.csv import neutralise
from core.db import db
from donations import gifts, settings
from donations.models import Donation, DonationKind, DonationStatus, Receipt, ReceiptKind
from tests.helpers import post_form

TORONTO = ZoneInfo("America/Toronto")


# -- helpers ----------------------------------------------------------------------------------


def offline_form(**overrides):
    data = {
        "amount": "200",
        "fund": "general",
        "method": "cheque",
        "reference": "Cheque 1042",
        "received_on": "2025-06-15",
        "advantage": "0",
        "advantage_description": "",
        "language": "en",
        "issue_receipt": "y",
        "donor_name": "Olive Offline",
        "email": "olive@example.org",
        "address_line1": "1 Sparks Street",
        "city": "Ottawa",
        "province": "ON",
        "postal_code": "K1P 5B1",
        "country": "CA",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def record_offline(client, lang="en", **overrides):
    return post_form(
        client,
        f"/treasurer/donations/offline?lang={lang}",
        offline_form(**overrides),
        token_from="/treasurer/donations/offline",
    )


def gift_id_from(response):
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r"/treasurer/donations/(\d+)$", response.location).group(1))


def paid_gift(give, stripe_sim, **overrides):
    response, session_id = give(**overrides)
    assert response.status_code == 303, response.get_data(as_text=True)
    stripe_sim.pay(session_id)
    return session_id


def listed(client, query=""):
    """The gift ids a list page shows, its status code and the totals above the table."""
    response = client.get(f"/treasurer/donations{query}")
    html = response.get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'href="/treasurer/donations/(\d+)"', html)]
    count = re.search(r'id="count">(\d+)<', html)
    total = re.search(r'id="paid-total">([^<]+)<', html)
    return (
        response.status_code,
        ids,
        int(count.group(1)) if count else None,
        total.group(1) if total else None,
        html,
    )


def ids_by_name(app):
    with app.app_context():
        return {d.donor_name: d.id for d in db.session.scalars(sa.select(Donation))}


def set_received(app, donation_id, moment):
    with app.app_context():
        db.session.get(Donation, donation_id).received_at = moment
        db.session.commit()


def pdf_text(data):
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.fixture
def treasurer(signed_in, funds):
    return signed_in("treasurer")


# -- who may see what -------------------------------------------------------------------------

GET_PATHS = [
    "/treasurer/donations",
    "/treasurer/donations?kind=offline&status=paid&q=olive",
    "/treasurer/donations/{id}",
    "/treasurer/donors?email=olive@example.org",
    "/treasurer/donations/offline",
    "/treasurer/donations.csv",
    "/treasurer/donations/settings",
    "/treasurer/",
]
POST_PATHS = [
    "/treasurer/donations/{id}/resend-receipt",
    "/treasurer/donations/offline",
    "/treasurer/donations/settings",
]


@pytest.fixture
def a_gift(app, funds):
    with app.app_context():
        fund = gifts.fund_by_slug("general")
        donation, _ = gifts.record_offline_gift(
            fund=fund,
            amount=5000,
            method="cash",
            received_on=date(2025, 1, 2),
            donor_name="Olive Offline",
            email="olive@example.org",
            address_line1="1 Sparks",
            city="Ottawa",
            province="ON",
            postal_code="K1P 5B1",
            recorded_by=None,
            issue_receipt=False,
        )
        db.session.commit()
        return donation.id


@pytest.mark.parametrize("role", [None, "member", "moderator"])
def test_everyone_below_treasurer_is_refused(app, client, make_user, a_gift, role):
    if role is not None:
        _, email, password = make_user(email=f"{role}@example.org", role=role)
        signed = post_form(client, "/login", {"email": email, "password": password})
        assert signed.status_code == 302
    refused = 403 if role else 302  # a visitor is sent to sign in first
    for path in GET_PATHS:
        response = client.get(path.format(id=a_gift))
        assert response.status_code == refused, (role, path)
    for path in POST_PATHS:
        response = post_form(client, path.format(id=a_gift), {}, token_from="/donate")
        assert response.status_code == refused, (role, path)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == 1


@pytest.mark.parametrize("role", ["treasurer", "admin"])
def test_treasurer_and_admin_may_use_every_screen(app, signed_in, a_gift, role):
    client = signed_in(role)
    for path in GET_PATHS:
        response = client.get(path.format(id=a_gift))
        assert response.status_code == 200, (role, path, response.get_data(as_text=True)[:500])
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            assert "<script" not in html and " style=" not in html and "<style" not in html


def test_every_screen_in_french(signed_in, a_gift):
    client = signed_in("treasurer")
    for path in GET_PATHS:
        path = path.format(id=a_gift)
        response = client.get(path + ("&" if "?" in path else "?") + "lang=fr")
        assert response.status_code == 200, path


def test_every_treasurer_view_declares_its_role(app):
    staff = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("donations.staff_")]
    assert len(staff) == 7
    for rule in staff:
        assert rule.rule.startswith("/treasurer/"), rule.rule
        assert app.view_functions[rule.endpoint].required_role.name == "treasurer"


# -- the list and its filters -----------------------------------------------------------------


@pytest.fixture
def five_gifts(app, treasurer, give, stripe_sim):
    """Two gifts on either side of a local midnight, an abandoned one, two offline ones."""
    paid_gift(give, stripe_sim, other_amount="25", donor_name="Dana Donor")
    paid_gift(
        give,
        stripe_sim,
        other_amount="20",
        frequency="monthly",
        fund="mondial",
        donor_name="Marc Tremblay",
        email="MARC@example.org",
        annual_receipt="y",
    )
    response, session_id = give(
        other_amount="40", fund="peacekeeping", donor_name="Zoé Côté", email="zoe@example.org"
    )
    stripe_sim.expire(session_id)
    gift_id_from(
        record_offline(
            treasurer,
            donor_name="Dan Cheque",
            organization_name="Acme Foundation",
            email="acme@example.org",
        )
    )
    gift_id_from(
        record_offline(
            treasurer,
            amount="100",
            fund="take-action",
            method="cash",
            received_on="2024-12-31",
            donor_name="Eve Cash",
            email="eve@example.org",
        )
    )
    ids = ids_by_name(app)
    # 23:59:59 on 7 March in Ottawa is already 8 March in UTC.
    set_received(app, ids["Dana Donor"], datetime(2025, 3, 7, 23, 59, 59, tzinfo=TORONTO))
    set_received(app, ids["Marc Tremblay"], datetime(2025, 3, 8, 0, 0, 0, tzinfo=TORONTO))
    return ids


@pytest.mark.parametrize(
    ("query", "names", "total"),
    [
        ("", ["Dan Cheque", "Marc Tremblay", "Dana Donor", "Eve Cash"], "$345.00"),
        (
            "?status=all",
            ["Zoé Côté", "Dan Cheque", "Marc Tremblay", "Dana Donor", "Eve Cash"],
            "$345.00",
        ),
        ("?date_from=2025-03-01&date_to=2025-03-07", ["Dana Donor"], "$25.00"),
        ("?date_from=2025-03-08&date_to=2025-03-08", ["Marc Tremblay"], "$20.00"),
        ("?date_from=2025-03-07&date_to=2025-03-08", ["Marc Tremblay", "Dana Donor"], "$45.00"),
        ("?date_to=2024-12-31", ["Eve Cash"], "$100.00"),
        ("?date_from=2025-01-01", ["Dan Cheque", "Marc Tremblay", "Dana Donor"], "$245.00"),
        ("?fund=general", ["Dan Cheque", "Dana Donor"], "$225.00"),
        ("?kind=offline", ["Dan Cheque", "Eve Cash"], "$300.00"),
        ("?kind=monthly", ["Marc Tremblay"], "$20.00"),
        ("?kind=one_time", ["Dana Donor"], "$25.00"),
        ("?kind=one_time&status=all", ["Zoé Côté", "Dana Donor"], "$25.00"),
        ("?status=expired", ["Zoé Côté"], "$0.00"),
        ("?status=paid&fund=peacekeeping", [], "$0.00"),
        ("?q=acme", ["Dan Cheque"], "$200.00"),
        ("?q=marc%40EXAMPLE", ["Marc Tremblay"], "$20.00"),
        ("?q=Côté", [], "$0.00"),
        ("?q=Côté&status=all", ["Zoé Côté"], "$0.00"),
        ("?q=%25", [], "$0.00"),  # a LIKE wildcard is searched for, not obeyed
        (
            "?q=&fund=&kind=&status=&date_from=&date_to=",
            ["Dan Cheque", "Marc Tremblay", "Dana Donor", "Eve Cash"],
            "$345.00",
        ),
    ],
)
def test_filters(app, treasurer, five_gifts, query, names, total):
    """By default the list shows received gifts; ``status=all`` brings back the rest."""
    status, ids, count, shown_total, html = listed(treasurer, query)
    assert status == 200, html
    # Newest first; the abandoned checkout, never received, by when it was started (today).
    assert ids == [five_gifts[n] for n in names]
    assert count == len(names)
    assert shown_total == total


def test_list_columns_and_links(app, treasurer, five_gifts):
    _, _, _, _, html = listed(treasurer, "?q=acme")
    assert "Acme Foundation" in html and "Dan Cheque" in html
    assert 'href="/treasurer/donors?email=acme@example.org"' in html
    assert re.search(r'href="/receipts/[\w.-]+\.pdf"', html)
    assert "Offline" in html and "Paid" in html and "$200.00" in html
    assert 'href="/treasurer/donations.csv?q=acme"' in html
    assert 'href="/treasurer/donations/offline"' in html


def test_a_refund_shows_on_the_list_and_lowers_the_total(app, treasurer, give, stripe_sim):
    paid_gift(give, stripe_sim, other_amount="100")
    from payments.models import Payment

    with app.app_context():
        charge = db.session.scalar(sa.select(Payment.charge_id))
    stripe_sim.refund(charge, amount=3000)
    _, ids, count, total, html = listed(treasurer)
    assert count == 1 and total == "$70.00"
    assert "$30.00 refunded" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?date_from=2025-13-01", "Please enter a date as YYYY-MM-DD."),
        ("?date_to=yesterday", "Please enter a date as YYYY-MM-DD."),
        ("?date_from=9999-12-31", "Please enter a date between 2000 and 2100."),
        ("?date_from=2025-03-08&date_to=2025-03-01", "The end date is before the start date."),
        ("?fund=nowhere", "is not one of the choices for Fund"),
        ("?kind=gift", "is not one of the choices for Kind"),
        ("?status=lost", "is not one of the choices for Status"),
        ("?page=0", "There is no such page."),
        ("?page=two", "There is no such page."),
        ("?page=%C2%B2", "There is no such page."),
        ("?q=" + "x" * 201, "Field cannot be longer than 200 characters."),
    ],
)
def test_bad_filters_are_a_400_with_a_message(treasurer, funds, query, message):
    for path in ("/treasurer/donations", "/treasurer/donations.csv"):
        response = treasurer.get(path + query)
        assert response.status_code == 400, (path, query)
        assert message in response.get_data(as_text=True), (path, query)


def test_what_was_typed_in_a_filter_is_escaped(treasurer, funds):
    for query in ("?kind=<b>bold</b>", "?fund=<b>bold</b>", "?status=<b>bold</b>"):
        html = treasurer.get("/treasurer/donations" + query).get_data(as_text=True)
        assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html


def test_pages_of_fifty(app, treasurer):
    with app.app_context():
        fund = gifts.fund_by_slug("general")
        for n in range(53):
            gifts.record_offline_gift(
                fund=fund,
                amount=100 + n,
                method="cash",
                received_on=date(2025, 1, 1),
                donor_name=f"Donor {n}",
                email=f"d{n}@example.org",
                address_line1="1 Main",
                city="Ottawa",
                province="ON",
                postal_code="K1P 5B1",
                recorded_by=None,
                issue_receipt=False,
            )
        db.session.commit()
    _, first, count, total, html = listed(treasurer, "?kind=offline")
    assert len(first) == 50 and count == 53
    assert total == "$66.78"  # 53 gifts of $1.00 to $1.52
    assert "Page 1 of 2" in html and 'href="/treasurer/donations?page=2&amp;kind=offline"' in html
    _, second, _, _, html = listed(treasurer, "?kind=offline&page=2")
    assert len(second) == 3 and not set(first) & set(second)
    assert first == sorted(first, reverse=True) and second == sorted(second, reverse=True)
    _, beyond, count, _, _ = listed(treasurer, "?page=9")
    assert beyond == [] and count == 53


# -- offline gifts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("advantage", "printed", "eligible"),
    [
        ("0", 0, 20000),
        ("10", 0, 20000),  # de minimis: the lesser of $75 and 10 % is ignored
        ("100", 10000, 10000),
        ("160", 16000, 4000),  # 80 % exactly still gets a receipt
    ],
)
def test_an_offline_gift_is_receipted_and_emailed(
    app, treasurer, deliver, charity, advantage, printed, eligible
):
    response = record_offline(
        treasurer,
        advantage=advantage,
        advantage_description="Gala dinner ticket" if advantage != "0" else "",
    )
    gift_id = gift_id_from(response)
    page = treasurer.get(response.location).get_data(as_text=True)
    with app.app_context():
        donation = db.session.get(Donation, gift_id)
        receipt = donation.current_receipt
        assert donation.status == DonationStatus.paid and donation.amount == 20000
        assert donation.kind.value == "offline" and donation.method == "cheque"
        assert donation.reference == "Cheque 1042"
        assert clock.local_date(donation.received_at) == date(2025, 6, 15)
        assert receipt.kind == ReceiptKind.official
        assert (receipt.advantage, receipt.eligible_amount) == (printed, eligible)
        number = receipt.number
    assert f"Receipt No. {number} was emailed to olive@example.org" in page
    assert "Cheque 1042" in page and "treasurer@example.org" in page
    [message] = deliver().to("olive@example.org")
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"receipt-{number}.pdf"
    text = pdf_text(attachment.get_content())
    assert "Official donation receipt for income tax purposes" in text and "$200.00" in text


def test_an_advantage_over_80_percent_gets_no_receipt_and_the_page_says_so(
    app, treasurer, deliver, charity
):
    response = record_offline(treasurer, advantage="180", advantage_description="A painting")
    gift_id = gift_id_from(response)
    page = treasurer.get(response.location).get_data(as_text=True)
    assert "no receipt was issued" in page
    assert "The advantage is worth more than 80% of the gift" in page
    assert 'id="resend"' not in page
    with app.app_context():
        donation = db.session.get(Donation, gift_id)
        assert donation.status == DonationStatus.paid and donation.current_receipt is None
        assert db.session.scalar(sa.select(sa.func.count(Receipt.id))) == 0
    assert deliver().to("olive@example.org") == []


def test_amounts_are_read_in_the_staff_members_language(app, treasurer, charity):
    gift_id = gift_id_from(
        record_offline(
            treasurer,
            lang="fr",
            amount="1 234,50",
            advantage="10,25",
            advantage_description="Billet",
        )
    )
    with app.app_context():
        donation = db.session.get(Donation, gift_id)
        assert (donation.amount, donation.advantage) == (123450, 1025)


def test_without_a_charity_number_the_donor_gets_an_acknowledgement(app, treasurer, deliver):
    response = record_offline(treasurer)
    page = treasurer.get(response.location).get_data(as_text=True)
    assert "An acknowledgement was emailed to olive@example.org" in page
    [message] = deliver().to("olive@example.org")
    assert len(list(message.iter_attachments())) == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "abc"}, "Please enter an amount in dollars"),
        ({"amount": ""}, "Please enter an amount."),
        ({"amount": "0"}, "The amount must be more than zero."),
        ({"amount": "-20"}, "The amount cannot be negative."),
        ({"advantage": "250"}, "The advantage cannot exceed the gift."),
        ({"advantage": "50"}, "Describe the advantage"),
        ({"received_on": "2999-01-01"}, "Please enter a date between 2000 and 2100."),
        ({"received_on": "15/06/2025"}, "Please enter a date as YYYY-MM-DD."),
        ({"postal_code": "12345"}, "Please enter a Canadian postal code"),
        ({"fund": "nowhere"}, "Not a valid choice"),
    ],
)
def test_a_bad_offline_gift_is_refused_and_nothing_is_recorded(
    app, treasurer, deliver, overrides, message
):
    response = record_offline(treasurer, **overrides)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Donation.id))) == 0
    assert deliver().messages == []


def test_a_gift_received_tomorrow_is_refused(app, treasurer):
    tomorrow = (datetime.now(TORONTO) + timedelta(days=1)).date().isoformat()
    response = record_offline(treasurer, received_on=tomorrow)
    assert response.status_code == 400
    assert "The date received cannot be in the future." in response.get_data(as_text=True)


def test_the_form_offers_today(treasurer):
    today = datetime.now(TORONTO).date().isoformat()
    assert f'value="{today}"' in treasurer.get("/treasurer/donations/offline").get_data(
        as_text=True
    )


# -- detail and resending ---------------------------------------------------------------------


def test_resend_receipt_sends_it_again(app, treasurer, deliver, charity):
    gift_id = gift_id_from(record_offline(treasurer))
    assert len(deliver().to("olive@example.org")) == 1
    response = post_form(
        treasurer,
        f"/treasurer/donations/{gift_id}/resend-receipt",
        {},
        token_from=f"/treasurer/donations/{gift_id}",
    )
    assert response.status_code == 303
    assert response.location.endswith(f"/treasurer/donations/{gift_id}")
    page = treasurer.get(response.location).get_data(as_text=True)
    assert "The receipt was sent again to olive@example.org." in page
    messages = deliver().to("olive@example.org")
    assert len(messages) == 2
    for message in messages:
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "receipt.resent")
            )
            == 1
        )


def test_resending_a_gift_without_receipt_says_so(app, treasurer, deliver):
    gift_id = gift_id_from(record_offline(treasurer, issue_receipt=None))
    response = post_form(
        treasurer,
        f"/treasurer/donations/{gift_id}/resend-receipt",
        {},
        token_from=f"/treasurer/donations/{gift_id}",
    )
    assert response.status_code == 303
    page = treasurer.get(response.location).get_data(as_text=True)
    assert "This gift has no receipt to send." in page
    assert "No receipt was asked for when the gift was recorded." in page
    assert deliver().messages == []


def test_a_gift_that_does_not_exist_is_a_404(treasurer):
    assert treasurer.get("/treasurer/donations/999").status_code == 404
    response = post_form(
        treasurer, "/treasurer/donations/999/resend-receipt", {}, token_from="/treasurer/donations"
    )
    assert response.status_code == 404


def test_the_detail_shows_payment_tribute_and_the_receipt_chain(
    app, treasurer, give, stripe_sim, charity
):
    paid_gift(
        give,
        stripe_sim,
        other_amount="100",
        cover_fee="y",
        tribute_kind="memory",
        tribute_name="Lester B. Pearson & Maryon",
    )
    from payments.models import Payment

    with app.app_context():
        payment = db.session.scalar(sa.select(Payment))
        charge, payment_id = payment.charge_id, payment.id
        gift_id = db.session.scalar(sa.select(Donation.id))
    stripe_sim.refund(charge, amount=3000)
    page = treasurer.get(f"/treasurer/donations/{gift_id}").get_data(as_text=True)
    with app.app_context():
        first, second = db.session.scalars(sa.select(Receipt).order_by(Receipt.id)).all()
        fee = db.session.get(Donation, gift_id).fee_covered
        numbers = first.number, second.number
    assert charge in page and f"#{payment_id}" in page
    assert "In memory of Lester B. Pearson &amp; Maryon" in page
    assert "12 Elgin Street" in page and "K1P 5W1" in page
    assert f"Cancels and replaces No. {numbers[0]}" in page
    assert f"No. {numbers[1]}" in page and "void" in page
    assert "$30.00" in page and f"{fee / 100:.2f}" in page
    assert 'id="resend"' in page


# -- the donor view ---------------------------------------------------------------------------


def test_the_donor_view_shows_every_gift_and_totals_per_year(
    app, treasurer, give, stripe_sim, charity
):
    paid_gift(give, stripe_sim, other_amount="25")
    paid_gift(
        give, stripe_sim, other_amount="10", frequency="monthly", fund="mondial", annual_receipt="y"
    )
    response, session_id = give(other_amount="99")
    stripe_sim.expire(session_id)
    gift_id_from(
        record_offline(treasurer, email="Dana@Example.org", amount="300", received_on="2024-12-31")
    )
    gift_id_from(record_offline(treasurer, email="someone-else@example.org"))
    # The first gift was made at 23:30 on New Year's Eve in Ottawa: 2024 there, 2025 in UTC.
    with app.app_context():
        first = db.session.scalar(sa.select(Donation.id).order_by(Donation.id))
    set_received(app, first, datetime(2024, 12, 31, 23, 30, tzinfo=TORONTO))
    this_year = datetime.now(TORONTO).year

    response = treasurer.get("/treasurer/donors?email=DANA@example.org")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    with app.app_context():
        mine = db.session.scalars(
            sa.select(Donation.id).where(Donation.email == "dana@example.org")
        ).all()
    assert len(mine) == 4
    shown = {int(i) for i in re.findall(r'href="/treasurer/donations/(\d+)"', html)}
    assert shown == set(mine)
    years = re.findall(
        r"<tr><td>(\d{4})</td><td class=\"num\">(\d+)</td><td class=\"num\">([^<]+)</td></tr>",
        html,
    )
    assert years == [(str(this_year), "1", "$10.00"), ("2024", "2", "$325.00")]
    assert "Monthly gifts" in html and "Active" in html and "One a year" in html
    assert html.count("(PDF)") >= 2


def test_the_donor_view_needs_an_email(treasurer, funds):
    response = treasurer.get("/treasurer/donors?email=nobody")
    assert response.status_code == 400
    assert "Please give the donor's email address." in html.unescape(
        response.get_data(as_text=True)
    )
    empty = treasurer.get("/treasurer/donors?email=nobody@example.org")
    assert empty.status_code == 200
    assert "No gift was ever made with this email address." in empty.get_data(as_text=True)


# -- the CSV export ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Zoé Côté", "Zoé Côté"),
        ("a=b", "a=b"),
        ("", ""),
        (Decimal("-2.00"), Decimal("-2.00")),
        (-3, -3),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def read_csv(response):
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def test_the_csv_export_is_streamed_and_safe(app, treasurer, give, stripe_sim):
    paid_gift(give, stripe_sim, other_amount="25", cover_fee="y", donor_name="Zoé Côté")
    for name in ('=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)"):
        gift_id_from(
            record_offline(treasurer, donor_name=name, amount="12.5", reference="-5 cheque")
        )
    response = treasurer.get("/treasurer/donations.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.mimetype_params["charset"] == "utf-8"
    today = datetime.now(TORONTO).date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="donations-{today}.csv"'
    )
    header, *rows = read_csv(response)
    assert header[:4] == ["Gift", "Date received", "Time received", "Status"]
    assert len(rows) == 5 and all(len(row) == len(header) for row in rows)
    column = {name: header.index(name) for name in header}
    by_name = {row[column["Donor"]]: row for row in rows}
    assert set(by_name) == {"Zoé Côté", '\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)"}
    online = by_name["Zoé Côté"]
    with app.app_context():
        donation = db.session.scalar(
            sa.select(Donation).where(Donation.kind == DonationKind.one_time)
        )
        fee, received = donation.fee_covered, donation.received_at.astimezone(TORONTO)
        number = donation.current_receipt.id
    assert online[column["Gift amount"]] == "25.00"
    assert online[column["Fee covered"]] == f"{Decimal(fee) / 100:.2f}"
    assert online[column["Total paid"]] == f"{Decimal(2500 + fee) / 100:.2f}"
    assert online[column["Date received"]] == received.date().isoformat()
    assert online[column["Status"]] == "paid" and online[column["Kind"]] == "one_time"
    assert online[column["Receipt"]] == f"#{number}"  # an acknowledgement has no serial
    assert online[column["Stripe charge"]].startswith("ch_")
    offline = by_name["'-2"]
    assert offline[column["Gift amount"]] == "12.50" and offline[column["Kept"]] == "12.50"
    assert offline[column["Reference"]] == "'-5 cheque"
    assert offline[column["Date received"]] == "2025-06-15"
    assert offline[column["Time received"]] == "12:00:00"


def test_the_csv_export_keeps_the_filters(app, treasurer, five_gifts):
    _, _, _, _, html = listed(treasurer, "?kind=offline&q=a")
    assert 'href="/treasurer/donations.csv?kind=offline&amp;q=a"' in html
    header, *rows = read_csv(treasurer.get("/treasurer/donations.csv?kind=offline&q=a"))
    donor = header.index("Donor")
    assert [row[donor] for row in rows] == ["Dan Cheque", "Eve Cash"]
    header, *rows = read_csv(treasurer.get("/treasurer/donations.csv?status=pending"))
    assert rows == []


def test_the_csv_export_in_french(treasurer, five_gifts):
    header, *rows = read_csv(treasurer.get("/treasurer/donations.csv?lang=fr&kind=offline"))
    assert len(rows) == 2
    assert rows[0][18] == "200.00"  # a decimal point, whatever the language: a number


# -- settings ---------------------------------------------------------------------------------

GOOD_SETTINGS = {
    "min_amount": "5",
    "max_amount": "1000",
    "presets": "10; 20; 75.50",
    "fee_percent": "3.5",
    "fee_fixed": "0.25",
    "receipt_min_amount": "20",
    "place_of_issue": "Montréal, Québec",
    "signer_name": "Robin Treasurer",
    "signer_title": "Treasurer",
    "signer_title_fr": "Trésorière",
}


def save_settings(client, lang="en", **overrides):
    data = {**GOOD_SETTINGS, **overrides}
    return post_form(
        client,
        f"/treasurer/donations/settings?lang={lang}",
        data,
        token_from="/treasurer/donations/settings",
    )


def stored(app):
    with app.app_context():
        return settings.current_settings()


def test_settings_show_the_defaults(treasurer):
    html = treasurer.get("/treasurer/donations/settings").get_data(as_text=True)
    assert 'value="1"' in html and 'value="50000"' in html
    assert 'value="25; 50; 100; 250"' in html and 'value="2.9"' in html
    assert 'value="0.30"' in html and 'value="Ottawa, Ontario"' in html


def test_saved_settings_change_the_donate_form(app, treasurer, give):
    response = save_settings(treasurer)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert stored(app) == {
        "donations.min_amount": 500,
        "donations.max_amount": 100000,
        "donations.presets": [1000, 2000, 7550],
        "donations.fee_percent": "3.5",
        "donations.fee_fixed": 25,
        "receipts.min_amount": 2000,
        "receipts.place_of_issue": "Montréal, Québec",
        "receipts.signer_name": "Robin Treasurer",
        "receipts.signer_title": "Treasurer",
        "receipts.signer_title_fr": "Trésorière",
    }
    page = treasurer.get(response.location).get_data(as_text=True)
    assert "The donation settings are saved." in page
    assert 'value="10; 20; 75.50"' in page
    donate = treasurer.get("/donate").get_data(as_text=True)
    for cents, label in ((1000, "$10.00"), (2000, "$20.00"), (7550, "$75.50")):
        assert f'value="{cents}"' in donate and label in donate
    assert 'value="2500"' not in donate
    assert "3.5%" in donate
    refused, _ = give(other_amount="4")
    assert refused.status_code == 400
    assert "The minimum is $5.00." in refused.get_data(as_text=True)
    too_much, _ = give(other_amount="1000.01")
    assert "The maximum online is $1,000.00." in too_much.get_data(as_text=True)
    accepted, _ = give(amount_choice="7550", other_amount="")
    assert accepted.status_code == 303
    with app.app_context():
        changes = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "setting.changed")
        ).all()
        assert {c.data["key"] for c in changes} == set(stored(app))
        assert all(c.actor == "treasurer@example.org" for c in changes)


def test_settings_in_french(app, treasurer):
    response = save_settings(
        treasurer,
        lang="fr",
        presets="10,50; 20; 1 000",
        fee_percent="2,5",
        max_amount="2 000",
        fee_fixed="0,30",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    values = stored(app)
    assert values["donations.presets"] == [1050, 2000, 100000]
    assert values["donations.fee_percent"] == "2.5" and values["donations.fee_fixed"] == 30
    html = treasurer.get("/treasurer/donations/settings?lang=fr").get_data(as_text=True)
    assert 'value="10,50; 20; 1000"' in html and 'value="2,5"' in html


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"min_amount": "0.50"}, "The smallest online gift must be at least $1.00."),
        ({"min_amount": "abc"}, "Please enter an amount in dollars"),
        ({"max_amount": "5"}, "The largest online gift must be more than the smallest."),
        ({"max_amount": ""}, "Please enter an amount."),
        (
            {"presets": "10; 2000"},
            "Each suggested amount must be between $5.00 and $1,000.00; $2,000.00 is not.",
        ),
        ({"presets": "2; 10"}, "$2.00 is not."),
        ({"presets": "10; ten"}, "“ten”: Please enter an amount in dollars"),
        ({"presets": " ; "}, "Please give at least one suggested amount."),
        (
            {"presets": "; ".join(str(n) for n in range(10, 20))},
            "Please give at most 8 suggested amounts.",
        ),
        ({"fee_percent": "11"}, "The card fee must be a percentage between 0 and 10."),
        ({"fee_percent": "-1"}, "The card fee must be a percentage between 0 and 10."),
        ({"fee_percent": "NaN"}, "Please enter a percentage such as 2.9."),
        ({"fee_percent": "Infinity"}, "Please enter a percentage such as 2.9."),
        ({"fee_percent": "two"}, "Please enter a percentage such as 2.9."),
        ({"fee_percent": "2.9999"}, "The card fee has at most three decimals."),
        ({"fee_fixed": "30"}, "The fixed part of the card fee must be between $0.00 and $10.00."),
        ({"receipt_min_amount": "-1"}, "The amount cannot be negative."),
        ({"place_of_issue": "   "}, "Please fill this in."),
        ({"signer_name": "x" * 201}, "Field cannot be longer than 200 characters."),
    ],
)
def test_invalid_settings_are_refused_and_nothing_is_saved(app, treasurer, overrides, message):
    before = stored(app)
    response = save_settings(treasurer, **overrides)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html.replace("&#34;", '"')
    assert "Nothing was saved." in html
    assert stored(app) == before
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(AuditEntry.id)).where(
                    AuditEntry.action == "setting.changed"
                )
            )
            == 0
        )


def test_several_problems_are_shown_at_once(app, treasurer):
    response = save_settings(treasurer, min_amount="0.5", fee_percent="12", presets="0.25")
    html = response.get_data(as_text=True)
    assert "The smallest online gift must be at least $1.00." in html
    assert "The card fee must be a percentage between 0 and 10." in html
    assert "$0.25 is not." in html


# -- the treasurer's dashboard ----------------------------------------------------------------


def test_the_dashboard_shows_this_years_gifts_by_fund(app, treasurer, give, stripe_sim):
    today = datetime.now(TORONTO).date()
    paid_gift(give, stripe_sim, other_amount="25")
    paid_gift(give, stripe_sim, other_amount="40", fund="mondial")
    gift_id_from(record_offline(treasurer, amount="100", received_on=today.isoformat()))
    gift_id_from(record_offline(treasurer, amount="500", received_on=f"{today.year - 1}-12-31"))
    html = treasurer.get("/treasurer/").get_data(as_text=True)
    assert 'id="donations-panel"' in html
    assert f"Paid gifts in {today.year}, less refunds" in html
    assert re.search(
        r"General fund</a></td><td class=\"num\">2</td><td class=\"num\">\$125.00", html
    )
    assert re.search(r"Mondial publication</a></td><td class=\"num\">1</td>", html)
    assert 'id="year-count">3<' in html and 'id="year-total">$165.00<' in html
    assert 'href="/treasurer/donations/offline"' in html
    assert 'href="/treasurer/donations/settings"' in html


def test_the_dashboard_before_any_gift(treasurer):
    html = treasurer.get("/treasurer/").get_data(as_text=True)
    assert "No gift yet this year." in html


def test_the_clock_decides_this_year(app):
    clock.freeze(datetime(2027, 1, 1, 4, 59, tzinfo=ZoneInfo("UTC")))
    with app.test_request_context():
        assert clock.this_year() == 2026  # still New Year's Eve in Ottawa


def test_the_csv_shows_the_stripe_fee_and_the_net_of_each_gift(app, treasurer, give, stripe_sim):
    from payments.models import Payment

    paid_gift(give, stripe_sim, other_amount="25", donor_name="Olive Online")
    gift_id_from(record_offline(treasurer, donor_name="Dan Cheque"))
    header, *rows = read_csv(treasurer.get("/treasurer/donations.csv"))
    column = {name: header.index(name) for name in header}
    by_name = {row[column["Donor"]]: row for row in rows}
    with app.app_context():
        payment = db.session.scalar(sa.select(Payment))
        fee, net = payment.fee, payment.net
    assert fee and net == 2500 - fee
    online = by_name["Olive Online"]
    assert online[column["Stripe fee"]] == f"{Decimal(fee) / 100:.2f}"
    assert online[column["Net"]] == f"{Decimal(net) / 100:.2f}"
    offline = by_name["Dan Cheque"]
    assert offline[column["Stripe fee"]] == offline[column["Net"]] == ""


def test_the_default_list_shows_received_gifts_and_a_filter_shows_the_rest(treasurer, five_gifts):
    _, ids, _, _, html = listed(treasurer)
    assert five_gifts["Zoé Côté"] not in ids  # an abandoned checkout
    assert five_gifts["Dana Donor"] in ids
    assert '<option selected value="">' in html or 'value="" selected' in html
    _, ids, _, _, _ = listed(treasurer, "?status=all")
    assert five_gifts["Zoé Côté"] in ids
    _, ids, _, _, _ = listed(treasurer, "?status=expired")
    assert ids == [five_gifts["Zoé Côté"]]


def test_the_donor_page_without_an_email_shows_a_search_form(treasurer, five_gifts):
    response = treasurer.get("/treasurer/donors")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="search"' in page and 'name="email"' in page
    response = treasurer.get("/treasurer/donors?email=not-an-address")
    assert response.status_code == 400
    assert "Please give the donor's email address." in html.unescape(
        response.get_data(as_text=True)
    )
    response = treasurer.get("/treasurer/donors?email=acme@example.org")
    assert response.status_code == 200 and "Dan Cheque" in response.get_data(as_text=True)
