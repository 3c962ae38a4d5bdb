"""The product's purposes as one table: how each is paid for, and its state as plain values.

Each :class:`Purpose` starts a checkout through the real pages (``/donate``, ``/join``,
``/checkout``), then may move time on so that Stripe renews it. :func:`state` reads every
row a payment can touch (payments, gifts, receipts, memberships, dues, orders, stock, the
outbox and the event inbox) as values without ids or times, so that two runs in any
delivery order can be compared with ``==``.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from core import clock
from core.db import db
from tests.donation_fixtures import gift_form
from tests.helpers import post_form
from tests.member_fixtures import join_form, session_of
from tests.shop_fixtures import add_to_cart, check_out

DONOR = "dana@example.org"
MEMBER = "ines@example.org"
BUYER = "buyer@example.org"
PASSWORD = "a long enough passphrase"  # a visitor making an account at checkout


@dataclass(frozen=True)
class Purpose:
    name: str
    #: ``submit(ctx)`` fills in the purpose's form as a visitor; returns the response.
    submit: callable
    #: Fixtures the purpose needs (seeded funds, tiers, products).
    fixtures: tuple = ()
    #: ``renew(ctx)`` moves both clocks on so that Stripe charges again, or None.
    renew: callable = None
    #: ``resubmit(ctx)``: the visitor sends the form again (the shop keeps the cart, so
    #: only the checkout is sent again); None: ``submit`` again.
    resubmit: callable = None

    def start(self, ctx, again=False):
        """Submit the form; the Checkout Session's id it sends the visitor to."""
        response = (self.resubmit or self.submit)(ctx) if again else self.submit(ctx)
        assert response.status_code == 303, response.get_data(as_text=True)
        return session_of(response)


class Ctx:
    """What a purpose's steps use: the app, a visitor's client, the simulator, fixtures."""

    def __init__(self, request, purpose):
        self.app = request.getfixturevalue("app")
        self.client = request.getfixturevalue("client")
        self.stripe_sim = request.getfixturevalue("stripe_sim")
        self.fixtures = {name: request.getfixturevalue(name) for name in purpose.fixtures}


def _give(ctx, **overrides):
    return post_form(ctx.client, "/donate", gift_form(**overrides), token_from="/donate")


def _join(ctx, renewal):
    return post_form(
        ctx.client, "/join/individual", join_form(renewal=renewal), token_from="/join/individual"
    )


def _shop(ctx, **extras):
    products = ctx.fixtures["products"]
    add_to_cart(ctx.client, products["issue-42"], 2)
    add_to_cart(ctx.client, products["issue-41-pdf"], 1)
    if extras:
        chosen = post_form(
            ctx.client, "/cart/extras", {"add": "Add", **extras}, token_from="/cart/extras"
        )
        assert chosen.status_code == 303, chosen.get_data(as_text=True)
        password = {"password": PASSWORD}
    else:
        password = {}
    response, _ = check_out(ctx.client, **password)
    return response


def _check_out_again(ctx):
    extras = "tiers" in ctx.fixtures  # a membership in the cart: an account is made
    response, _ = check_out(ctx.client, **({"password": PASSWORD} if extras else {}))
    return response


def _a_month_later(ctx):
    ctx.stripe_sim.advance(days=31)


def _a_year_later(ctx):
    from members.models import Membership

    with ctx.app.app_context():
        ends_on = db.session.scalar(sa.select(Membership.ends_on))
        days = (ends_on - clock.today()).days + 2  # past the last paid day: Stripe renews
    ctx.stripe_sim.advance(days=days)


ONE_TIME_GIFT = Purpose("one-time gift", lambda ctx: _give(ctx), fixtures=("funds",))
MONTHLY_GIFT = Purpose(
    "monthly gift",
    lambda ctx: _give(ctx, frequency="monthly", other_amount="20", annual_receipt="y"),
    fixtures=("funds",),
)
MONTHLY_GIFT_RENEWED = Purpose(
    "monthly gift and its renewal",
    MONTHLY_GIFT.submit,
    fixtures=("funds",),
    renew=_a_month_later,
)
MEMBERSHIP = Purpose("membership paid once", lambda ctx: _join(ctx, "once"), fixtures=("tiers",))
MEMBERSHIP_RENEWED = Purpose(
    "membership and its yearly renewal",
    lambda ctx: _join(ctx, "auto"),
    fixtures=("tiers",),
    renew=_a_year_later,
)
SHOP_ORDER = Purpose(
    "shop order",
    lambda ctx: _shop(ctx),
    fixtures=("products",),
    resubmit=_check_out_again,
)
MIXED_CART = Purpose(
    "mixed cart: issues, a gift and a membership",
    lambda ctx: _shop(ctx, gift_amount="25", fund="general", tier="individual"),
    fixtures=("products", "funds", "tiers"),
    resubmit=_check_out_again,
)

ALL = [ONE_TIME_GIFT, MONTHLY_GIFT_RENEWED, MEMBERSHIP, MEMBERSHIP_RENEWED, SHOP_ORDER, MIXED_CART]


