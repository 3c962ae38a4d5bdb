"""The treasurer's pages with 100 000 payments and 1 000 payouts behind them.

The rows are written straight into a PostgreSQL database of the bench's own (a year of
payments split over the three purposes, each payout with 100 lines, refunds, disputes,
webhook events, audit entries); each page is then asked for in the app (in process, as a
signed-in treasurer) a few times, and its median time and SQL query count are printed,
slowest first (goal: every page under 300 ms; lists paginated, totals from aggregates).

    .venv/bin/python bench/treasurer_pages.py            # by hand
    .venv/bin/python bench/treasurer_pages.py --smoke    # tiny sizes, no goal (CI)

Needs PostgreSQL at BENCH_DATABASE_URL (a server's admin URL).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Bench  # noqa: E402

GOAL_MS = 300.0
LINES_PER_PAYOUT = 100


def seed(app, payments, payouts):
    """Payments over the past year, their allocations, payouts and their lines (SQL)."""
    import sqlalchemy as sa

    from core.db import db

    statements = [
        """
        INSERT INTO payment (token, status, mode, amount, currency, fee, net, email, name,
                             language, paid_at, charge_id, payment_intent_id, created_at,
                             updated_at)
        SELECT 'bench' || n, 'succeeded', 'payment', 1000 + (n % 50) * 100, 'cad',
               59 + (n % 50) * 3, 941 + (n % 50) * 97, 'donor' || n || '@example.org',
               'Donor ' || n, 'en', now() - (n % 365) * interval '1 day' - interval '8 days',
               'ch_bench' || n, 'pi_bench' || n, now(), now()
        FROM generate_series(1, :payments) AS n
        """,
        """
        INSERT INTO allocation (payment_id, purpose, row_id, amount, tax, fee, description)
        SELECT id, (ARRAY['donation', 'membership', 'order'])[1 + id % 3], id, amount,
               CASE WHEN id % 3 = 2 THEN amount * 13 / 113 ELSE 0 END, fee, 'Bench'
        FROM payment
        """,
        """
        INSERT INTO payout (stripe_payout_id, amount, currency, status, automatic,
                            reconciliation_status, needs_sync, synced_at, created_at,
                            updated_at)
        SELECT 'po_bench' || n, 0, 'cad', CASE WHEN n % 97 = 0 THEN 'failed' ELSE 'paid' END,
               true, 'completed', false, now(), now() - (n % 365) * interval '1 day', now()
        FROM generate_series(1, :payouts) AS n
        """,
        """
        INSERT INTO payout_line (payout_id, balance_transaction_id, type, reporting_category,
                                 amount, fee, net, source_id, description, created, payment_id)
        SELECT 1 + (p.id - 1) % :payouts, 'txn_bench' || p.id, 'charge', 'charge', p.amount,
               p.fee, p.net, p.charge_id, 'Bench', p.paid_at, p.id
        FROM payment p WHERE p.id <= CAST(:payouts AS integer) * CAST(:lines AS integer)
        """,
        """
        INSERT INTO payout_line (payout_id, balance_transaction_id, type, reporting_category,
                                 amount, fee, net, source_id, description, created)
        SELECT po.id, 'txn_po' || po.id, 'payout', 'payout', -sums.net, 0, -sums.net,
               po.stripe_payout_id, 'STRIPE PAYOUT', po.created_at
        FROM payout po JOIN (SELECT payout_id, sum(net) AS net FROM payout_line
                             GROUP BY payout_id) sums ON sums.payout_id = po.id
        """,
        "UPDATE payout SET amount = -l.amount FROM payout_line l "
        "WHERE l.payout_id = payout.id AND l.type = 'payout'",
        """
        INSERT INTO refund (payment_id, stripe_refund_id, amount, status, reason, note,
                            created_at, updated_at)
        SELECT id, 're_bench' || id, amount / 2, 'succeeded', 'requested_by_customer', '',
               paid_at + interval '1 day', now()
        FROM payment WHERE id % 500 = 0
        """,
        """
        INSERT INTO dispute (payment_id, stripe_dispute_id, amount, fee, status, reason,
                             evidence_due_by, created_at, updated_at)
        SELECT id, 'dp_bench' || id, amount, 1500,
               CASE WHEN id % 2000 = 0 THEN 'needs_response' ELSE 'lost' END, 'fraudulent',
               now() + interval '7 days', paid_at + interval '2 days', now()
        FROM payment WHERE id % 1000 = 0
        """,
        """
        INSERT INTO stripe_event (id, type, created, api_version, livemode, object_id, payload,
                                  source, received_at, processed_at, attempts, last_error)
        SELECT 'evt_bench' || n,
               (ARRAY['checkout.session.completed', 'charge.refunded', 'payout.paid'])[1 + n % 3],
               now() - n * interval '1 minute', '2026-10-28.endive', false, 'obj' || n,
               '{"object": "event"}', 'webhook', now() - n * interval '1 minute',
               CASE WHEN n % 100 = 0 THEN NULL ELSE now() END, 1,
               CASE WHEN n % 100 = 0 THEN 'bench error' ELSE NULL END
        FROM generate_series(1, :payments / 10) AS n
        """,
        """
        INSERT INTO audit_entry (at, actor, action, target_type, target_id, data)
        SELECT now() - n * interval '1 minute', 'stripe', 'payout.status', 'payout', n::text,
               '{}'
        FROM generate_series(1, :payments / 10) AS n
        """,
    ]
    params = {"payments": payments, "payouts": payouts, "lines": LINES_PER_PAYOUT}
    with app.app_context():
        for statement in statements:
            db.session.execute(sa.text(statement), params)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        from payments.models import Payout
        from treasurer.reconcile import check_payout

        for payout in db.session.scalars(sa.select(Payout)).all():
            check_payout(payout)
        db.session.commit()


def signed_in_client(app):
    """A test client with the session cookie of a signed-in treasurer."""
    from core.accounts.models import LoginSession, Role, User
    from core.db import db

    with app.app_context():
        user = User(email="bench-treasurer@example.org", password_hash="!", role=Role.treasurer)
        db.session.add(user)
        db.session.flush()
        session = LoginSession(user_id=user.id)
        db.session.add(session)
        db.session.commit()
        token = session.token
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = token
        cookie["_fresh"] = True
    return client


def pages(app):
    import sqlalchemy as sa

    from core.db import db
    from payments.models import Payment, Payout, StripeEvent

    with app.app_context():
        payout = db.session.scalar(sa.select(Payout.id).order_by(Payout.id.desc()))
        payment = db.session.scalar(sa.select(Payment.id).order_by(Payment.id))
        event = db.session.scalar(sa.select(StripeEvent.id).order_by(StripeEvent.id))
    return [
        "/treasurer/",
        "/treasurer/payouts",
        "/treasurer/payouts?page=15",
        "/treasurer/payouts?state=balanced",
        f"/treasurer/payouts/{payout}",
        f"/treasurer/payouts/{payout}?page=2",
        f"/treasurer/payouts/{payout}?kind=unmatched",
        "/treasurer/payments",
        "/treasurer/payments?page=1000",
        "/treasurer/payments?q=donor4242@example.org",
        "/treasurer/payments?q=25.00",
        "/treasurer/payments?q=ch_bench777",
        f"/treasurer/payments/{payment}",
        "/treasurer/refunds",
        "/treasurer/disputes",
        "/treasurer/events",
        "/treasurer/events?outcome=failing",
        f"/treasurer/events/{event}",
        "/treasurer/audit",
        "/treasurer/not-paid-out",
        "/treasurer/exports",
        "/treasurer/reports/receipts",
        "/treasurer/reports/gst-hst",
        "/api/v1/treasurer/payouts",
        f"/api/v1/treasurer/payouts/{payout}",
    ]


def measure(app, client, path, rounds):
    import sqlalchemy as sa

    from core.db import db

    with app.app_context():
        engine = db.engine
    counted = []

    def count(*args):
        counted.append(1)

    response = client.get(path)  # warm: templates compiled, caches filled
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        client.get(path)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), len(counted)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--payouts", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, no goal")
    args = parser.parse_args(argv)
    if args.smoke:
        args.payments, args.payouts, args.rounds = 2000, 20, 1

    import logging

    from bench.reconcile import empty_tables, make_app

    with Bench("treasurer_pages") as bench:
        database_url = bench.database()
        bench.flask({**os.environ, "DATABASE_URL": database_url}, "db", "upgrade")
        app = make_app(database_url, 1)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        empty_tables(app)
        started = time.perf_counter()
        seed(app, args.payments, args.payouts)
        print(
            f"{args.payments} payments and {args.payouts} payouts written and checked in "
            f"{time.perf_counter() - started:.0f} s"
        )
        client = signed_in_client(app)
        results = [(path, *measure(app, client, path, args.rounds)) for path in pages(app)]
        results.sort(key=lambda r: r[1], reverse=True)
        for path, ms, queries in results:
            print(f"{ms:8.1f} ms  {queries:3d} queries  {path}")
        path, ms, queries = results[0]
        print(
            f"slowest: {path} in {ms:.1f} ms with {queries} queries (goal under {GOAL_MS:.0f} ms)"
        )
        if not args.smoke and ms > GOAL_MS:
            print("Goal missed.")
            return 1
        return 0


if __name__ == "__main__":
    sys.exit(main())
