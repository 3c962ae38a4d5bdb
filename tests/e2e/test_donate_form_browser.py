"""In Chromium: the amount typed is the amount charged, the card fee is shown before paying,
and Cancel on Stripe's page brings the filled form back (and closes that page for good)."""

import pytest
import sqlalchemy as sa

from core.db import db
from donations.gifts import with_fee_covered
from donations.models import Donation, DonationStatus
from tests.e2e.test_donations_browser import fill_donor

pytestmark = pytest.mark.browser


def fee_for(app, cents):
    with app.app_context():
        return with_fee_covered(cents) - cents


def test_typed_40_with_25_ticked_is_charged_40_the_fee_shows_first_and_cancel_keeps_the_form(
    app, live_server, page, stripe_sim, funds
):
    fee = fee_for(app, 4000)
    page.goto(f"{live_server.url}/donate")
    assert page.is_checked('input[name="amount_choice"][value="2500"]')  # suggested first
    assert page.text_content("#charge-summary") == "You will be charged $25.00"
    page.fill("#other_amount", "40")
    # The script chose Other for the donor, and shows what will be charged.
    assert page.is_checked('input[name="amount_choice"][value="other"]')
    page.wait_for_selector("#charge-summary:has-text('You will be charged $40.00')")
    page.check("#cover_fee")
    total = f"${(4000 + fee) / 100:.2f}"
    split = f"Your gift $40.00 + card fee ${fee / 100:.2f} = {total}"
    page.wait_for_selector(f"#charge-summary:has-text('{split}')")
    assert not page.is_visible("#annual_receipt")  # one receipt a year: monthly gifts only
    fill_donor(page, name="Olive Other", email="olive@example.org")
    page.click("#donate")

    # Stripe's page: the gift and the card fee on their own lines, $40 for the gift.
    page.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")
    rows = page.locator("#line-items tr").all_inner_texts()
    assert "$40.00" in rows[0] and "Gift to General fund" in rows[0]
    assert f"${fee / 100:.2f}" in rows[1] and "Card fee" in rows[1]
    assert page.text_content("#total").strip() == total
    left_behind = page.url

    # Cancel: back to the form as it was filled, told that nothing was charged.
    page.click("#cancel")
    page.wait_for_url(f"{live_server.url}/donate/back/*")
    assert "nothing was charged" in page.text_content(".flashes")
    assert page.input_value("#other_amount") == "40"
    assert page.is_checked('input[name="amount_choice"][value="other"]')
    assert page.is_checked("#cover_fee")
    assert page.input_value("#donor_name") == "Olive Other"
    assert page.input_value("#email") == "olive@example.org"
    assert page.input_value("#postal_code") == "J8X 2J1"
    assert page.text_content("#charge-summary") == split

    # The page left in another tab can no longer be paid.
    other_tab = page.context.new_page()
    other_tab.goto(left_behind)
    assert other_tab.locator("#pay").count() == 0 or "expired" in other_tab.content().lower()
    other_tab.close()
    with app.app_context():
        [donation] = db.session.scalars(sa.select(Donation)).all()
        assert donation.status == DonationStatus.expired

    # Giving again from the kept form makes exactly one gift.
    page.click("#donate")
    page.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")
    page.check("#card-success")
    page.click("#pay")
    page.wait_for_url(f"{live_server.url}/donate/thanks?session_id=cs_test_*")
    with app.app_context():
        paid = db.session.scalars(
            sa.select(Donation).where(Donation.status == DonationStatus.paid)
        ).all()
        assert [(d.amount, d.fee_covered) for d in paid] == [(4000, fee)]


def test_without_javascript_a_typed_amount_still_wins_over_the_ticked_preset(
    app, browser, live_server, stripe_sim, funds
):
    context = browser.new_context(java_script_enabled=False, locale="en-CA")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/donate")
    assert page.is_checked('input[name="amount_choice"][value="2500"]')
    page.fill("#other_amount", "40")
    assert page.is_checked('input[name="amount_choice"][value="2500"]')  # no script here
    fill_donor(page)
    page.click("#donate")
    page.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")
    assert page.text_content("#total").strip() == "$40.00"
    context.close()


def test_a_failed_submit_moves_the_focus_to_the_error_summary(app, live_server, page, funds):
    page.goto(f"{live_server.url}/donate?lang=fr")
    page.fill("#other_amount", "abc")
    page.click("#donate")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    page.click("#error-summary a[href='#donor_name']")
    assert page.evaluate("location.hash") == "#donor_name"
    assert page.get_attribute("#donor_name", "aria-invalid") == "true"
