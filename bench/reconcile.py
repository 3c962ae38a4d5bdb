"""Payout reconciliation at size: sync and check payouts of 10 000 and 100 000 lines, then
export a journal of 1 000 000 lines and print how much memory that took.

The Stripe simulator runs in a process of its own, holding an automatic payout of N
charges (each with its fee) and its own payout line; the app's database (PostgreSQL) holds
a Payment for each charge. The bench times the payout's sync (lines read page by page as
raw JSON, stored and matched in batches) and its check (SQL aggregates), for both sizes,
and prints the ratio (goals: 100 000 under 10 s, ratio at most 12).

Then 1 000 000 lines are written straight into the database and their journal is
exported as the treasurer's CSV download streams it, in a process of its own, which
prints its peak memory growth (goal: under 50 MB).

    .venv/bin/python bench/reconcile.py            # by hand, a few minutes
    .venv/bin/python bench/reconcile.py --smoke    # tiny sizes, no goals (CI)

Needs PostgreSQL at BENCH_DATABASE_URL (a server's admin URL; the bench makes its own
database).
"""

import argparse
import itertools
import multiprocessing
import os
import resource
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench, BenchError, free_port  # noqa: E402

GOAL_SECONDS = 10.0
GOAL_RATIO = 12.0
GOAL_MEMORY_MB = 50.0
FEE = 103  # 2.9 % + 30 cents of 25.00 $
AMOUNT = 2500


def charge_id(n):
    return f"ch_bench{n:09d}"


# -- the simulator, in its own process ---------------------------------------------------------


def serve_payout(size, port, ready):
    """Hold an automatic payout of ``size`` charges, serve the simulator, say its id.

    Served by gunicorn's threaded worker, which keeps connections alive as Stripe's API
    does (werkzeug's development server closes each one, and a new connection per page
    would be a cost of the bench, not of the sync).
    """
    from gunicorn.app.base import BaseApplication

    from payments.simulator import SimConfig, Simulator, objects
    from payments.simulator import charges as sim_charges

    sim = Simulator(SimConfig(public_url=f"http://127.0.0.1:{port}", webhook_url=None))
    store = sim.store
    now = sim.clock.now() - 10 * 86400
    for n in range(size):
        store.add(
            objects.balance_transaction(
                now + n // 1000,
                amount=AMOUNT,
                currency="cad",
                type="charge",
                reporting_category="charge",
                source=charge_id(n),
                fee=FEE,
                fee_description="Stripe processing fees",
                description="Gift",
            )
        )
    ctx = store.ctx()
    with store.lock:
        payout = sim_charges.create_payout(store, ctx)
    sim.delivery.reset()  # nobody listens for its events

    class Server(BaseApplication):
        def load_config(self):
            settings = {
                "bind": f"127.0.0.1:{port}",
                "workers": 1,  # one store, held by one process
                "worker_class": "gthread",
                "threads": 2,
                "keepalive": 30,
                "accesslog": None,
                "loglevel": "warning",
                "when_ready": lambda arbiter: ready.send(payout["id"]),
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            return sim.wsgi_app

    Server().run()


def start_simulator(size):
    port = free_port()
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=serve_payout, args=(size, port, child), daemon=True
    )
    process.start()
    if not parent.poll(600):
        process.kill()
        raise BenchError("the simulator did not get ready")
    return process, port, parent.recv()


def stop_simulator(process):
    """Stop gunicorn and its worker at once (SIGQUIT), or kill it if it lingers."""
    os.kill(process.pid, signal.SIGQUIT)
    process.join(10)
    if process.is_alive():
        process.kill()
        process.join()


# -- the app -------------------------------------------------------------------------------


def make_app(database_url, sim_port):
    import logging

    from core import create_app

    logging.getLogger("stripe").setLevel(logging.WARNING)  # a line per request otherwise
    environ = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_API_BASE": f"http://127.0.0.1:{sim_port}",
        "SECRET_KEY": "bench-" + "x" * 40,
    }
    return create_app(config={"DEBUG": False}, environ=environ)


def empty_tables(app):
    import sqlalchemy as sa

    from core.db import db

    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()


def insert_payments(app, size):
    """A succeeded Payment and its allocation for each of the simulator's charges."""
    import sqlalchemy as sa

    from core.db import db

    with app.app_context():
        db.session.execute(
            sa.text(
                """
                INSERT INTO payment (token, status, mode, amount, currency, fee, net, email,
                                     language, paid_at, charge_id, created_at, updated_at)
                SELECT 'bench' || n, 'succeeded', 'payment', :amount, 'cad', :fee,
                       :amount - :fee, 'donor' || n || '@example.org', 'en',
                       now() - interval '10 days', 'ch_bench' || lpad(n::text, 9, '0'),
                       now(), now()
                FROM generate_series(0, :size - 1) AS n
                """
            ),
            {"amount": AMOUNT, "fee": FEE, "size": size},
        )
        db.session.execute(
            sa.text(
                """
                INSERT INTO allocation (payment_id, purpose, row_id, amount, tax, fee,
                                        description)
                SELECT id, 'order', id, amount, 0, fee, 'Order' FROM payment
                """
            )
        )
        db.session.commit()


