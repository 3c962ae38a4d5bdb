"""In Chromium with JavaScript turned off: every public form still does its job.

Scripts only improve the forms (a live total, the focus moved to the error summary); a
visitor whose browser runs none can still join, buy, sign a letter, confirm it, comment,
volunteer, open an account, sign in and change the language. The donate form has its
own test of this in test_donate_form_browser.py.
"""

import pytest
import sqlalchemy as sa

from core.db import db
from tests.helpers import Mailbox

pytestmark = pytest.mark.browser


@pytest.fixture
def plain(browser):
    context = browser.new_context(java_script_enabled=False, locale="en-CA")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def test_joining_buying_and_paying_work_without_javascript(
    app, live_server, plain, stripe_sim, tiers, products
):
    base = live_server.url
    plain.goto(f"{base}/join")
    plain.click("#tier-individual a.button")
    plain.fill("#name", "Noémie Noscript")
    plain.fill("#email", "noemie@example.org")
    plain.fill("#password", "noemie's long password")
    plain.fill("#confirm", "noemie's long password")
    plain.fill("#address_line1", "200 rue Wellington")
    plain.fill("#city", "Ottawa")
    plain.fill("#province", "ON")
    plain.fill("#postal_code", "K1P 5N2")
    plain.click("#join")
    plain.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")

    plain.goto(f"{base}/shop/issue-42")
    plain.click("form.add-to-cart button[type=submit]")
    plain.wait_for_url(f"{base}/cart")
    quantity = plain.locator("#cart-lines input[type=number]").first
    quantity.fill("2")
    plain.locator("#cart-lines button[type=submit]").first.click()
    plain.wait_for_url(f"{base}/cart")
    assert plain.inner_text("#subtotal") == "$24.00"
    plain.click("text=Check out")
    plain.fill("#email", "noemie@example.org")
    plain.fill("#name", "Noémie Noscript")
    plain.fill("#address_line1", "10 Queen Street")
    plain.fill("#city", "Toronto")
    plain.select_option("#province", "ON")
    plain.fill("#postal_code", "M5H 2N2")
    plain.click("#review")
    assert plain.inner_text("#quote-total").startswith("$")
    plain.click("#pay")
    plain.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")
    plain.check("#card-success")
    plain.click("#pay")
    plain.wait_for_url(f"{base}/orders/*")
    assert "Paid" in plain.inner_text("#order-status")


def test_get_involved_and_accounts_work_without_javascript(
    app, live_server, plain, content, make_user, deliver
):
    from involve.models import Comment, Signature, Volunteer

    base = live_server.url
    plain.goto(f"{base}/take-action/{content['open']}")
    plain.fill("#name", "Noémie Noscript")
    plain.fill("#email", "noemie@example.org")
    plain.fill("#postal_code", "h2x 1y4")
    plain.click("#sign-submit")
    [message] = deliver().to("noemie@example.org")
    [link] = [u for u in Mailbox.links(message) if "/confirm/" in u]
    plain.goto(link)
    plain.click("#confirm-signature")

    plain.goto(f"{base}/pages/{content['roadmap']}")
    plain.fill("#comment-name", "Noémie Noscript")
    plain.fill("#comment-email", "noemie@example.org")
    plain.fill("#comment-body", "Sans script, ça marche aussi.")
    plain.click("#comment-submit")
    plain.wait_for_load_state()

    plain.goto(f"{base}/volunteer")
    plain.fill("#name", "Noémie Noscript")
    plain.fill("#email", "noemie@example.org")
    plain.check('input[name="languages"][value="fr"]')
    plain.check('input[name="interests"][value="translation"]')
    plain.check('input[name="availability"][value="evenings"]')
    plain.click("#volunteer-submit")
    plain.wait_for_url(f"{base}/volunteer/thanks")

    with app.app_context():
        signature = db.session.scalar(sa.select(Signature))
        assert signature.confirmed_at is not None
        assert db.session.scalar(sa.select(Comment)).body == "Sans script, ça marche aussi."
        assert db.session.scalar(sa.select(Volunteer)).email == "noemie@example.org"

    plain.goto(f"{base}/register")
    plain.fill("#name", "Ana Noscript")
    plain.fill("#email", "ana@example.org")
    plain.fill("#password", "ana's long enough password")
    plain.fill("#confirm", "ana's long enough password")
    plain.click("#register")
    assert "Check your email" in plain.content()

    make_user(email="member@example.org", password="the member's password")
    plain.goto(f"{base}/login")
    plain.fill("#email", "member@example.org")
    plain.fill("#password", "the member's password")
    plain.click("#sign-in")
    plain.wait_for_url(f"{base}/account*")

    plain.goto(f"{base}/")
    plain.locator("[lang=fr]").first.click()
    plain.wait_for_load_state()
    assert plain.get_attribute("html", "lang") == "fr"
