"""Scale-out: two app servers and two workers against one PostgreSQL and one Redis.

Two gunicorn processes on two ports and two ``flask worker run`` processes share the test
database, Redis and the SMTP server; the Stripe simulator (in this process) sends its
webhooks to the first server. Every journey runs at once, each visitor's requests split
between the two servers (one session cookie, signed with one key, is good on both): gifts,
memberships, orders, letters signed, volunteers, comments, accounts opened, and a
password guessed on both servers in turn. Then:

- every email was sent once (the outbox sends a second copy, with the same Message-ID,
  only when a worker dies mid-send, and none dies here);
- the sign-in limit counted the guesses made on both servers together (Redis);
- the periodic tasks ran once per period between the two workers;
- every payment, gift, membership and order is there once, and paid once.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import sqlalchemy as sa

from core.db import db
from tests.conftest import WEBHOOK_SECRETS
from tests.helpers import POSTGRES, REDIS_URL, free_port, require
from tests.member_fixtures import join_form
from tests.reliability.scale_app import TICK
from tests.shop_fixtures import ONTARIO

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
ADDRESS = {
    "address_line1": "12 Elgin Street",
    "city": "Ottawa",
    "province": "ON",
    "postal_code": "K1P 5W1",
    "country": "CA",
}
GIFTS, MEMBERS, BUYERS, SIGNERS, NEWCOMERS = 4, 2, 2, 2, 2


class Process:
    """A server or worker in a process group of its own, its output kept in a file."""

    def __init__(self, name, argv, env, folder):
        self.name = name
        self.log = folder / f"{name}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def signal(self, signum):
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def wait(self):
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait()

    def output(self):
        return self.log.read_text(errors="replace")[-3000:]


class Cluster:
    def __init__(self, folder, env):
        self.folder, self.env, self.processes = folder, env, []

    def start(self, name, argv, **extra):
        process = Process(name, argv, {**self.env, **extra}, self.folder)
        self.processes.append(process)
        return process

    def server(self, name):
        port = free_port()
        self.start(
            name,
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
        )
        return f"http://127.0.0.1:{port}"

    def wait_until_up(self, url, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        logs = "\n".join(f"== {p.name}\n{p.output()}" for p in self.processes)
        raise AssertionError(f"{url} did not come up:\n{logs}")

    def stop(self):
        """All at once: gunicorn at its quickest (SIGQUIT), the workers as cron would."""
        for process in self.processes:
            process.signal(signal.SIGQUIT if process.name.startswith("app") else signal.SIGTERM)
        for process in self.processes:
            process.wait()


class Visitor:
    """One person's browser: a cookie jar and an address of its own, any server."""

    def __init__(self, n):
        self.http = requests.Session()
        self.http.headers["X-Forwarded-For"] = f"10.77.0.{n}"

    def get(self, url):
        response = self.http.get(url, timeout=60)
        assert response.status_code == 200, (url, response.status_code)
        return response

    def post(self, url, data, token_from):
        html = self.get(token_from).text
        match = TOKEN.search(html)
        assert match, f"no CSRF token on {token_from}"
        data = {**data, "csrf_token": match.group(1) or match.group(2)}
        return self.http.post(url, data=data, allow_redirects=False, timeout=60)


@pytest.fixture
def cluster(app, smtp_server, tmp_path, funds, tiers, products, content, make_user):
    from payments.simulator import SimConfig, Simulator
    from payments.simulator.server import serve

    require(POSTGRES, "PostgreSQL (TEST_DATABASE_URL)")
    require(REDIS_URL and REDIS_URL.startswith("redis"), "Redis (REDIS_URL)")
    a_port = free_port()
    sim = Simulator(
        SimConfig(
            webhook_url=f"http://127.0.0.1:{a_port}/stripe/webhook",
            webhook_secrets=list(WEBHOOK_SECRETS),
        )
    )
    sim_server, _ = serve(sim)
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BASE_URL"}},
        "APP_ENV": "testing",
        "FLASK_APP": "tests.reliability.scale_app:app",
        "BASE_URL": f"http://127.0.0.1:{a_port}",
        "MAIL_PORT": str(smtp_server.port),
        "STRIPE_API_BASE": sim.config.public_url,
        "STRIPE_WEBHOOK_SECRET": ",".join(WEBHOOK_SECRETS),
        "SHOP_FILES_DIR": app.config["SHOP_FILES_DIR"],
        "PROXY_COUNT": "1",
        "SCALE_OUT_TICKS": str(tmp_path / "ticks"),
    }
    cluster = Cluster(tmp_path, env)
    cluster.sim = sim
    cluster.product_id = products["issue-42"]
    cluster.campaign, cluster.page = content["open"], content["roadmap"]
    make_user(email="guessed@example.org", password="the right password")
    try:
        cluster.start(
            "app-a",
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{a_port}", "wsgi:app"],
        )
        cluster.urls = (f"http://127.0.0.1:{a_port}", cluster.server("app-b"))
        for n in (1, 2):
            cluster.start(f"worker-{n}", [str(BIN / "flask"), "worker", "run"])
        for url in cluster.urls:
            cluster.wait_until_up(url)
        yield cluster
    finally:
        cluster.stop()
        sim_server.shutdown()


