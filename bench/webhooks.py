"""Webhook ingest (verify, store, answer) beside a Flask hello-world, and delivery to applied.

Real gifts are paid in the Stripe simulator with its deliveries held back; their
``checkout.session.completed`` events are then signed and POSTed to the webhook by wrk
(16 connections, each event once), with the app under gunicorn (2 sync workers) and
``flask worker run`` beside it, as in production: up and idle when the burst starts,
then applying the backlog while Stripe keeps delivering. A Flask hello-world served the same
way takes the same requests for as long. Then the bench watches the stored events until
each is applied (its ``processed_at``) and prints the time from delivery to applied, and
how long the worker took to send the thank-you emails with their receipts.

``--duplicates 0.1`` delivers a tenth of the events a second time, in shuffled order
after the first deliveries (Stripe delivers at least once, so a repeat is ordinary); the
bench then counts that every event was stored and applied once, and paid one gift.

    make bench                      # or: .venv/bin/python bench/webhooks.py --events 1000

Needs wrk, PostgreSQL at BENCH_DATABASE_URL (a server's admin URL; the bench makes and
drops its own database) and Redis at BENCH_REDIS_URL.
"""

import argparse
import itertools
import json
import os
import random
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import sqlalchemy as sa
import stripe

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (  # noqa: E402
    BIN,
    DEFAULT_REDIS_URL,
    Bench,
    BenchError,
    free_port,
    percentile,
    ratio,
    require_wrk,
)

SECRET = "whsec_bench_secret"
GOAL = 0.30
#: Events delivered one by one before the timing, so each worker has drawn a receipt once.
WARM_UP = 8


def bench_env(database_url, sim_url, smtp_port, app_port):
    return {
        **os.environ,
        "APP_ENV": "development",
        "FLASK_APP": "bench.bench_app:app",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_API_BASE": sim_url,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "SECRET_KEY": "bench-" + "x" * 40,
        "BASE_URL": f"http://127.0.0.1:{app_port}",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_port),
    }


