"""Helpers the tests share: real-service checks, forms with CSRF, the mailbox, servers."""

import contextlib
import email
import email.policy
import os
import re
import socket
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

CI = os.environ.get("CI", "").lower() == "true"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
POSTGRES = bool(TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgresql"))
REDIS_URL = os.environ.get("REDIS_URL")
ROOT = Path(__file__).resolve().parent.parent

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require(available, what):
    """Skip when a real service is missing; under CI fail instead, so nothing passes by skipping."""
    if available:
        return
    if CI:
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} is not available")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class QueryCounter:
    """The SQL statements sent to any database while it is active, as text.

    ``with QueryCounter() as queries: ...`` then ``len(queries)`` and ``queries.statements``.
    Savepoints are bookkeeping, not queries, and are left out.
    """

    SKIPPED = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")

    def __init__(self):
        self.statements = []
        self._lock = threading.Lock()

    def _note(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(self.SKIPPED):
            return
        with self._lock:
            self.statements.append(statement)

    def __enter__(self):
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *exc):
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", self._note)

    def __len__(self):
        return len(self.statements)

    def __str__(self):
        return "\n".join(f"{n}. {' '.join(s.split())}" for n, s in enumerate(self.statements, 1))


class Mailbox:
    """Messages received by the test SMTP server, parsed."""

    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def clear(self):
        with self._lock:
            self.messages.clear()

    def to(self, address):
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def text(message):
        return message.get_body(("plain",)).get_content()

    @classmethod
    def links(cls, message):
        return re.findall(r"https?://\S+", cls.text(message))


def csrf_token(client, path="/login"):
    """The CSRF token a visitor's browser would hold, taken from a form page."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client, path, data, *, token_from=None, **kwargs):
    """POST a form the way a browser does, with the CSRF token from the page."""
    data = dict(data)
    data.setdefault("csrf_token", csrf_token(client, token_from or path))
    return client.post(path, data=data, **kwargs)


class LiveServer:
    def __init__(self, app, port):
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        from werkzeug.serving import WSGIRequestHandler

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args, **kwargs):
                pass

        self._server = make_server("127.0.0.1", port, app, threaded=True, request_handler=Quiet)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()


def sign_in(client, email, password):
    """Sign a test client in (with the second factor, for staff); return the response
    (302 on success)."""
    response = post_form(client, "/login", {"email": email, "password": password})
    return complete_second_factor(client, response, email)


#: The authenticator app of every staff account the tests enrolled: email -> secret.
TOTP_SECRETS = {}
_LAST_STEPS = {}


def totp_code(email, secret=None):
    """A code of ``email``'s app for a time step it has not used yet."""
    import pyotp

    from core import clock

    secret = secret or TOTP_SECRETS[email]
    totp = pyotp.TOTP(secret)
    now = totp.timecode(clock.now())
    # Now, or the next step for a second sign-in within the same 30 seconds (never the
    # step before: it may have passed by the time the server checks).
    step = max(now, _LAST_STEPS.get((email, secret), now - 1) + 1)
    assert step <= now + 1, f"{email} signed in more than twice in 30 seconds"
    _LAST_STEPS[(email, secret)] = step
    return totp.generate_otp(step)


def complete_second_factor(client, response, email):
    """After a right password, the step a treasurer or admin takes: enrol the app the first
    time (keeping its secret here), or type its code. Other responses pass through."""
    location = response.headers.get("Location", "") if response.status_code == 302 else ""
    if "/login/two-factor" not in location:
        return response
    if location.endswith("/setup"):
        html = client.get("/login/two-factor/setup").get_data(as_text=True)
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)
        TOTP_SECRETS[email] = secret
        done = post_form(client, "/login/two-factor/setup", {"code": totp_code(email, secret)})
        assert done.status_code == 200, done.get_data(as_text=True)
        page = done.get_data(as_text=True)
        target = re.search(r'id="continue" href="([^"]+)"', page).group(1)
        from markupsafe import Markup
        from werkzeug.utils import redirect

        return redirect(Markup(target).unescape())
    return post_form(client, "/login/two-factor", {"code": totp_code(email)})


