"""Every Flask-Admin screen: create, save unchanged, save changed, delete where allowed;
no inline code, a lang attribute, times where the organization is.

Each feature that adds an admin view adds a row to ``SCREENS``; a test fails until it does.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask_admin.contrib.sqla import ModelView

from core.accounts.models import User
from core.db import db
from donations.models import Fund
from shop.models import Product, ShippingRate, TaxRate
from tests.helpers import csrf_token


@dataclass
class Screen:
    model: type
    #: a valid new record, as a person fills in the create form (None: no create form)
    create: dict | None
    #: one field to change on an existing record, and the value the model then holds
    change: tuple
    #: makes a record to edit; returns its id
    make: object = None
    extra: dict = field(default_factory=dict)


def make_fund(app):
    with app.app_context():
        fund = Fund(slug="peace-talks", name_en="Peace talks", name_fr="Pourparlers de paix")
        db.session.add(fund)
        db.session.commit()
        return fund.id


def make_member(app):
    from core.accounts.services import create_user

    with app.app_context():
        user = create_user("someone@example.org", "long enough password", name="Some One")
        db.session.commit()
        return user.id


def make_product(app):
    from tests.shop_fixtures import make_product as make

    with app.app_context():
        product_id = make("issue-60", issue_number=60).id
        db.session.commit()
        return product_id


def make_tax_rate(app):
    from shop.cli import seed_rates
    from shop.models import TaxRate

    with app.app_context():
        seed_rates()
        db.session.commit()
        return db.session.scalar(sa.select(TaxRate.id).where(TaxRate.province == "ON"))


def make_shipping_rate(app):
    from shop.models import ShippingRate

    with app.app_context():
        rate = ShippingRate(zone="US", up_to_grams=300, price=1100)
        db.session.add(rate)
        db.session.commit()
        return rate.id


def make_tier(app):
    from members.models import Tier

    with app.app_context():
        tier = Tier(slug="supporter", name_en="Supporter", name_fr="Sympathisant", price=2500)
        db.session.add(tier)
        db.session.commit()
        return tier.id


def make_campaign(app):
    from datetime import date

    from involve.models import Campaign, DeliveryMethod

    with app.app_context():
        campaign = Campaign(
            slug="mali-2020",
            title_en="Peacekeeping in Mali",
            title_fr="Le maintien de la paix au Mali",
            starts_on=date(2026, 11, 1),
            ends_on=date(2026, 12, 31),
            delivery=DeliveryMethod.pdf,
            recipient_name_en="The Prime Minister",
            recipient_email="pm@example.org",
        )
        db.session.add(campaign)
        db.session.commit()
        return campaign.id


def make_page(app, slug="about-us"):
    from involve.models import ContentPage

    with app.app_context():
        page = ContentPage(slug=slug, title_en="About us", title_fr="À propos", published=True)
        db.session.add(page)
        db.session.commit()
        return page.id


def make_page_link(app):
    from involve.models import PageLink

    page_id = make_page(app, slug="roadmap")
    with app.app_context():
        link = PageLink(page_id=page_id, label_en="Our roadmap", href="/pages/roadmap")
        db.session.add(link)
        db.session.commit()
        return link.id


def new_page_link(app):
    return {
        "label_en": "Read the letter",
        "label_fr": "Lire la lettre",
        "page": str(make_page(app, slug="letters")),
        "position": "1",
        "href": "https://example.org/letter",
    }


SCREENS = {
    "fund": Screen(
        Fund,
        create={
            "slug": "ukraine-peace",
            "name_en": "Peace talks fund",
            "name_fr": "Fonds pour les pourparlers de paix",
            "description_en": "",
            "description_fr": "",
            "goal": "12 500",
            "active": "y",
            "position": "50",
        },
        change=("name_en", "Peace negotiations"),
        make=make_fund,
    ),
    "user": Screen(User, create=None, change=("name", "Someone Else"), make=make_member),
    "product": Screen(
        Product,
        create={
            "slug": "mondial-61",
            "kind": "issue",
            "format": "print",
            "title_en": "Mondial 61",
            "title_fr": "Mondial 61",
            "issue_number": "61",
            "season": "spring",
            "year": "2027",
            "published_on": "2027-04-15",
            "edition": "en",
            "price": "12",
            "stock": "100",
            "weight_grams": "180",
            "tax_category": "printed",
            "active": "y",
            "position": "0",
        },
        change=("stock", 42),
        make=make_product,
    ),
    "taxrate": Screen(TaxRate, create=None, change=("provincial", 900), make=make_tax_rate),
    "shippingrate": Screen(
        ShippingRate,
        create={"zone": "INTL", "up_to_grams": "2000", "price": "50"},
        change=("up_to_grams", 3000),
        make=make_shipping_rate,
    ),
    "tier": Screen(
        __import__("members.models", fromlist=["Tier"]).Tier,
        create={
            "slug": "student",
            "name_en": "Student",
            "name_fr": "Étudiant",
            "description_en": "",
            "description_fr": "",
            "price": "15",
            "adults": "1",
            "mondial_digital": "y",
            "advantage": "0",
            "advantage_description_en": "",
            "advantage_description_fr": "",
            "active": "y",
            "position": "40",
        },
        change=("name_en", "Supporter (yearly)"),
        make=make_tier,
    ),
    "campaign": Screen(
        __import__("involve.models", fromlist=["Campaign"]).Campaign,
        create={
            "slug": "un-parliament",
            "title_en": "A UN Parliamentary Assembly",
            "title_fr": "Une Assemblée parlementaire des Nations Unies",
            "summary_en": "",
            "summary_fr": "",
            "body_en": "",
            "body_fr": "",
            "letter_en": "Dear Prime Minister,",
            "letter_fr": "Monsieur le Premier ministre,",
            "result_en": "",
            "result_fr": "",
            "recipient_name_en": "The Prime Minister",
            "recipient_name_fr": "Le premier ministre",
            "recipient_email": "",
            "recipient_address": "80 Wellington Street, Ottawa",
            "recipient_language": "en",
            "starts_on": "2026-11-01",
            "ends_on": "2027-01-31",
            "goal": "500",
            "delivery": "pdf",
            "letters_per_hour": "30",
            "published": "y",
            "comments_open": "y",
        },
        change=("title_en", "Peacekeeping in Mali, again"),
        make=make_campaign,
    ),
    "contentpage": Screen(
        __import__("involve.models", fromlist=["ContentPage"]).ContentPage,
        create={
            "slug": "world-federalism",
            "title_en": "World federalism",
            "title_fr": "Le fédéralisme mondial",
            "body_en": "Democracy beyond borders.",
            "body_fr": "La démocratie au-delà des frontières.",
            "published": "y",
            "comments_open": "y",
        },
        change=("title_en", "About the movement"),
        make=make_page,
    ),
    "pagelink": Screen(
        __import__("involve.models", fromlist=["PageLink"]).PageLink,
        create=new_page_link,
        change=("label_en", "Our road map"),
        make=make_page_link,
    ),
}


def model_views(app):
    admin = app.extensions["mondial_admin"]
    return {view.endpoint: view for view in admin._views if isinstance(view, ModelView)}


def test_every_admin_screen_is_in_the_table(app):
    assert set(model_views(app)) == set(SCREENS)


class FormValues(HTMLParser):
    """What a browser would send back from the admin form, untouched."""

    def __init__(self):
        super().__init__()
        self.values = {}
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in {"submit", "button"}:
            if attrs.get("type") == "checkbox":
                if "checked" in attrs:
                    self.values[name] = attrs.get("value") or "y"
            else:
                self.values[name] = attrs.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value")
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += (
                data.lstrip("\n") if not self.values[self._textarea] else data
            )


def form_values(html):
    parser = FormValues()
    parser.feed(html)
    return parser.values


def saved(response):
    return response.status_code == 302 and "/edit/" not in response.location


@pytest.mark.parametrize("endpoint", sorted(SCREENS))
def test_an_admin_creates_saves_unchanged_saves_changed_and_deletes_where_allowed(
    app, client, signed_in, funds, endpoint
):
    screen = SCREENS[endpoint]
    view = model_views(app)[endpoint]
    signed_in("admin")
    base = f"/admin/{endpoint}"
    assert client.get(f"{base}/").status_code == 200

    if screen.create is not None:
        assert view.can_create
        page = client.get(f"{base}/new/")
        assert page.status_code == 200
        new = screen.create(app) if callable(screen.create) else screen.create
        response = client.post(
            f"{base}/new/", data={**new, "csrf_token": csrf_token(client, f"{base}/new/")}
        )
        assert saved(response), re.findall(
            r'class="invalid-feedback">(.*?)</div>|class="flash[^"]*">(.*?)</', response.text, re.S
        )
        with app.app_context():
            key, value = next(iter(new.items()))
            assert db.session.scalar(
                sa.select(sa.func.count())
                .select_from(screen.model)
                .where(getattr(screen.model, key) == value)
            )
    else:
        assert not view.can_create
        assert client.get(f"{base}/new/").status_code == 302  # Flask-Admin: back to the list

    record_id = screen.make(app)
    edit = f"{base}/edit/?id={record_id}"
    page = client.get(edit)
    assert page.status_code == 200
    values = form_values(page.get_data(as_text=True))
    assert values.get("csrf_token")

    unchanged = client.post(edit, data=values)
    assert saved(unchanged), re.findall(
        r'class="invalid-feedback">(.*?)</div>', unchanged.text, re.S
    )
    assert "Already exists" not in client.get(unchanged.location).get_data(as_text=True)

    name, value = screen.change
    changed = client.post(edit, data={**values, name: value})
    assert saved(changed)
    with app.app_context():
        assert getattr(db.session.get(screen.model, record_id), name) == value

    token = csrf_token(client, f"{base}/")
    deleted = client.post(
        f"{base}/delete/", data={"id": str(record_id), "url": f"{base}/", "csrf_token": token}
    )
    with app.app_context():
        gone = db.session.get(screen.model, record_id) is None
    assert gone is view.can_delete, (deleted.status_code, view.can_delete)


def test_a_fund_saved_with_its_own_address_name_is_saved(app, client, signed_in, funds):
    """The regression: saving a fund said "Already exists." about its own address name."""
    signed_in("admin")
    with app.app_context():
        general = db.session.scalar(sa.select(Fund).where(Fund.slug == "general"))
    edit = f"/admin/fund/edit/?id={general.id}"
    values = form_values(client.get(edit).get_data(as_text=True))
    assert values["slug"] == "general"
    response = client.post(edit, data={**values, "name_en": "General fund (renamed)"})
    assert response.status_code == 302
    # And a real duplicate is still refused.
    duplicate = client.post(edit, data={**values, "slug": "mondial"})
    assert duplicate.status_code == 400
    assert "Already exists." in duplicate.get_data(as_text=True)


def admin_pages(app, client):
    """Every admin page a person can reach: index, and each list, create and edit form."""
    pages = ["/admin/"]
    for endpoint, view in model_views(app).items():
        pages.append(f"/admin/{endpoint}/")
        if view.can_create:
            pages.append(f"/admin/{endpoint}/new/")
        pages.append(f"/admin/{endpoint}/edit/?id={SCREENS[endpoint].make(app)}")
    return pages


INLINE = re.compile(r"""javascript:|\son[a-z]+\s*=|<script|\sstyle\s*=|<style""", re.I)


def test_admin_pages_carry_no_inline_code_and_say_their_language(app, client, signed_in, funds):
    signed_in("admin")
    for path in admin_pages(app, client):
        for language in ("en", "fr"):
            response = client.get(f"{path}{'&' if '?' in path else '?'}lang={language}")
            assert response.status_code == 200, path
            html = response.get_data(as_text=True)
            assert INLINE.findall(html) == [], path
            assert f'<html lang="{language}">' in html, path
            assert "nonce-" not in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (datetime(2027, 1, 15, 17, 5, 42, 123456, tzinfo=UTC), "2027-01-15 12:05 EST"),
        (datetime(2027, 7, 1, 3, 59, 59, 999999, tzinfo=UTC), "2027-06-30 23:59 EDT"),
    ],
)
def test_admin_times_are_shown_where_the_organization_is_to_the_minute(
    app, client, signed_in, stored, shown
):
    signed_in("admin")
    user_id = make_member(app)
    with app.app_context():
        db.session.get(User, user_id).last_login_at = stored
        db.session.commit()
    html = client.get("/admin/user/").get_data(as_text=True)
    assert shown in html
    assert "+00:00" not in html and "." + str(stored.microsecond) not in html


def test_the_user_list_filters_with_plain_links(app, client, signed_in):
    signed_in("admin")
    make_member(app)
    html = client.get("/admin/user/").get_data(as_text=True)
    links = dict(
        (text, href.replace("&amp;", "&"))
        for href, text in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', html)
        if "flt" in href
    )
    only_admins = client.get(links["Administrator"]).get_data(as_text=True)
    assert "admin@example.org" in only_admins and "someone@example.org" not in only_admins
    french = client.get("/admin/user/?lang=fr").get_data(as_text=True)
    assert "Administration" in french and "Modération" in french