THANKS = (DONOR, "Thank you for your gift")
CONFIRM = (MEMBER, "Confirm your email address")
WELCOME = (MEMBER, "Welcome: your membership")
STOCK = [("issue-41", "0"), ("issue-41-pdf", None), ("issue-42", "8")]  # 2 of 10 sold

#: What each purpose ends with once paid (and renewed), every other table empty.
END_STATES = {
    ONE_TIME_GIFT: {
        "payments": [("succeeded", "payment", 2500, 0, 103)],
        "donations": [("one_time", "paid", "2500", "0")],
        "receipts": [("acknowledgement", "2500", "False")],
        "emails": [THANKS],
    },
    MONTHLY_GIFT: {
        "payments": [("succeeded", "subscription", 2000, 0, 88)],
        "donations": [("monthly", "paid", "2000", "0")],
        "monthly gifts": [("active", "2000")],
        "emails": [THANKS],
    },
    MONTHLY_GIFT_RENEWED: {
        "payments": [("succeeded", "subscription", 2000, 0, 88)] * 2,
        "donations": [("monthly", "paid", "2000", "0")] * 2,
        "monthly gifts": [("active", "2000")],
        "emails": [THANKS],  # the renewal's gift goes on the annual receipt
    },
    MEMBERSHIP: {
        "payments": [("succeeded", "payment", 5000, 0, 175)],
        "memberships": [("current", "False")],
        "dues": [("paid", "5000", "0")],
        "emails": [CONFIRM, WELCOME],
    },
    MEMBERSHIP_RENEWED: {
        "payments": [("succeeded", "subscription", 5000, 0, 175)] * 2,
        "memberships": [("current", "True")],
        "dues": [("paid", "5000", "0")] * 2,
        "emails": [CONFIRM, WELCOME, (MEMBER, "Your membership is renewed")],
    },
    SHOP_ORDER: {
        "payments": [("succeeded", "payment", 4100, 0, 149)],
        "orders": [("paid", "4100", "0")],
        "stock": STOCK,
        "emails": [(BUYER, "Your Mondial order M-000001")],
    },
    MIXED_CART: {
        "payments": [("succeeded", "payment", 11600, 0, 366)],  # $41 + $25 + $50
        "orders": [("paid", "4100", "0")],
        "donations": [("one_time", "paid", "2500", "0")],
        "receipts": [("acknowledgement", "2500", "False")],
        "memberships": [("current", "False")],
        "dues": [("paid", "5000", "0")],
        "stock": STOCK,
        "emails": [
            (BUYER, "Confirm your email address"),
            (BUYER, "Thank you for your gift"),
            (BUYER, "Welcome: your membership"),
            (BUYER, "Your Mondial order M-000001"),
        ],
    },
}


def expected(purpose, order_number=1):
    """The purpose's end state; a shop order's email names ``M-<order_number>``."""
    empty = dict.fromkeys(
        [
            "payments",
            "refunds",
            "disputes",
            "donations",
            "monthly gifts",
            "receipts",
            "memberships",
            "dues",
            "orders",
            "stock",
            "emails",
            "events not handled",
        ],
        [],
    )
    end = {**empty, **END_STATES[purpose]}
    number = f"M-{order_number:06d}"
    end["emails"] = [(to, subject.replace("M-000001", number)) for to, subject in end["emails"]]
    return end


def by_name(purposes):
    return {"argnames": "purpose", "argvalues": purposes, "ids": [p.name for p in purposes]}


def state(app):
    """Every row a payment touches, as sorted tuples of plain values."""
    from core.mail.models import OutboxMessage
    from donations.models import Donation, MonthlyGift, Receipt
    from members.models import Dues, Membership
    from payments.models import Dispute, Payment, Refund, StripeEvent
    from shop.models import Order, Product

    def rows(*columns, where=None):
        query = sa.select(*columns)
        if where is not None:
            query = query.where(where)
        return sorted(
            tuple(str(v) if v is not None else None for v in row)
            for row in db.session.execute(query)
        )

    with app.app_context():
        found = {
            "payments": sorted(
                (str(p.status), p.mode, p.amount, p.amount_refunded, p.fee)
                for p in db.session.scalars(sa.select(Payment))
            ),
            "refunds": rows(Refund.status, Refund.amount),
            "disputes": rows(Dispute.status, Dispute.amount),
            "donations": rows(Donation.kind, Donation.status, Donation.amount, Donation.refunded),
            "monthly gifts": rows(MonthlyGift.status, MonthlyGift.amount),
            "receipts": rows(Receipt.kind, Receipt.amount, Receipt.voided_at.is_not(None)),
            "memberships": rows(Membership.status, Membership.auto_renew),
            "dues": rows(Dues.status, Dues.amount, Dues.refunded),
            "orders": rows(Order.status, Order.total, Order.refunded),
            "stock": rows(Product.slug, Product.stock),
            "emails": rows(OutboxMessage.to_addr, OutboxMessage.subject),
            "events not handled": rows(StripeEvent.type, where=StripeEvent.processed_at.is_(None)),
        }
        db.session.remove()
    return found