def browser_sign_in(page, base_url, email, password, next_path=""):
    """Sign in through the pages in Chromium, second factor included."""
    page.goto(f"{base_url}/login{next_path}")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_load_state()
    browser_second_factor(page, email)


def browser_second_factor(page, email):
    """After a right password in Chromium: enrol the app the first time, or type its code."""
    if "/login/two-factor/setup" in page.url:
        secret = page.inner_text("#totp-secret").strip()
        TOTP_SECRETS[email] = secret
        page.fill("#code", totp_code(email, secret))
        page.click("#verify")
        page.click("#continue")
    elif "/login/two-factor" in page.url:
        page.fill("#code", totp_code(email))
        page.click("#verify")
    page.wait_for_load_state()


class SimControl:
    """The Stripe simulator's ``/_sim`` control API, as tests and the demo use it."""

    def __init__(self, sim, worker=None):
        import requests

        self.sim = sim
        self.url = sim.config.public_url
        self._http = requests.Session()
        # The app's worker, run after each control call as the real one would within
        # seconds; None while a test keeps it stopped.
        self.worker = worker

    def call(self, method, path, expect=200, **body):
        response = self._http.request(method, f"{self.url}/_sim{path}", json=body, timeout=60)
        assert response.status_code == expect, response.text
        if method != "GET" and self.worker is not None:
            self.worker()
        return response.json()

    @contextlib.contextmanager
    def worker_stopped(self):
        """Webhooks are stored but not handled until the block ends (or ``run_worker``)."""
        worker, self.worker = self.worker, None
        try:
            yield worker
        finally:
            self.worker = worker

    def pay(self, session_id, card="success", expect=200, **details):
        return self.call(
            "POST", f"/checkout/sessions/{session_id}/pay", expect, card=card, **details
        )

    def expire(self, session_id):
        return self.call("POST", f"/checkout/sessions/{session_id}/expire")

    def refund(self, charge_id, amount=None):
        body = {} if amount is None else {"amount": amount}
        return self.call("POST", f"/charges/{charge_id}/refund", **body)["refund"]

    def fail_refund(self, refund_id):
        return self.call("POST", f"/refunds/{refund_id}/fail")["refund"]

    def dispute(self, charge_id, **body):
        return self.call("POST", f"/charges/{charge_id}/dispute", **body)["dispute"]

    def close_dispute(self, dispute_id, outcome):
        return self.call("POST", f"/disputes/{dispute_id}/close", outcome=outcome)["dispute"]

    def advance(self, **delta):
        return self.call("POST", "/clock/advance", **delta)

    def payout(self, **body):
        return self.call("POST", "/payouts", **body)["payout"]

    def delivery(self, mode, count=None, api_version=None, late_by=None):
        body = {"mode": mode}
        if count is not None:
            body["count"] = count
        if api_version is not None:
            body["api_version"] = api_version
        if late_by is not None:
            body["late_by"] = late_by
        return self.call("POST", "/delivery", **body)

    def flush(self):
        return self.call("POST", "/flush")

    def wait_idle(self, timeout=30):
        """Return once every stalled idempotent request in the simulator has finished."""
        return self.call("POST", "/wait-idle", timeout=timeout)

    def hang(self, seconds, count=1):
        return self.call("POST", "/hang", seconds=seconds, count=count)

    def fail(self, status=500, count=1):
        """The next ``count`` API requests answer ``status`` before doing anything."""
        return self.call("POST", "/fail", status=status, count=count)

    def events(self, delivered=None):
        suffix = "" if delivered is None else f"?delivered={'true' if delivered else 'false'}"
        return self.call("GET", f"/events{suffix}")["data"]

    def deliver(self, event_id):
        return self.call("POST", f"/events/{event_id}/deliver")

    def state(self):
        return self.call("GET", "/state")
