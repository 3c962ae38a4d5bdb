"""Crowds at the checkout: buyers of a last few copies, donors at once, a webhook storm.

Each scenario runs the app as production runs it (gunicorn, 2 sync workers, PostgreSQL
in a database of the bench's own, Redis) with the Stripe simulator in its own process at
the lowest CPU priority, and prints its requests per second beside a Flask hello-world
served the same way in the same run (driven by wrk at as many connections as the
scenario has clients). The figures are printed, never asserted on time; what must hold
whatever the speed (no copy sold twice, no gift lost, every event applied once) is
checked and a failure ends the run with an error.

- ``buyers``: a print issue with 10 copies and 200 buyers, 20 at a time, each with a
  browser session of its own: the issue's page (for the CSRF token), add to cart, check
  out with an Ontario address. A 303 to the simulator's Checkout page is a reservation, a
  page saying it is sold out a refusal. The 10 sessions are then paid in the simulator,
  whose webhooks the app stores and ``flask worker run`` applies: 10 paid orders, and no
  copy left on the shelf (never fewer than none).
- ``donors``: 50 donors at once for ``--seconds``, each giving again and again (the donate
  page, then the form with a suggested amount, a name, an email and an address): gifts
  started per second, and one Donation row for each 303 to the simulator.
- ``storm``: bench/webhooks.py with 5 000 paid gifts whose events are delivered with a
  tenth of them twice: each event stored and applied once, one gift paid for each.

Each visitor comes from an address of its own (``X-Forwarded-For`` through one trusted
proxy, as behind the production load balancer), so the per-address limits on the forms
count each visitor once, as they would in production.

    make bench                                  # every bench, in full
    .venv/bin/python bench/load.py --scenario buyers
    .venv/bin/python bench/load.py --smoke      # tiny sizes, every scenario

Needs wrk, PostgreSQL at BENCH_DATABASE_URL (a server's admin URL) and Redis at
BENCH_REDIS_URL.
"""

import argparse
import os
import random
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import webhooks  # noqa: E402
from bench.harness import Bench, BenchError, free_port, percentile, ratio, require_wrk  # noqa: E402

#: The issue the buyers want, and how many copies are on the shelf.
SLUG = "mondial-load"
#: Where the buyers ship to (as tests/shop_fixtures.py ONTARIO).
ONTARIO = {
    "name": "Bea Buyer",
    "address_line1": "1 Peace Street",
    "city": "Ottawa",
    "province": "ON",
    "postal_code": "K1A 0B1",
    "country": "CA",
}
#: What the checkout page says when the last copy has gone (shop/stock.py SOLD_OUT).
SOLD_OUT = "No more products available for purchase"
#: A suggested amount on the donate form (donations/settings.py, in cents).
PRESET = "5000"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


@dataclass
class Sizes:
    buyers: int = 200
    copies: int = 10
    clients: int = 20
    donors: int = 50
    seconds: int = 60
    events: int = 5000


SMOKE = Sizes(buyers=20, copies=3, clients=5, donors=5, seconds=3, events=30)


@dataclass
class Tally:
    """Outcomes and timings gathered by many threads at once."""

    counts: dict = field(default_factory=dict)
    requests: int = 0  # HTTP requests answered
    millis: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome, ms=None, session_id=None, *, requests=0):
        with self.lock:
            self.requests += requests
            self.counts[outcome] = self.counts.get(outcome, 0) + 1
            if ms is not None:
                self.millis.append(ms)
            if session_id is not None:
                self.sessions.append(session_id)

    def __getitem__(self, outcome):
        return self.counts.get(outcome, 0)


class Visitors:
    """A distinct client address for each visitor, from a range that differs between runs
    (the rate limits' counts in Redis outlive a run by up to an hour)."""

    def __init__(self):
        self.block = random.randrange(1, 250)
        self.next = 0
        self.lock = threading.Lock()

    def session(self):
        with self.lock:
            n, self.next = self.next, self.next + 1
        http = requests.Session()
        http.headers["X-Forwarded-For"] = f"10.{self.block}.{n >> 8 & 255}.{n & 255}"
        if n >= 1 << 16:
            raise BenchError("more visitors than one address block holds")
        return http


def csrf(html):
    match = TOKEN.search(html)
    if match is None:
        raise BenchError("no CSRF token on the page")
    return match.group(1) or match.group(2)