def pay(sim, response):
    """Pay the Checkout that ``response`` sent the visitor to; its session id."""
    assert response.status_code == 303, (response.status_code, response.text[:2000])
    location = response.headers["Location"]
    assert location.startswith(sim.config.public_url), location
    session_id = urlsplit(location).path.rsplit("/", 1)[-1]
    paid = requests.post(
        f"{sim.config.public_url}/_sim/checkout/sessions/{session_id}/pay",
        json={"card": "success"},
        timeout=60,
    )
    assert paid.status_code == 200, paid.text
    return session_id


def journeys(cluster):
    """Every journey of the product as (name, callable), each visitor on both servers."""
    a, b = cluster.urls
    sim = cluster.sim
    found = {}

    def give(n):
        first, second = (a, b) if n % 2 else (b, a)
        visitor = Visitor(n)
        data = {
            "amount_choice": "5000",
            "frequency": "one_time",
            "fund": "general",
            "tribute_kind": "",
            "donor_name": f"Donor {n}",
            "email": f"donor{n}@example.org",
            **ADDRESS,
        }
        session_id = pay(sim, visitor.post(f"{second}/donate", data, f"{first}/donate"))
        # The thanks page confirms the payment itself, racing the worker.
        thanks = visitor.get(f"{first}/donate/thanks?session_id={session_id}")
        assert "Thank you" in thanks.text
        found.setdefault("sessions", []).append(session_id)

    def join(n):
        first, second = (a, b) if n % 2 else (b, a)
        visitor = Visitor(20 + n)
        data = join_form(email=f"member{n}@example.org", name=f"Member {n}")
        answer = visitor.post(f"{second}/join/individual", data, f"{first}/join/individual")
        found.setdefault("sessions", []).append(pay(sim, answer))

    def buy(n):
        first, second = (a, b) if n % 2 else (b, a)
        visitor = Visitor(40 + n)
        shop_page = f"{first}/shop/issue-42"
        added = visitor.post(
            f"{first}/cart/add",
            {"product_id": str(cluster.product_id), "quantity": "1"},
            shop_page,
        )
        assert added.status_code in (302, 303), added.status_code
        data = {**ONTARIO, "email": f"buyer{n}@example.org", "pay": "Pay"}
        answer = visitor.post(f"{second}/checkout", data, f"{second}/cart")
        found.setdefault("sessions", []).append(pay(sim, answer))

    def support(n):
        first, second = (a, b) if n % 2 else (b, a)
        visitor = Visitor(60 + n)
        campaign = f"/take-action/{cluster.campaign}"
        signed = visitor.post(
            f"{second}{campaign}",
            {"name": f"Signer {n}", "email": f"signer{n}@example.org", "postal_code": "h2x 1y4"},
            f"{first}{campaign}",
        )
        assert signed.status_code == 303, signed.status_code
        volunteered = visitor.post(
            f"{first}/volunteer",
            {
                "name": f"Volunteer {n}",
                "email": f"volunteer{n}@example.org",
                "languages": ["fr", "en"],
                "interests": ["translation"],
                "availability": ["evenings"],
            },
            f"{second}/volunteer",
        )
        assert volunteered.status_code == 303, volunteered.status_code
        page = f"/pages/{cluster.page}"
        commented = visitor.post(
            f"{second}{page}/comments",
            {
                "comment-name": f"Commenter {n}",
                "comment-email": f"commenter{n}@example.org",
                "comment-body": "Canada should lead again.",
            },
            f"{first}{page}",
        )
        assert commented.status_code == 303, commented.status_code

    def register(n):
        first, second = (a, b) if n % 2 else (b, a)
        visitor = Visitor(80 + n)
        password = "a long enough password"
        opened = visitor.post(
            f"{second}/register",
            {
                "name": f"Newcomer {n}",
                "email": f"newcomer{n}@example.org",
                "password": password,
                "confirm": password,
                "language": "en",
            },
            f"{first}/register",
        )
        assert opened.status_code == 200 and "Check your email" in opened.text

    def guess():
        """Six wrong passwords for one account, on each server in turn."""
        answers = []
        for n in range(6):
            visitor = Visitor(100 + n)  # another address each time: only the account counts
            server = (a, b)[n % 2]
            answer = visitor.post(
                f"{server}/login",
                {"email": "guessed@example.org", "password": f"wrong {n}"},
                f"{server}/login",
            )
            answers.append(answer.status_code)
        found["guesses"] = answers

    work = [(f"give {n}", lambda n=n: give(n)) for n in range(GIFTS)]
    work += [(f"join {n}", lambda n=n: join(n)) for n in range(MEMBERS)]
    work += [(f"buy {n}", lambda n=n: buy(n)) for n in range(BUYERS)]
    work += [(f"support {n}", lambda n=n: support(n)) for n in range(SIGNERS)]
    work += [(f"register {n}", lambda n=n: register(n)) for n in range(NEWCOMERS)]
    work.append(("guess", guess))
    return work, found