def sync_and_check(app, stripe_payout_id):
    from core.db import db
    from payments.payouts import fetch_lines, sync_payout
    from treasurer.reconcile import check_payout

    with app.app_context():
        started = time.perf_counter()
        payout = sync_payout(stripe_payout_id)
        lines = fetch_lines(payout)
        db.session.commit()
        fetched = time.perf_counter()
        review = check_payout(payout)
        db.session.commit()
        done = time.perf_counter()
        return lines, review.check.value, fetched - started, done - fetched


def run_size(bench, app, size):
    empty_tables(app)
    process, port, stripe_payout_id = start_simulator(size)
    try:
        app.config["STRIPE_API_BASE"] = f"http://127.0.0.1:{port}"
        app.extensions.pop("stripe_gateway", None)
        insert_payments(app, size)
        lines, check, fetch_s, check_s = sync_and_check(app, stripe_payout_id)
    finally:
        stop_simulator(process)
    total = fetch_s + check_s
    print(
        f"{size:>7} balance transactions: {lines} lines fetched and stored in {fetch_s:.2f} s, "
        f"checked in {check_s:.2f} s ({check}); {total:.2f} s in all"
    )
    if check != "balanced":
        raise BenchError(f"the payout of {size} lines is {check}, not balanced")
    return total


# -- the journal export, in its own process --------------------------------------------------


def insert_lines(app, count):
    """``count`` lines of one payout, straight into the database (charges of 100 payments)."""
    import sqlalchemy as sa

    from core.db import db

    empty_tables(app)
    insert_payments(app, 100)
    with app.app_context():
        db.session.execute(
            sa.text(
                "INSERT INTO payout (stripe_payout_id, amount, currency, status, automatic, "
                "needs_sync, created_at, updated_at) VALUES "
                "('po_bench_export', 0, 'cad', 'paid', true, false, now(), now())"
            )
        )
        db.session.execute(
            sa.text(
                """
                INSERT INTO payout_line (payout_id, balance_transaction_id, type,
                    reporting_category, amount, fee, net, source_id, description, created,
                    payment_id)
                SELECT 1, 'txn_bench' || n, 'charge', 'charge', :amount, :fee, :amount - :fee,
                       'ch_bench' || lpad((n % 100)::text, 9, '0'), 'Gift',
                       now() - interval '5 days', 1 + n % 100
                FROM generate_series(1, :count) AS n
                """
            ),
            {"amount": AMOUNT, "fee": FEE, "count": count},
        )
        db.session.commit()


def _rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def export_journal(database_url, result):
    """Stream the payout's journal CSV as the download does; report memory and rows."""
    app = make_app(database_url, 1)
    with app.test_request_context():
        from core.csv import stream_csv
        from core.db import db
        from payments.models import Payout
        from treasurer import exports

        payout = db.session.get(Payout, 1)
        rows = exports.journal_rows(exports.line_batches(*exports.payout_conditions(payout)))
        response = stream_csv(exports.JOURNAL_HEADER, rows, "journal.csv")
        chunks = iter(response.response)
        size = count = 0
        # The first rows warm imports, caches and the connection before memory is noted.
        for chunk in itertools.islice(chunks, 5000):
            size += len(chunk)
            count += 1
        baseline = _rss_mb()
        started = time.perf_counter()
        for chunk in chunks:
            size += len(chunk)
            count += 1
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.send((count, size, seconds, baseline, peak))


def run_export(database_url, count):
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=export_journal, args=(database_url, child)
    )
    process.start()
    deadline = time.monotonic() + 3600
    while not parent.poll(1):
        if not process.is_alive():
            raise BenchError("the export stopped before it finished (its error is above)")
        if time.monotonic() > deadline:
            process.kill()
            raise BenchError("the export did not finish")
    rows, size, seconds, baseline, peak = parent.recv()
    process.join()
    growth = peak - baseline
    print(
        f"journal of {count} lines: {rows} CSV rows ({size / 1e6:.0f} MB) streamed in "
        f"{seconds:.1f} s; peak memory {peak:.0f} MB, {growth:.1f} MB above the start of the "
        f"stream (goal under {GOAL_MEMORY_MB:.0f} MB)"
    )
    return growth


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--export-lines", type=int, default=1_000_000)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no goals")
    args = parser.parse_args(argv)
    if args.smoke:
        args.small, args.large, args.export_lines = 200, 1000, 6000

    with Bench("reconcile") as bench:
        database_url = bench.database()
        bench.flask({**os.environ, "DATABASE_URL": database_url}, "db", "upgrade")
        app = make_app(database_url, 1)
        small = run_size(bench, app, args.small)
        large = run_size(bench, app, args.large)
        ratio = large / small
        print(
            f"{args.large} / {args.small} lines: {large:.2f} s / {small:.2f} s = {ratio:.1f}x "
            f"(goals: under {GOAL_SECONDS:.0f} s, at most {GOAL_RATIO:.0f}x)"
        )
        insert_lines(app, args.export_lines)
        growth = run_export(database_url, args.export_lines)
        if args.smoke:
            return 0
        missed = []
        if large > GOAL_SECONDS:
            missed.append(f"{args.large} lines took {large:.1f} s")
        if ratio > GOAL_RATIO:
            missed.append(f"the ratio is {ratio:.1f}")
        if growth > GOAL_MEMORY_MB:
            missed.append(f"the export grew by {growth:.0f} MB")
        if missed:
            print("Goals missed: " + "; ".join(missed))
            return 1
        return 0


if __name__ == "__main__":
    sys.exit(main())