def in_app(env, work):
    """Run ``work()`` in an app context of an app made now with the bench's settings.

    (Not ``bench.bench_app``'s: a module is imported once, and its app would stay bound to
    the first scenario's database.)
    """
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from core import create_app

        app = create_app(config={"DEBUG": False})
        with app.app_context():
            return work()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def start_stack(bench, *, clients):
    """The database, the simulator (webhooks to the app), a mail sink, the app, hello-world.

    Returns ``(env, app, hello, sim_url, database_url)``, each server warmed up.
    """
    database_url = bench.database()
    sim_port, smtp_port, app_port = free_port(), free_port(), free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    env = {
        **webhooks.bench_env(database_url, sim_url, smtp_port, app_port),
        "PROXY_COUNT": "1",  # each visitor's address, as the load balancer passes it on
    }
    webhooks.start_simulator_and_mail(
        bench, env, sim_port, smtp_port, app_url=f"http://127.0.0.1:{app_port}"
    )
    bench.flask(env, "db", "upgrade")
    app = bench.gunicorn("app", "bench.bench_app:app", env=env, port=app_port)
    hello = bench.hello(env)
    for server in (app, hello):
        bench.wrk(server.url + "/healthz", seconds=1, connections=clients)
    return env, app, hello, sim_url, database_url


def baseline(bench, hello, clients, seconds):
    return bench.wrk(hello.url + "/", seconds=seconds, connections=clients)


# -- buyers ------------------------------------------------------------------------------


def add_issue(env, copies):
    """The print issue on sale (as ``flask shop demo-catalogue`` makes them), and the
    tax and shipping tables; its id."""

    def work():
        from datetime import date

        from core.db import db
        from shop.cli import seed_rates
        from shop.models import Product, ProductFormat, ProductKind, TaxCategory

        seed_rates()
        product = Product(
            slug=SLUG,
            kind=ProductKind.issue,
            format=ProductFormat.print,
            title_en="Mondial, the load issue",
            title_fr="Mondial, le numéro de la charge",
            issue_number=99,
            published_on=date(2026, 4, 15),
            price=1200,
            stock=copies,
            weight_grams=180,
            tax_category=TaxCategory.printed,
        )
        db.session.add(product)
        db.session.commit()
        return product.id

    return in_app(env, work)


def buy(app_url, sim_url, visitors, product_id, tally):
    """One buyer: the issue's page, add to cart, check out."""
    http = visitors.session()
    try:
        page = http.get(f"{app_url}/shop/{SLUG}", timeout=60)
        if page.status_code >= 500:
            return tally.add("5xx", requests=1)
        if SOLD_OUT in page.text:  # the page was drawn after the last copy went
            return tally.add("refused on the issue's page", requests=1)
        token = csrf(page.text)
        added = http.post(
            f"{app_url}/cart/add",
            data={"csrf_token": token, "product_id": str(product_id), "quantity": "1"},
            allow_redirects=False,
            timeout=60,
        )
        if added.status_code >= 500:
            return tally.add("5xx", requests=2)
        n = http.headers["X-Forwarded-For"].replace(".", "-")
        started = time.perf_counter()
        answer = http.post(
            f"{app_url}/checkout",
            data={
                **ONTARIO,
                "email": f"buyer-{n}@example.org",
                "pay": "Pay",
                "csrf_token": token,
            },
            allow_redirects=False,
            timeout=60,
        )
        ms = (time.perf_counter() - started) * 1000
        if answer.status_code == 303 and answer.headers["Location"].startswith(sim_url):
            session_id = urlsplit(answer.headers["Location"]).path.rsplit("/", 1)[-1]
            tally.add("reserved", ms, session_id, requests=3)
        elif answer.status_code >= 500:
            tally.add("5xx", ms, requests=3)
        elif SOLD_OUT in answer.text:
            # Refused by the cart (its message shows on this page) or by the checkout.
            tally.add("refused at checkout", ms, requests=3)
        else:
            tally.add(f"other {answer.status_code}", ms, requests=3)
    except requests.RequestException as error:
        tally.add(f"failed ({type(error).__name__})")
    finally:
        http.close()


