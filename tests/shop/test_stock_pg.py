"""Overselling, on PostgreSQL: 200 buyers for the last 10 copies, and the control without a lock."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from core.db import db
from shop import stock
from shop.models import Order, OrderStatus, Product
from tests.helpers import POSTGRES, require
from tests.shop_fixtures import ONTARIO, make_product, stock_of

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

BUYERS = 200
CLIENTS = 20
COPIES = 10


@pytest.fixture(autouse=True)
def _postgres_only(app):
    require(POSTGRES, "PostgreSQL (TEST_DATABASE_URL)")
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"


@pytest.fixture
def no_rate_limits(app):
    """Every buyer comes from 127.0.0.1 here; the limits are for the open internet."""
    from core.extensions import limiter

    limiter.enabled = False
    yield
    limiter.enabled = True


@pytest.fixture
def last_copies(app, shop_rates):
    with app.app_context():
        product_id = make_product("last-copies", stock=COPIES).id
        db.session.commit()
        return product_id


def _token(html):
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _buyer_with_a_copy_in_the_cart(base, product_id):
    http = requests.Session()
    token = _token(http.get(f"{base}/shop", timeout=30).text)
    answer = http.post(
        f"{base}/cart/add",
        data={"csrf_token": token, "product_id": product_id, "quantity": 1},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303, answer.text
    return http, token


def _check_out(base, http, token, n):
    answer = http.post(
        f"{base}/checkout",
        data={**ONTARIO, "email": f"buyer{n}@example.org", "pay": "Pay", "csrf_token": token},
        allow_redirects=False,
        timeout=60,
    )
    return answer.status_code, answer.headers.get("Location"), answer.text


def test_200_checkouts_for_the_last_10_copies_make_exactly_10_orders(
    app, live_server, stripe_sim, last_copies, no_rate_limits
):
    base = live_server.url
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        buyers = list(
            pool.map(lambda _: _buyer_with_a_copy_in_the_cart(base, last_copies), range(BUYERS))
        )
        answers = list(
            pool.map(lambda pair: _check_out(base, *pair[1], pair[0]), enumerate(buyers))
        )
    statuses = [status for status, _, _ in answers]
    assert not [s for s in statuses if s >= 500], statuses
    sent_to_stripe = [location for status, location, _ in answers if status == 303]
    refused = [text for status, _, text in answers if status == 409]
    assert len(sent_to_stripe) == COPIES
    assert len(refused) == BUYERS - COPIES
    assert all("No more products available for purchase" in text for text in refused)
    assert stock_of(app, last_copies) == 0

    for location in sent_to_stripe:
        stripe_sim.pay(urlsplit(location).path.rsplit("/", 1)[-1])
    with app.app_context():
        orders = db.session.scalars(sa.select(Order)).all()
        assert len(orders) == COPIES
        assert {o.status for o in orders} == {OrderStatus.paid}
        assert db.session.get(Product, last_copies).stock == 0


def _two_buyers_for_the_last_copy(app, product_id, *, lock):
    """Two reservations forced to read the shelf before either writes, where they can."""
    meeting = threading.Barrier(2)

    def meet():
        try:
            meeting.wait(timeout=2)  # with the lock the other buyer is still waiting for it
        except threading.BrokenBarrierError:
            pass

    def buy():
        with app.app_context():
            try:
                stock.reserve({product_id: 1}, lock=lock)
                db.session.commit()
                return True
            except stock.SoldOut:
                db.session.rollback()
                return False
            finally:
                db.session.remove()

    stock.between_read_and_write = meet
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return sorted(f.result() for f in [pool.submit(buy) for _ in range(2)])
    finally:
        stock.between_read_and_write = None


def test_the_row_lock_keeps_two_buyers_from_the_same_last_copy(app, shop_rates):
    with app.app_context():
        product_id = make_product("one-left", stock=1).id
        db.session.commit()
    assert _two_buyers_for_the_last_copy(app, product_id, lock=True) == [False, True]
    assert stock_of(app, product_id) == 0


def test_negative_control_without_the_lock_the_last_copy_is_sold_twice(app, shop_rates):
    """The same interleaving without the lock: both buyers get the one copy (overselling)."""
    with app.app_context():
        product_id = make_product("one-left", stock=1).id
        db.session.commit()
    assert _two_buyers_for_the_last_copy(app, product_id, lock=False) == [True, True]
    assert stock_of(app, product_id) == 0  # two reservations, one copy: the count lies
