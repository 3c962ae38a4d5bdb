"""In Chromium: the treasurer opens the newest payout, reconciles it and downloads its journal."""

import csv
import io
from decimal import Decimal

import pytest

from tests.helpers import ROOT, browser_sign_in
from tests.treasurer_fixtures import run_payout_sync

pytestmark = pytest.mark.browser

SCREENSHOT = ROOT / "instance" / "screenshots" / "treasurer-dashboard.png"


def test_the_treasurer_reconciles_the_newest_payout(
    app, live_server, page, stripe_sim, give, make_user
):
    for amount in ("25", "40"):
        _, session = give(other_amount=amount, email=f"gift{amount}@example.org")
        stripe_sim.pay(session)
    _, monthly = give(frequency="monthly", other_amount="15", email="monthly@example.org")
    stripe_sim.pay(monthly)
    stripe_sim.advance(days=3)
    stripe_sim.payout()
    run_payout_sync(app)
    make_user(email="tess@example.org", password="treasurer long pass", role="treasurer")

    browser_sign_in(page, live_server.url, "tess@example.org", "treasurer long pass")
    page.goto(f"{live_server.url}/treasurer/payouts")
    page.click("#payouts tbody tr:first-child a")
    assert "Balanced" in page.inner_text("#status")
    assert page.inner_text("#count-charge") == "3"
    assert page.inner_text("#count-payout") == "1"
    assert page.inner_text("#line-count") == "4"

    page.fill("#note", "Matches the bank statement of the 3rd.")
    page.click("#reconcile")
    page.wait_for_selector("#reconciled")
    assert "Reconciled" in page.inner_text("#status")
    assert "tess@example.org" in page.inner_text("#reconciled")
    assert page.locator("#reconcile").count() == 0  # frozen

    with page.expect_download() as download:
        page.click("#journal")
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    debits = sum(Decimal(r["debit"] or 0) for r in rows)
    credits = sum(Decimal(r["credit"] or 0) for r in rows)
    assert debits == credits > 0
    assert {"1000 Bank", "1050 Stripe clearing", "5100 Stripe fees"} <= {r["account"] for r in rows}

    page.goto(f"{live_server.url}/treasurer/")
    assert page.locator("#monthly-chart svg rect").count() > 0
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000