def wait_for_orders(engine, count, timeout):
    deadline = time.monotonic() + timeout
    query = sa.text("SELECT count(*) FROM shop_order WHERE status = 'paid'")
    while True:
        with engine.connect() as conn:
            paid = conn.execute(query).scalar()
        if paid >= count or time.monotonic() > deadline:
            return paid
        time.sleep(0.2)


def buyers(sizes, smoke):
    with Bench("load") as bench:
        env, app, hello, sim_url, database_url = start_stack(bench, clients=sizes.clients)
        product_id = add_issue(env, sizes.copies)
        visitors = Visitors()
        tally = Tally()
        started = time.monotonic()
        with ThreadPoolExecutor(sizes.clients) as pool:
            done = [
                pool.submit(buy, app.url, sim_url, visitors, product_id, tally)
                for _ in range(sizes.buyers)
            ]
        for future in done:
            future.result()  # a mistake of the bench's own shows, not a silent buyer
        elapsed = time.monotonic() - started
        hello_figures = baseline(bench, hello, sizes.clients, 5 if not smoke else 1)

        # Each reservation paid, as the buyer would on the Checkout page.
        bench.worker(env)
        control = requests.Session()
        paid_in_sim = 0
        for session_id in tally.sessions:
            response = control.post(
                f"{sim_url}/_sim/checkout/sessions/{session_id}/pay",
                json={"card": "success"},
                timeout=60,
            )
            paid_in_sim += response.ok
        engine = sa.create_engine(database_url)
        try:
            paid = wait_for_orders(engine, len(tally.sessions), timeout=60 if smoke else 180)
            with engine.connect() as conn:
                stock = conn.execute(
                    sa.text("SELECT stock FROM shop_product WHERE id = :id"), {"id": product_id}
                ).scalar()
                orders = conn.execute(sa.text("SELECT count(*) FROM shop_order")).scalar()
        finally:
            engine.dispose()

    reserved, errors, requests_made = tally["reserved"], tally["5xx"], tally.requests
    refused = sum(v for k, v in tally.counts.items() if k.startswith("refused"))
    rate = requests_made / elapsed
    print(
        f"\nbuyers: {sizes.buyers} buyers for {sizes.copies} copies, {sizes.clients} at a time "
        "(the issue's page, add to cart, check out)"
    )
    print(
        f"  reservations {reserved} (of {sizes.copies}), refused {refused}, 5xx {errors}, "
        f"oversold {max(0, reserved - sizes.copies)}"
        + "".join(f"; {k} {v}" for k, v in sorted(tally.counts.items()) if k != "reserved")
    )
    print(
        f"  checkout POST: p50 {percentile(tally.millis, 0.5):.0f} ms, "
        f"p99 {percentile(tally.millis, 0.99):.0f} ms"
    )
    print(
        f"  {requests_made} requests in {elapsed:.1f} s = {rate:.1f} req/s; hello-world "
        f"{hello_figures.rate:.0f} req/s at {sizes.clients} connections; "
        f"ratio {ratio(rate, hello_figures.rate):.3f}x"
    )
    print(
        f"  paid in the simulator {paid_in_sim}; orders paid {paid} of {orders}; "
        f"copies left {stock}"
    )
    problems = []
    if reserved != sizes.copies:
        problems.append(f"{reserved} reservations for {sizes.copies} copies")
    if errors or refused != sizes.buyers - reserved:
        problems.append("some buyers got neither a reservation nor a refusal")
    if stock != 0:
        problems.append(f"{stock} copies left on the shelf, not 0")
    if paid != reserved:
        problems.append(f"{paid} paid orders for {reserved} reservations")
    return problems


# -- donors ------------------------------------------------------------------------------