def wait_for_port(server, port, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.running():
            raise BenchError(f"{server.name} stopped:\n{server.log_tail()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"{server.name} did not listen on {port} in {timeout} s")


def start_simulator_and_mail(bench, env, sim_port, smtp_port, app_url=None):
    """The Stripe simulator (sending its webhooks to ``app_url`` when given) and a mail sink.

    Stripe and the mail relay answer from their own machines in production: the processes
    standing in for them yield the CPU to the app, so that their work is not counted
    against the app's.
    """
    bench.start(
        "simulator",
        [
            sys.executable,
            *("-m", "payments.simulator.server", "--port", str(sim_port)),
            *("--secret", SECRET),
            *(("--app-url", app_url) if app_url else ()),
        ],
        env=env,
        port=sim_port,
        ready="/_sim/clock",
        niceness=19,
    )
    smtp = bench.start(
        "smtp",
        [
            str(BIN / "python"),
            *("-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink"),
            *("-l", f"127.0.0.1:{smtp_port}"),
        ],
        env=env,
        niceness=19,
    )
    wait_for_port(smtp, smtp_port)


def pay_gifts(env, sim_url, count, progress):
    """Start ``count`` gifts in the app and pay each in the simulator, events held back."""
    import logging

    saved = dict(os.environ)
    os.environ.update(env)
    logging.getLogger("stripe").setLevel(logging.WARNING)
    try:
        from bench.bench_app import app
        from core.db import db
        from donations import gifts
        from donations.models import Fund
        from payments.models import Payment

        control = requests.Session()
        control.post(f"{sim_url}/_sim/delivery", json={"mode": "drop"}, timeout=10)
        with app.app_context():
            fund_id = db.session.scalar(sa.select(Fund.id).order_by(Fund.position, Fund.id))
        paid = itertools.count(1)

        def give(n):
            with app.app_context(), requests.Session() as http:
                donation = gifts.start_donation(
                    gifts.GiftRequest(
                        amount=2500 + n,
                        fund=db.session.get(Fund, fund_id),
                        donor_name=f"Donor {n}",
                        email=f"donor{n}@example.org",
                        address_line1="12 Elgin Street",
                        city="Ottawa",
                        province="ON",
                        postal_code="K1P 5W1",
                    )
                )
                db.session.commit()
                gifts.open_checkout(donation)
                db.session.commit()
                session_id = db.session.get(Payment, donation.payment_id).checkout_session_id
                http.post(
                    f"{sim_url}/_sim/checkout/sessions/{session_id}/pay",
                    json={"card": "success"},
                    timeout=30,
                ).raise_for_status()
                db.session.remove()
            done = next(paid)
            if progress and done % 500 == 0:
                print(f"  {done} of {count} gifts paid", flush=True)

        # A few at a time: this is the bench's setting up, not what it measures.
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(give, range(count)))
        events = control.get(f"{sim_url}/_sim/events", timeout=60).json()["data"]
        wanted = [e["id"] for e in events if e["type"] == "checkout.session.completed"]
        headers = {"Authorization": "Bearer sk_test_bench"}
        return [
            control.get(f"{sim_url}/v1/events/{event_id}", headers=headers, timeout=30).text
            for event_id in wanted
        ]
    finally:
        os.environ.clear()
        os.environ.update(saved)


def signed(bodies):
    """Each body as one compact line, signed now (Stripe's tolerance is five minutes)."""
    timestamp = int(time.time())
    out = []
    for body in bodies:
        compact = json.dumps(json.loads(body), separators=(",", ":"))
        signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{compact}", SECRET)
        out.append((f"t={timestamp},v1={signature}", compact))
    return out


def with_duplicates(bodies, fraction, seed=42):
    """``bodies`` and then ``fraction`` of them again, picked at random in shuffled order."""
    count = min(len(bodies), round(len(bodies) * fraction))
    return bodies + random.Random(seed).sample(bodies, count)


def exactly_once(engine, event_ids):
    """What became of these events: stored, applied, and gifts paid, each to compare to
    the number of distinct events."""
    with engine.connect() as conn:
        stored, applied = conn.execute(
            sa.text(
                "SELECT count(*), count(*) FILTER (WHERE outcome = 'applied') "
                "FROM stripe_event WHERE id = ANY(:ids)"
            ),
            {"ids": event_ids},
        ).one()
        paid = conn.execute(sa.text("SELECT count(*) FROM donation WHERE status = 'paid'")).scalar()
    return {"unique": len(set(event_ids)), "stored": stored, "applied": applied, "paid": paid}


def watch_applied(engine, event_ids, count, timeout):
    """Wait until ``count`` of these events are applied; their delivery-to-applied seconds."""
    deadline = time.monotonic() + timeout
    query = sa.text(
        "SELECT EXTRACT(EPOCH FROM (processed_at - received_at)) FROM stripe_event "
        "WHERE id = ANY(:ids) AND source = 'webhook' AND processed_at IS NOT NULL"
    )
    while True:
        with engine.connect() as conn:
            delays = [float(d) for d in conn.execute(query, {"ids": event_ids}).scalars()]
        if len(delays) >= count or time.monotonic() > deadline:
            return delays
        time.sleep(0.2)


def wait_for_outbox(engine, timeout):
    deadline = time.monotonic() + timeout
    query = sa.text(
        "SELECT count(*) FILTER (WHERE status = 'sent'), "
        "count(*) FILTER (WHERE status IN ('pending', 'sending')) FROM outbox_message"
    )
    while True:
        with engine.connect() as conn:
            sent, waiting = conn.execute(query).one()
        if not waiting or time.monotonic() > deadline:
            return sent, waiting
        time.sleep(0.2)


def hold_back_catch_up(database_url):
    """Keep the worker's catch-up from fetching the held-back events before the webhook.

    (In production Stripe delivers long before the next catch-up; here the events wait.)
    """
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO task_schedule (name, next_run_at) "
                "VALUES ('payments.sync', now() + interval '1 hour')"
            )
        )
    engine.dispose()


def warm_up(bench, server, connections, bodies=()):
    """Each gunicorn worker imports, connects and handles an event before the timing starts.

    ``bodies`` are delivered one by one (they are then not part of the figures).
    """
    bench.wrk(server.url + "/readyz", seconds=1, connections=connections)
    http = requests.Session()
    for signature, body in bodies:
        http.post(
            server.url + "/stripe/webhook",
            data=body.encode(),
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            timeout=60,
        )


