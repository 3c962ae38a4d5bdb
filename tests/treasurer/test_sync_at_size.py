"""A payout's lines at size: served from the simulator's index, fetched and matched in batches."""

import sqlalchemy as sa
from werkzeug.test import Client

from core.db import db
from payments.models import Payment, PaymentStatus, Payout, PayoutLine
from payments.simulator import SimConfig, Simulator, objects
from payments.simulator import charges as sim_charges


def stocked_simulator(count, start=0):
    """A simulator holding an automatic payout of ``count`` charges."""
    sim = Simulator(SimConfig(webhook_url=None))
    store = sim.store
    now = sim.clock.now() - 5 * 86400
    for n in range(start, start + count):
        store.add(
            objects.balance_transaction(
                now + n,
                amount=1000,
                currency="cad",
                type="charge",
                reporting_category="charge",
                source=f"ch_size{n:06d}",
                fee=59,
            )
        )
    with store.lock:
        payout = sim_charges.create_payout(store, store.ctx())
    return sim, payout


def pages(sim, payout_id, limit, **extra):
    client = Client(sim.wsgi_app)
    auth = {"Authorization": "Bearer sk_test_x"}
    after, seen = None, []
    while True:
        query = {"payout": payout_id, "limit": limit, **extra}
        if after:
            query["starting_after"] = after
        body = client.get("/v1/balance_transactions", query_string=query, headers=auth).get_json()
        seen.extend(item["id"] for item in body["data"])
        if not body["has_more"]:
            return seen
        after = body["data"][-1]["id"]


def test_the_simulator_pages_a_payout_from_its_index(monkeypatch):
    sim, payout = stocked_simulator(250)
    by_filter = pages(sim, payout["id"], 7, currency="cad")  # the filtering path
    store = sim.store

    def no_scan(*args, **kwargs):
        raise AssertionError("a page of ?payout= scanned every transaction")

    monkeypatch.setattr(store, "all", no_scan)
    by_index = pages(sim, payout["id"], 100)
    assert by_index == by_filter and len(by_index) == 251  # newest first, the payout's own too
    assert by_index[0] == payout["balance_transaction"]
    backwards = Client(sim.wsgi_app).get(
        "/v1/balance_transactions",
        query_string={"payout": payout["id"], "limit": 3, "ending_before": by_index[10]},
        headers={"Authorization": "Bearer sk_test_x"},
    )
    assert [t["id"] for t in backwards.get_json()["data"]] == by_index[7:10]


def _payments(app, count):
    with app.app_context():
        db.session.execute(
            sa.insert(Payment),
            [
                {
                    "status": PaymentStatus.succeeded,
                    "amount": 1000,
                    "charge_id": f"ch_size{n:06d}",
                }
                for n in range(count)
            ],
        )
        db.session.commit()


def _sync(app, sim, payout, count_queries):
    from payments.payouts import fetch_lines, sync_payout
    from treasurer.reconcile import check_payout

    with app.app_context():
        row = sync_payout(payout["id"])
        with count_queries() as queries:
            fetched = fetch_lines(row)
            review = check_payout(row)
        db.session.commit()
        return fetched, review.check.value, len(queries)


def test_matching_looks_rows_up_a_batch_at_a_time(app, stripe_sim, count_queries):
    """Ten times the lines, not ten times the queries: our rows are read per batch."""
    small_sim, small = stocked_simulator(120)
    large_sim, large = stocked_simulator(1200, start=120)
    _payments(app, 1320)
    results = []
    for sim, payout in ((small_sim, small), (large_sim, large)):
        # The app's simulator serves this payout for the length of the sync.
        stripe_sim.sim.store.objects.update(sim.store.objects)
        stripe_sim.sim.store.extra.update(sim.store.extra)
        stripe_sim.sim.store.order.update(sim.store.order)
        stripe_sim.sim.store.payout_txns.update(sim.store.payout_txns)
        stripe_sim.sim.store.payout_positions.update(sim.store.payout_positions)
        results.append(_sync(app, sim, payout, count_queries))
    (small_lines, small_check, small_queries), (large_lines, large_check, large_queries) = results
    assert (small_lines, large_lines) == (121, 1201)
    assert small_check == large_check == "balanced"
    assert large_queries <= small_queries + 4, (small_queries, large_queries)
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    PayoutLine.payment_id.is_(None), PayoutLine.type == "charge"
                )
            )
            == 0
        )
        assert db.session.scalar(sa.select(sa.func.count(Payout.id))) == 2