def run_at_once(work):
    errors = []

    def run(name, job):
        try:
            job()
        except BaseException as error:  # reported below, with the journey's name
            errors.append(f"{name}: {error!r}")

    threads = [threading.Thread(target=run, args=item) for item in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not errors, errors


def wait_until_settled(app, timeout=120):
    """Every stored event handled and every email sent (the workers' job), or fail."""
    from core.mail.models import MailStatus, OutboxMessage
    from payments.models import StripeEvent

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            waiting_events = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(StripeEvent)
                .where(StripeEvent.processed_at.is_(None))
            )
            waiting_mail = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status != MailStatus.sent)
            )
            db.session.remove()
        if waiting_events == 0 and waiting_mail == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"{waiting_events} events and {waiting_mail} emails still waiting")


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_two_app_servers_and_two_workers_share_one_database_and_redis(app, cluster, mailbox):
    from core.mail.models import MailStatus, OutboxMessage
    from donations.models import Donation, DonationStatus
    from members.models import Membership, MembershipStatus
    from payments.models import Allocation, Payment, StripeEvent
    from shop.models import Order, OrderStatus

    work, found = journeys(cluster)
    run_at_once(work)
    wait_until_settled(app)

    # The sign-in limit (5 per account) counted the guesses of both servers together.
    assert found["guesses"][:5] == [400] * 5 and found["guesses"][5] == 429, found["guesses"]

    # Every email was sent once: no Message-ID twice, one message for each outbox row.
    ids = Counter(message["Message-ID"] for message in mailbox.messages)
    assert [i for i, times in ids.items() if times > 1] == []
    with app.app_context():
        assert count(OutboxMessage, OutboxMessage.status == MailStatus.sent) == len(ids)
        wanted = [f"donor{n}@example.org" for n in range(GIFTS)]
        wanted += [f"member{n}@example.org" for n in range(MEMBERS)]
        wanted += [f"buyer{n}@example.org" for n in range(BUYERS)]
        wanted += [f"signer{n}@example.org" for n in range(SIGNERS)]
        wanted += [f"volunteer{n}@example.org" for n in range(SIGNERS)]
        wanted += [f"newcomer{n}@example.org" for n in range(NEWCOMERS)]
        assert [address for address in wanted if not mailbox.to(address)] == []

        # Each Checkout paid once: a payment, an allocation and a paid row, no more.
        sessions = found["sessions"]
        assert len(sessions) == len(set(sessions)) == GIFTS + MEMBERS + BUYERS
        assert count(Payment) == len(sessions)
        assert count(Payment, Payment.status == "succeeded") == len(sessions)
        paid_total = db.session.scalar(sa.select(sa.func.sum(Payment.amount)))
        assert db.session.scalar(sa.select(sa.func.sum(Allocation.amount))) == paid_total
        assert count(Donation) == count(Donation, Donation.status == DonationStatus.paid) == GIFTS
        assert count(Membership, Membership.status == MembershipStatus.current) == MEMBERS
        assert count(Order) == count(Order, Order.status == OrderStatus.paid) == BUYERS
        assert count(StripeEvent, StripeEvent.last_error.is_not(None)) == 0
        db.session.remove()

    # Each periodic task ran once per period between the two workers: its runs were
    # claimed a period apart (each run then starts as soon as its worker gets the CPU).
    runs = ticks(cluster.folder / "ticks", at_least=3)
    gaps = [later - earlier for earlier, later in zip(runs, runs[1:], strict=False)]
    assert min(gaps) >= TICK.total_seconds() - 0.05, gaps


def ticks(path, at_least, timeout=60):
    """The times the noting task ran, once it has run ``at_least`` times."""
    deadline = time.monotonic() + timeout
    while True:
        lines = path.read_text().splitlines() if path.exists() else []
        runs = sorted(float(line.split()[0]) for line in lines if line.strip())
        if len(runs) >= at_least or time.monotonic() > deadline:
            assert len(runs) >= at_least, runs
            return runs
        time.sleep(0.5)
