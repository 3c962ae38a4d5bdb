"""Fixtures: a served simulator, a real SDK client and a webhook receiver."""

import threading
from html.parser import HTMLParser

import pytest
import requests
import stripe
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from payments.simulator import SimConfig, Simulator
from payments.simulator.server import QuietHandler, serve

SECRETS = ["whsec_sim_first_secret", "whsec_sim_second_secret"]


class Receiver:
    """A webhook endpoint in a thread that keeps what it is sent."""

    def __init__(self):
        self.status = 200
        self.received = []
        self.lock = threading.Lock()
        self.server = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=QuietHandler
        )
        self.url = f"http://127.0.0.1:{self.server.server_port}/stripe/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @Request.application
    def app(self, request):
        with self.lock:
            self.received.append(
                {"body": request.get_data(as_text=True), "headers": dict(request.headers)}
            )
        return Response("", status=self.status)

    def clear(self):
        with self.lock:
            self.received.clear()
        self.status = 200

    @property
    def events(self):
        """The events received so far, verified with the first secret."""
        with self.lock:
            received = list(self.received)
        return [
            stripe.Webhook.construct_event(r["body"], r["headers"]["Stripe-Signature"], SECRETS[0])
            for r in received
        ]

    def types(self):
        return [e.type for e in self.events]


class Control:
    """The ``/_sim`` control API."""

    def __init__(self, base):
        self.base = base

    def post(self, path, expect=200, **body):
        response = requests.post(self.base + "/_sim" + path, json=body, timeout=30)
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, path):
        response = requests.get(self.base + "/_sim" + path, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="session")
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="session")
def served(receiver):
    sim = Simulator(SimConfig(webhook_url=receiver.url, webhook_secrets=list(SECRETS)))
    server, _ = serve(sim)
    yield sim
    server.shutdown()


@pytest.fixture
def sim(served, receiver):
    served.config.on_clock_change = None
    served.reset()
    receiver.clear()
    served.config.webhook_url = receiver.url
    yield served
    served.delivery.flush()


@pytest.fixture
def sdk(sim):
    return stripe.StripeClient(
        "sk_test_sim", base_addresses={"api": sim.config.public_url}, max_network_retries=0
    )


@pytest.fixture
def control(sim):
    return Control(sim.config.public_url)


@pytest.fixture
def raw(sim):
    """Raw HTTP to the API, for what the SDK hides (headers, ``expand[]``)."""

    def call(method, path, data=None, key="sk_test_sim", headers=None):
        headers = dict(headers or {})
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return requests.request(
            method, sim.config.public_url + path, data=data, headers=headers, timeout=30
        )

    return call


@pytest.fixture
def checkout(sdk, control):
    """Create (and optionally pay) a Checkout Session: ``checkout(amount, ...)``."""

    def create(amount=5000, *, mode="payment", pay=None, interval=None, **params):
        price_data = {
            "currency": "cad",
            "unit_amount": amount,
            "product_data": {"name": "Monthly gift" if interval else "Gift"},
        }
        if interval or mode == "subscription":
            price_data["recurring"] = {"interval": interval or "month"}
            mode = "subscription"
        params = {
            "mode": mode,
            "success_url": "https://app.test/ok?s={CHECKOUT_SESSION_ID}",
            "cancel_url": "https://app.test/cancel",
            "line_items": [{"price_data": price_data, "quantity": 1}],
            **params,
        }
        session = sdk.v1.checkout.sessions.create(params=params)
        if pay:
            control.post(
                f"/checkout/sessions/{session.id}/pay",
                card=pay,
                email="ada@example.org",
                name="Ada Lovelace",
            )
            session = sdk.v1.checkout.sessions.retrieve(session.id)
        return session

    return create


class Elements(HTMLParser):
    """Attributes and text of the elements that have an ``id``."""

    def __init__(self, html):
        super().__init__()
        self.by_id, self.radios, self._open = {}, [], []
        self.feed(html)

    VOID = {"input", "meta", "br", "img", "hr", "link"}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "radio":
            self.radios.append(attrs)
        if "id" in attrs:
            self.by_id[attrs["id"]] = {"tag": tag, "text": "", **attrs}
        if tag not in self.VOID:
            self._open.append(attrs.get("id"))

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for id in self._open:
            if id is not None:
                self.by_id[id]["text"] += data.strip()


@pytest.fixture
def parse_html():
    return Elements
