"""Mailing lists per issue: members and subscribers before, on and after the date; the CSV."""

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.db import db
from members.models import MembershipStatus, MondialFormat
from shop import mailing
from shop.models import IssueSend, Order, OrderLine, OrderStatus
from tests.members.test_entitlement import member
from tests.shop_fixtures import make_product

ISSUE = date(2027, 5, 1)
DAY = timedelta(days=1)


def subscriber(name, paid_on, *, fmt="print", status=OrderStatus.paid):
    order = Order(
        email=f"{name}@example.org",
        name=name.title(),
        status=status,
        address_line1="2 Side Road",
        city="Halifax",
        province="NS",
        postal_code="B3H 1A1",
        country="CA",
        paid_at=datetime(paid_on.year, paid_on.month, paid_on.day, 16, tzinfo=UTC),
        lines=[
            OrderLine(
                product_id=make_product(f"sub-{name}", kind="subscription", fmt=fmt).id,
                title="A year of Mondial",
                format=fmt,
                kind="subscription",
                tax_category="printed",
                unit_price=2000,
                quantity=1,
            )
        ],
    )
    db.session.add(order)
    db.session.flush()
    return order


@pytest.fixture
def lists(app, tiers, shop_rates):
    with app.app_context():
        make_product("issue-50", issue_number=50, published_on=ISSUE)
        make_product(
            "issue-50-pdf", fmt="digital", issue_number=50, published_on=ISSUE, file_name="x.pdf"
        )
        # Members: before, on and after the date (as the members service rules)
        member("before", starts_on=ISSUE - 100 * DAY, ends_on=ISSUE + 200 * DAY)
        member("onthedate", starts_on=ISSUE, ends_on=ISSUE + 365 * DAY)
        member("after", starts_on=ISSUE + DAY, ends_on=ISSUE + 366 * DAY)
        member("digital", starts_on=ISSUE - DAY, ends_on=ISSUE + DAY, fmt=MondialFormat.digital)
        member(
            "cancelled",
            starts_on=ISSUE - DAY,
            ends_on=ISSUE + DAY,
            status=MembershipStatus.cancelled,
        )
        # Subscribers: before (within the year), on, after, a year too late, refunded
        subscriber("subbefore", ISSUE - 300 * DAY)
        subscriber("subon", ISSUE)
        subscriber("subafter", ISSUE + DAY)
        subscriber("subexpired", ISSUE - 400 * DAY)
        subscriber("subrefunded", ISSUE - DAY, status=OrderStatus.refunded)
        subscriber("subdigital", ISSUE - DAY, fmt="digital")
        # A member who also subscribed: one copy
        subscriber("before", ISSUE - DAY)
        db.session.commit()


def names(found):
    return sorted(c.email.split("@")[0] for c in found)


def test_who_is_on_the_list_of_an_issue(app_ctx, lists):
    assert names(mailing.copies(ISSUE)) == [
        "before",
        "digital",
        "onthedate",
        "subbefore",
        "subdigital",
        "subon",
    ]
    assert names(mailing.copies(ISSUE, "print")) == ["before", "onthedate", "subbefore", "subon"]
    assert names(mailing.copies(ISSUE + 2 * DAY, "print")) == [
        "after",
        "before",
        "onthedate",
        "subafter",
        "subbefore",
        "subon",
    ]


def test_the_printers_csv_neutralises_formulas(app, client, lists, signed_in):
    from members.models import Membership

    with app.app_context():
        first = db.session.scalar(sa.select(Membership).order_by(Membership.id))
        first.mailing_name = '=HYPERLINK("http://evil")'
        db.session.commit()
    signed_in("treasurer")
    response = client.get("/treasurer/mailing-lists/50.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == mailing.CSV_HEADER
    assert len(rows) == 5
    assert '\'=HYPERLINK("http://evil")' in [row[0] for row in rows]
    assert client.get("/treasurer/mailing-lists/99.csv").status_code == 404


def test_the_digital_copies_go_out_once_per_person(app, client, lists, signed_in, deliver):
    from tests.helpers import post_form

    signed_in("treasurer")
    page = "/treasurer/mailing-lists"
    assert client.get(page).status_code == 200
    response = post_form(client, f"{page}/50/send", {}, token_from=page)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert "2 emails are on their way." in client.get(page).get_data(as_text=True)
    post_form(client, f"{page}/50/send", {}, token_from=page)
    with app.app_context():
        sent = db.session.scalars(sa.select(IssueSend.email)).all()
    assert sorted(sent) == ["digital@example.org", "subdigital@example.org"]
    mail = deliver()
    assert len(mail.to("digital@example.org")) == 1
