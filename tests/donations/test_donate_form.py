"""The donate form as a donor meets it: the amount typed wins, the charge is shown before
paying, Cancel brings the form back, plain names only, errors that take the focus."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from core.db import db
from donations.models import Donation, MonthlyGift, Receipt
from payments.gateway import gateway


class Elements(HTMLParser):
    """Every element of a page with its attributes, and the text under each id."""

    def __init__(self, html):
        super().__init__()
        self.elements = []
        self.text_by_id = {}
        self._open = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag not in ("input", "br", "img", "meta", "link"):
            self._open.append(attrs.get("id"))

    def handle_endtag(self, tag):
        if tag not in ("input", "br", "img", "meta", "link") and self._open:
            self._open.pop()

    def handle_data(self, data):
        for element_id in self._open:
            if element_id:
                self.text_by_id[element_id] = self.text_by_id.get(element_id, "") + data

    def by_id(self, element_id):
        return next(attrs for tag, attrs in self.elements if attrs.get("id") == element_id)


def stripe_session(app, session_id):
    """The Checkout Session as Stripe (the simulator) holds it, with its lines."""
    with app.app_context():
        return gateway().retrieve_checkout_session(session_id, expand=("line_items",))


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# -- 1. the amount typed wins ------------------------------------------------------------------


def test_a_typed_other_amount_wins_over_a_ticked_preset(app, give, stripe_sim):
    response, session_id = give(amount_choice="2500", other_amount="40")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(Donation.amount)) == 4000
    assert stripe_session(app, session_id)["amount_total"] == 4000


def test_a_blank_other_amount_leaves_the_preset(app, give):
    response, _ = give(amount_choice="5000", other_amount="  ")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(Donation.amount)) == 5000


def test_a_bad_typed_amount_with_a_preset_ticked_is_refused_not_ignored(app, give):
    response, _ = give(amount_choice="2500", other_amount="forty")
    assert response.status_code == 400
    assert "Please enter an amount in dollars" in response.get_data(as_text=True)
    assert count(app, Donation) == 0


def test_the_donate_page_loads_its_own_script_and_no_inline_code(client, funds):
    response = client.get("/donate")
    html = response.get_data(as_text=True)
    scripts = [attrs for tag, attrs in Elements(html).elements if tag == "script"]
    assert scripts == [{"src": "/donations/static/donate.js", "defer": None}]
    assert not re.search(r"<[^>]+\son[a-z]+=", html) and "javascript:" not in html
    script = client.get("/donations/static/donate.js")
    assert script.status_code == 200 and "chooseOther" in script.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


# -- 2. the charge, shown before paying --------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "lang", "text"),
    [
        (
            "amount_choice=other&other_amount=10.50&cover_fee=y&frequency=one_time",
            "en",
            "Your gift $10.50 + card fee $0.62 = $11.12",
        ),
        (
            "amount_choice=2500&other_amount=10.50&cover_fee=y&frequency=monthly",  # typed wins
            "en",
            "Your gift $10.50 + card fee $0.62 = $11.12 each month",
        ),
        (
            "amount_choice=other&other_amount=10,50&cover_fee=y&frequency=one_time",
            "fr",
            "Votre don 10,50\u00a0$ + frais de carte 0,62\u00a0$ = 11,12\u00a0$",
        ),
        ("amount_choice=2500&other_amount=&frequency=one_time", "en", "You will be charged $25.00"),
        ("amount_choice=other&other_amount=abc&frequency=one_time", "en", ""),
    ],
)
def test_the_charge_is_worked_out_by_the_server_for_the_script(client, funds, query, lang, text):
    response = client.get(f"/donate/charge?{query}&lang={lang}")
    assert response.status_code == 200 and response.json == {"text": text}
    assert response.headers["Cache-Control"] == "no-store"


def test_the_fee_split_is_shown_when_the_form_comes_back(app, give):
    response, _ = give(other_amount="10.50", cover_fee="y", donor_name="")
    assert response.status_code == 400
    page = Elements(response.get_data(as_text=True))
    assert page.text_by_id["charge-summary"] == "Your gift $10.50 + card fee $0.62 = $11.12"


def test_stripe_shows_the_gift_and_the_card_fee_as_two_lines(app, give, stripe_sim):
    response, session_id = give(other_amount="10.50", cover_fee="y")
    assert response.status_code == 303
    items = stripe_session(app, session_id)["line_items"]["data"]
    assert [(i["description"], i["amount_total"]) for i in items] == [
        ("Gift to General fund", 1050),
        ("Card fee, which you chose to cover", 62),
    ]
    with app.app_context():
        donation = db.session.scalar(sa.select(Donation))
        assert (donation.amount, donation.fee_covered, donation.total) == (1050, 62, 1112)


def test_a_gift_without_the_fee_is_one_line(app, give, stripe_sim):
    _, session_id = give(other_amount="10.50")
    items = stripe_session(app, session_id)["line_items"]["data"]
    assert [(i["description"], i["amount_total"]) for i in items] == [
        ("Gift to General fund", 1050)
    ]


def test_a_monthly_gift_is_one_recurring_line_that_states_the_split_in_french(
    app, give, stripe_sim
):
    response, session_id = give(lang="fr", frequency="monthly", other_amount="10,50", cover_fee="y")
    assert response.status_code == 303
    [item] = stripe_session(app, session_id)["line_items"]["data"]
    assert item["amount_total"] == 1112 and item["price"]["recurring"]["interval"] == "month"
    assert item["description"] == (
        "Don mensuel à Fonds général : "
        "Votre don 10,50\u00a0$ + frais de carte 0,62\u00a0$ = 11,12\u00a0$ chaque mois"
    )


# -- 6. one receipt a year: monthly gifts only ------------------------------------------------


def test_the_one_receipt_a_year_choice_belongs_to_monthly_gifts_only(client, funds):
    page = Elements(client.get("/donate").get_data(as_text=True))
    wrapper = [
        attrs
        for tag, attrs in page.elements
        if tag == "div" and "monthly-only" in (attrs.get("class") or "")
    ]
    assert len(wrapper) == 1
    css = client.get("/static/css/site.css").get_data(as_text=True)
    assert '[value="one_time"]:checked) .monthly-only { display: none; }' in css


def test_a_one_time_gift_gets_its_receipt_at_once_whatever_the_annual_box_says(
    app, give, stripe_sim, charity
):
    _, session_id = give(other_amount="30", annual_receipt="y")
    stripe_sim.pay(session_id)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 1
        assert count(app, MonthlyGift) == 0


# -- 8. errors that take the focus -------------------------------------------------------------


def test_a_failed_submit_focuses_a_summary_that_links_to_each_field_in_error(app, give):
    response, _ = give(other_amount="abc", donor_name="", postal_code="nope")
    assert response.status_code == 400
    page = Elements(response.get_data(as_text=True))
    summary = page.by_id("error-summary")
    assert summary["role"] == "alert" and summary["tabindex"] == "-1" and "autofocus" in summary
    links = [
        a["href"] for tag, a in page.elements if tag == "a" and a.get("href", "").startswith("#")
    ]
    assert links[1:] == ["#other_amount", "#donor_name", "#postal_code"]  # [0] skips to content
    # The summary comes before the form, in the order of the page.
    text = page.text_by_id["error-summary"]
    assert text.index("Amount") < text.index("Full name") < text.index("Postal code")


@pytest.mark.parametrize("name", ["donor_name", "postal_code", "other_amount"])
def test_fields_in_error_are_marked_and_described_by_their_message(app, give, name):
    response, _ = give(other_amount="abc", donor_name="", postal_code="nope")
    page = Elements(response.get_data(as_text=True))
    field = page.by_id(name)
    assert field["aria-invalid"] == "true"
    described = field["aria-describedby"].split()
    messages = [page.text_by_id.get(i, "") for i in described]
    assert any(m.startswith("Please ") for m in messages), messages


def test_fields_without_errors_are_not_marked(app, give):
    response, _ = give(donor_name="")
    page = Elements(response.get_data(as_text=True))
    assert "aria-invalid" not in page.by_id("email")
    assert "aria-invalid" not in page.by_id("other_amount")
    assert page.by_id("tribute_notify_email")["aria-describedby"] == "tribute_notify_email-hint"


def test_the_error_summary_in_french(app, give):
    response, _ = give(lang="fr", donor_name="")
    text = Elements(response.get_data(as_text=True)).text_by_id["error-summary"]
    assert "Veuillez corriger ce qui suit" in text and "Nom complet : Veuillez" in text


# -- 3. Cancel on Stripe's page -------------------------------------------------------------------


def cancel_path(app, session_id):
    return urlsplit(stripe_session(app, session_id)["cancel_url"]).path


def test_cancel_brings_the_form_back_filled_and_the_page_left_behind_cannot_be_paid(
    app, client, give, stripe_sim, run_worker
):
    response, session_id = give(
        other_amount="40",
        cover_fee="y",
        tribute_kind="memory",
        tribute_name="Lester Pearson",
        organization_name="Pearson & Co",
    )
    assert response.status_code == 303
    back = client.get(cancel_path(app, session_id))
    assert back.status_code == 200
    assert back.headers["Cache-Control"] == "no-store"
    html = back.get_data(as_text=True)
    assert "You cancelled the payment: nothing was charged." in html
    page = Elements(html)
    assert page.by_id("other_amount")["value"] == "40"
    assert "checked" in page.by_id("amount_choice-4")  # Other
    assert "checked" in page.by_id("cover_fee")
    assert page.by_id("tribute_name")["value"] == "Lester Pearson"
    assert page.by_id("organization_name")["value"] == "Pearson & Co"
    assert page.by_id("donor_name")["value"] == "Dana Donor"
    assert page.by_id("postal_code")["value"] == "K1P 5W1"
    assert page.text_by_id["charge-summary"].startswith("Your gift $40.00 + card fee")
    with app.app_context():
        assert db.session.scalar(sa.select(Donation.status)).value == "expired"
        assert stripe_session(app, session_id)["status"] == "expired"

    # The tab left open on Stripe's page cannot make a second gift beside the new one.
    again, new_session = give(other_amount="40", cover_fee="y")
    stripe_sim.pay(new_session)
    stripe_sim.pay(session_id, expect=400)
    run_worker()
    with app.app_context():
        statuses = db.session.scalars(sa.select(Donation.status).order_by(Donation.id)).all()
        assert [s.value for s in statuses] == ["expired", "paid"]


def test_a_monthly_gift_comes_back_monthly_with_its_receipt_choice(app, client, give, stripe_sim):
    _, session_id = give(frequency="monthly", amount_choice="5000", other_amount="")
    page = Elements(client.get(cancel_path(app, session_id)).get_data(as_text=True))
    assert "checked" in page.by_id("frequency-1")  # Monthly
    assert "checked" in page.by_id("amount_choice-1")  # $50
    assert "checked" not in page.by_id("annual_receipt")
    assert page.by_id("other_amount").get("value", "") == ""


def test_coming_back_through_cancel_after_paying_shows_the_thank_you_page(
    app, client, give, stripe_sim
):
    _, session_id = give(other_amount="25")
    stripe_sim.pay(session_id)
    back = client.get(cancel_path(app, session_id))
    assert back.status_code == 302 and f"session_id={session_id}" in back.location
    with app.app_context():
        assert db.session.scalar(sa.select(Donation.status)).value == "paid"


def test_a_forged_way_back_shows_nothing(app, client, give, stripe_sim):
    _, session_id = give(other_amount="25")
    path = cancel_path(app, session_id)
    forged = client.get(path[:-3] + "abc")
    assert forged.status_code == 400
    assert "Dana Donor" not in forged.get_data(as_text=True)


# -- 7. names and addresses: plain text only ---------------------------------------------------

HOSTILE = [
    ("donor_name", "<script>alert(1)</script><b>Bold</b>"),
    ("organization_name", "Acme <b>Inc</b>"),
    ("address_line1", "12 Elgin\r\nBcc: victim@example.org"),
    ("address_line2", "Apt\u00855"),
    ("city", "Ottawa\x1b[31m"),
    ("province", "O<N"),
    ("postal_code", "K1P\n5W1"),
    ("tribute_name", "Lester\r\nBcc: victim@example.org"),
]


@pytest.mark.parametrize(("field", "value"), HOSTILE)
def test_names_and_addresses_refuse_markup_and_control_characters_on_the_form(
    app, give, field, value
):
    extra = {"tribute_kind": "honour"} if field == "tribute_name" else {}
    response, _ = give(**{field: value}, **extra)
    assert response.status_code == 400
    page = Elements(response.get_data(as_text=True))
    assert page.by_id(field)["aria-invalid"] == "true"
    assert "Please use plain text here" in page.text_by_id[f"{field}-error"]
    assert count(app, Donation) == 0


API_PATHS = {
    "donor_name": ("donor", "name"),
    "organization_name": ("donor", "organization_name"),
    "address_line1": ("donor", "address", "line1"),
    "address_line2": ("donor", "address", "line2"),
    "city": ("donor", "address", "city"),
    "province": ("donor", "address", "province"),
    "postal_code": ("donor", "address", "postal_code"),
    "tribute_name": ("tribute", "name"),
}


@pytest.mark.parametrize(("field", "value"), HOSTILE)
def test_names_and_addresses_refuse_markup_and_control_characters_in_the_api(
    app, client, funds, stripe_sim, field, value
):
    body = {
        "amount": "25",
        "fund": "general",
        "donor": {
            "name": "Dana Donor",
            "email": "dana@example.org",
            "address": {
                "line1": "12 Elgin",
                "city": "Ottawa",
                "province": "ON",
                "postal_code": "K1P 5W1",
            },
        },
        "tribute": {"kind": "honour", "name": "Lester Pearson"},
    }
    *parents, last = API_PATHS[field]
    target = body
    for name in parents:
        target = target[name]
    target[last] = value
    response = client.post("/api/v1/donations", json=body)
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    assert "Please use plain text here" in response.get_data(as_text=True)
    assert count(app, Donation) == 0


def test_a_nul_byte_is_refused_before_any_form_or_api_sees_it(app, client, give):
    response, _ = give(donor_name="Dana\u0000Donor")
    assert response.status_code == 400
    api = client.post("/api/v1/donations", json={"donor": {"name": "Dana\u0000Donor"}})
    assert api.status_code == 400
    assert count(app, Donation) == 0


def test_the_gift_verb_itself_refuses_a_name_with_a_line_break(app, funds):
    from core.validators import InvalidText
    from donations import gifts

    with app.test_request_context():
        request = gifts.GiftRequest(
            amount=2500,
            fund=gifts.fund_by_slug("general"),
            donor_name="Dana",
            email="dana@example.org",
            address_line1="12 Elgin",
            city="Ottawa",
            province="ON",
            postal_code="K1P 5W1",
            tribute_kind="honour",
            tribute_name="Lester\r\nBcc: victim@example.org",
        )
        with pytest.raises(InvalidText) as refused:
            gifts.start_donation(request)
        assert refused.value.field == "tribute_name"
        db.session.rollback()