def give_repeatedly(app_url, sim_url, visitors, until, tally):
    """One donor slot: a new visitor each time, the donate page then the form."""
    while time.monotonic() < until:
        http = visitors.session()
        try:
            page = http.get(f"{app_url}/donate", timeout=60)
            if page.status_code >= 500:
                tally.add("5xx", requests=1)
                continue
            token = csrf(page.text)
            n = http.headers["X-Forwarded-For"].replace(".", "-")
            started = time.perf_counter()
            answer = http.post(
                f"{app_url}/donate",
                data={
                    "csrf_token": token,
                    "amount_choice": PRESET,
                    "frequency": "one_time",
                    "fund": "general",
                    "tribute_kind": "",
                    "donor_name": f"Donor {n}",
                    "email": f"donor-{n}@example.org",
                    "address_line1": "12 Elgin Street",
                    "city": "Ottawa",
                    "province": "ON",
                    "postal_code": "K1P 5W1",
                    "country": "CA",
                },
                allow_redirects=False,
                timeout=60,
            )
            ms = (time.perf_counter() - started) * 1000
            if answer.status_code == 303 and answer.headers["Location"].startswith(sim_url):
                tally.add("started", ms, requests=2)
            elif answer.status_code >= 500:
                tally.add("5xx", ms, requests=2)
            else:
                tally.add(f"other {answer.status_code}", ms, requests=2)
        except requests.RequestException as error:
            tally.add(f"failed ({type(error).__name__})")
        finally:
            http.close()


def donors(sizes, smoke):
    with Bench("load") as bench:
        env, app, hello, sim_url, database_url = start_stack(bench, clients=sizes.donors)
        visitors = Visitors()
        tally = Tally()
        started = time.monotonic()
        until = started + sizes.seconds
        with ThreadPoolExecutor(sizes.donors) as pool:
            done = [
                pool.submit(give_repeatedly, app.url, sim_url, visitors, until, tally)
                for _ in range(sizes.donors)
            ]
        for future in done:
            future.result()
        elapsed = time.monotonic() - started
        hello_figures = baseline(bench, hello, sizes.donors, 5 if not smoke else 1)
        engine = sa.create_engine(database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT count(*) FROM donation")).scalar()
        finally:
            engine.dispose()

    gifts, errors = tally["started"], tally["5xx"]
    requests_made = tally.requests
    rate = requests_made / elapsed
    print(
        f"\ndonors: {sizes.donors} donors at once for {sizes.seconds} s "
        "(the donate page, then the form: 2 requests a gift)"
    )
    print(
        f"  gifts started {gifts} = {gifts / elapsed:.1f}/s, 5xx {errors}"
        + "".join(
            f", {k} {v}" for k, v in sorted(tally.counts.items()) if k not in ("started", "5xx")
        )
    )
    print(
        f"  donate POST: p50 {percentile(tally.millis, 0.5):.0f} ms, "
        f"p99 {percentile(tally.millis, 0.99):.0f} ms"
    )
    print(
        f"  {requests_made} requests in {elapsed:.1f} s = {rate:.1f} req/s; hello-world "
        f"{hello_figures.rate:.0f} req/s at {sizes.donors} connections; "
        f"ratio {ratio(rate, hello_figures.rate):.3f}x"
    )
    print(f"  Donation rows {rows} for {gifts} redirects to Checkout")
    problems = []
    if errors or len(tally.counts) > 2 or gifts == 0:
        problems.append("some gifts were not started")
    if rows != gifts:
        problems.append(f"{rows} Donation rows for {gifts} gifts started")
    return problems


# -- storm -------------------------------------------------------------------------------


def storm(sizes, smoke):
    argv = ["--events", str(sizes.events), "--duplicates", "0.1"]
    # Long enough for wrk to send every body (the ingest runs at some hundreds a second).
    argv += ["--smoke"] if smoke else ["--seconds", str(max(5, sizes.events // 250))]
    print(f"\nstorm: bench/webhooks.py {' '.join(argv)}", flush=True)
    once = webhooks.main(argv)
    print(
        f"storm: {once['unique']} distinct events in {once['delivered']} deliveries: "
        f"{once['stored']} stored, {once['applied']} applied, {once['paid']} gifts paid"
    )
    if not once["unique"] == once["stored"] == once["applied"] == once["paid"]:
        return ["not every event was applied exactly once"]
    return []


SCENARIOS = {"buyers": buyers, "donors": donors, "storm": storm}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--seconds", type=int, default=60, help="how long the donors give")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no goals")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else Sizes(seconds=args.seconds)
    require_wrk()
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    print(
        f"gunicorn 2 sync workers, {os.cpu_count()} cores; PostgreSQL, Redis, "
        "Stripe simulated in its own process at the lowest CPU priority"
    )
    problems = []
    for name in names:
        problems += [f"{name}: {p}" for p in SCENARIOS[name](sizes, args.smoke)]
    if problems:
        raise SystemExit("\n".join(problems))


if __name__ == "__main__":
    main()