def worker_ready(bench, env, engine, warm_up_ids, timeout=120):
    """Start ``flask worker run`` and wait until it has applied the warm-up's events and
    sent their emails: in production the worker is up and idle when a burst arrives, and
    its start (imports, a first receipt drawn) is not part of what a burst costs."""
    started = time.monotonic()
    bench.worker(env)
    applied = watch_applied(engine, warm_up_ids, len(warm_up_ids), timeout=timeout)
    sent, waiting = wait_for_outbox(engine, timeout=timeout)
    if len(applied) < len(warm_up_ids) or waiting:
        raise BenchError(f"the worker did not apply the warm-up's events in {timeout} s")
    print(
        f"worker up: the warm-up's {len(applied)} events applied and {sent} emails sent "
        f"{time.monotonic() - started:.1f} s after its start; the burst follows"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events", type=int, default=None, help="gifts paid, one event each (1500; smoke 12)"
    )
    parser.add_argument("--seconds", type=int, default=5, help="wrk's duration")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--duplicates",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="deliver this share of the events twice (0.1: a tenth)",
    )
    parser.add_argument("--smoke", action="store_true", help="a few events, no goal")
    args = parser.parse_args(argv)
    warm_up_count = WARM_UP
    if args.smoke:
        args.events, args.seconds, warm_up_count = args.events or 12, 1, 2
    args.events = args.events or 1500
    require_wrk()

    with Bench("webhooks") as bench:
        database_url = bench.database()
        sim_port, smtp_port, app_port = free_port(), free_port(), free_port()
        sim_url = f"http://127.0.0.1:{sim_port}"
        env = bench_env(database_url, sim_url, smtp_port, app_port)
        start_simulator_and_mail(bench, env, sim_port, smtp_port)
        bench.flask(env, "db", "upgrade")
        started = time.monotonic()
        bodies = signed(pay_gifts(env, sim_url, args.events, progress=not args.smoke))
        print(
            f"{len(bodies)} gifts paid in the simulator in {time.monotonic() - started:.0f} s; "
            "their checkout.session.completed events held back"
        )

        hold_back_catch_up(database_url)
        app = bench.gunicorn("app", "bench.bench_app:app", env=env)
        warmers, bodies = bodies[:warm_up_count], bodies[warm_up_count:]
        firsts = len(bodies)
        bodies = with_duplicates(bodies, args.duplicates)
        warm_up(bench, app, args.connections, warmers)
        engine = sa.create_engine(database_url)
        try:
            worker_ready(bench, env, engine, [json.loads(b)["id"] for _, b in warmers])
            ingest = bench.post(
                app.url + "/stripe/webhook",
                bodies,
                seconds=args.seconds,
                connections=args.connections,
            )
            delivered_at = time.monotonic()
            # wrk sends the bodies in about their order: the distinct events among those sent.
            timed = [json.loads(body)["id"] for _, body in bodies]
            delivered = len(set(timed[: ingest.requests]))
            delays = watch_applied(engine, timed, delivered, timeout=60 if args.smoke else 600)
            applied_after = time.monotonic() - delivered_at
            sent, waiting = wait_for_outbox(engine, timeout=60 if args.smoke else 600)
            sent_after = time.monotonic() - delivered_at
            with engine.connect() as conn:
                stored = conn.execute(sa.text("SELECT count(*) FROM stripe_event")).scalar()
                failed = conn.execute(
                    sa.text("SELECT count(*) FROM stripe_event WHERE last_error IS NOT NULL")
                ).scalar()
            # The warm-up's events were delivered once, and paid their gifts too.
            once = exactly_once(engine, [json.loads(b)["id"] for _, b in warmers] + timed)
        finally:
            engine.dispose()

        hello = bench.hello(env)
        warm_up(bench, hello, args.connections)
        baseline = bench.post(
            hello.url + "/stripe/webhook",
            bodies,
            seconds=args.seconds,
            connections=args.connections,
        )

    share = ratio(ingest.rate, baseline.rate)
    print(
        f"\ngunicorn 2 sync workers + `flask worker run`, wrk {args.connections} connections, "
        f"{os.cpu_count()} cores; PostgreSQL, Redis, Stripe simulated in its own process"
    )
    repeats = max(0, ingest.requests - len(bodies))
    duplicated = len(bodies) - firsts
    print(
        f"webhook ingest (verify, store, answer): {ingest.requests} deliveries in "
        f"{ingest.seconds:.2f} s = {ingest.rate:.0f}/s  (p50 {ingest.p50_ms:.1f} ms, "
        f"p99 {ingest.p99_ms:.1f} ms, {ingest.errors} not 2xx"
        + (f"; {duplicated} duplicates among the bodies" if duplicated else "")
        + (f"; {repeats} were repeats of events already sent: use more --events" if repeats else "")
        + ")"
    )
    print(
        f"Flask hello-world, same server:         {baseline.requests} requests in "
        f"{baseline.seconds:.2f} s = {baseline.rate:.0f}/s"
    )
    verdict = "" if args.smoke else ("  ok" if share >= GOAL else "  MISSED")
    print(f"ratio: {share:.3f}x  (goal {GOAL:.2f}x){verdict}")
    print(
        f"delivery to applied: p50 {percentile(delays, 0.5):.2f} s, p95 "
        f"{percentile(delays, 0.95):.2f} s, max {max(delays, default=float('nan')):.2f} s; "
        f"{len(delays)} events applied by {applied_after:.1f} s after the last delivery "
        f"({stored} events stored, warm-up included; {failed} with an error)"
    )
    print(
        f"thank-you emails with receipts: {sent} sent by the worker {sent_after:.1f} s "
        f"after the last delivery, {waiting} still waiting"
    )
    print(
        f"exactly once: {once['unique']} distinct events (warm-up included), "
        f"{once['stored']} stored, {once['applied']} applied, {once['paid']} gifts paid"
    )
    if len(delays) < delivered or ingest.errors:
        raise SystemExit("not every event was stored and applied")
    return {
        **once,
        "ingest": ingest,
        "baseline": baseline,
        "delivered": ingest.requests + len(warmers),
    }


if __name__ == "__main__":
    main()
