"""In Chromium: each person the site serves, from the home page through what they came to do.

Donor, member, buyer, supporter, moderator and treasurer each start at ``/`` and follow the
links a person would. Each journey saves a screenshot of its last page under
``tests/e2e/screenshots/`` (ignored by git) and fails on a console error of our pages.
The member and the buyer go through the site in French.
"""

from pathlib import Path

import pytest
import sqlalchemy as sa

from core.db import db
from tests.helpers import Mailbox, browser_second_factor, post_form, sign_in

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


@pytest.fixture
def visit(browser, live_server):
    """Open a browser tab as a person with a locale; console errors of our pages are kept."""
    contexts = []

    def open_tab(locale="en-CA"):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.errors = []

        def on_console(message):
            where = (message.location or {}).get("url", "")
            if message.type == "error" and where.startswith(live_server.url):
                page.errors.append(f"{message.text} ({where})")

        page.on("console", on_console)
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        page.goto(f"{live_server.url}/")
        return page

    yield open_tab
    for context in contexts:
        context.close()


def finish(page, name):
    """The last page of a journey: fits the window, no console error, saved as a picture."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, (name, page.url, overflow)
    below_footer = page.evaluate(
        "document.documentElement.scrollHeight - Math.round(window.scrollY"
        " + document.querySelector('.site-footer').getBoundingClientRect().bottom)"
    )
    assert below_footer <= 1, (name, "the page goes on below its footer", below_footer)
    assert page.errors == [], (name, page.errors)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def nav(page, path):
    """Follow the link of the main navigation (or the header) to ``path``."""
    page.click(f"header a[href='{path}']")
    page.wait_for_load_state()


def pay_on_checkout(page, stripe_sim, back_to):
    """On the simulator's hosted Checkout page: pay with a good card, come back to the app."""
    page.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")
    page.check("#card-success")
    page.click("#pay")
    page.wait_for_url(back_to)


def fill_address(page, line1, city, province, code):
    page.fill("#address_line1", line1)
    page.fill("#city", city)
    if page.locator("select#province").count():
        page.select_option("#province", province)
    else:
        page.fill("#province", province)
    page.fill("#postal_code", code)


def test_donor_gives_through_checkout_and_gets_the_receipt(
    app, live_server, visit, stripe_sim, funds, charity, deliver
):
    page = visit()
    page.click("main a.button[href='/donate']")
    page.wait_for_selector("h1")
    page.check('input[name="amount_choice"][value="other"]')
    page.fill("#other_amount", "60")
    page.wait_for_selector("#charge-summary:has-text('You will be charged $60.00')")
    page.fill("#donor_name", "Dana Donor")
    page.fill("#email", "dana@example.org")
    fill_address(page, "12 Elgin Street", "Ottawa", "ON", "K1P 5W1")
    page.click("#donate")

    pay_on_checkout(page, stripe_sim, f"{live_server.url}/donate/thanks?session_id=cs_test_*")
    assert page.inner_text("h1") == "Thank you for your gift"
    assert "$60.00" in page.inner_text(".lead")
    assert "Your receipt is on its way to dana@example.org." in page.content()

    [message] = deliver().to("dana@example.org")
    [link] = [u for u in Mailbox.links(message) if "/receipts/" in u]
    receipt = page.request.get(link)
    assert receipt.status == 200
    assert receipt.headers["content-type"] == "application/pdf"
    assert receipt.body().startswith(b"%PDF")
    finish(page, "donor")


def test_member_joins_in_french_and_sees_the_membership_in_the_account(
    app, live_server, visit, stripe_sim, tiers, deliver
):
    page = visit()
    page.click("a.lang-toggle")
    page.wait_for_url(f"{live_server.url}/?lang=fr")
    assert page.locator("html").get_attribute("lang") == "fr"
    nav(page, "/join")
    page.click("#tier-individual a.button")
    page.wait_for_selector("h1:has-text('Individuelle')")
    page.fill("#name", "Marie Membre")
    page.fill("#email", "marie@example.org")
    page.fill("#password", "un mot de passe assez long")
    page.fill("#confirm", "un mot de passe assez long")
    fill_address(page, "45 rue Saint-Denis", "Montréal", "QC", "H2X 3K8")
    page.click("#join")

    pay_on_checkout(page, stripe_sim, f"{live_server.url}/join/welcome?session_id=cs_test_*")
    assert "Bienvenue" in page.inner_text("h1")

    mail = deliver().to("marie@example.org")
    [confirm] = [m for m in mail if "/verify-email/" in Mailbox.text(m)]
    [link] = [u for u in Mailbox.links(confirm) if "/verify-email/" in u]
    page.goto(link)
    page.fill("#email", "marie@example.org")
    page.fill("#password", "un mot de passe assez long")
    page.click("#sign-in")
    page.wait_for_selector("h1:has-text('Votre compte')")
    page.click("main a[href='/account/membership']")
    page.wait_for_selector("#membership-status")
    assert page.inner_text("#membership-status") == "En vigueur"
    assert "Individuelle" in page.inner_text("main")
    assert page.inner_text("#auto-renew").startswith("Activé\u00a0: prochain paiement de 50,00")
    finish(page, "member-fr")


def test_buyer_shops_in_french_pays_and_reaches_the_order_page(
    app, live_server, visit, stripe_sim, shop_rates, tmp_path, deliver
):
    from shop.cli import seed_shop

    app.config["SHOP_FILES_DIR"] = str(tmp_path)
    with app.app_context():
        seed_shop()
        db.session.commit()
    try:
        page = visit(locale="fr-CA")
        assert page.locator("html").get_attribute("lang") == "fr"
        nav(page, "/shop")
        page.click("a[href='/shop/mondial-42']")
        page.wait_for_url(f"{live_server.url}/shop/mondial-42")
        page.click("form.add-to-cart button[type=submit]")
        page.wait_for_url(f"{live_server.url}/cart")
        assert page.locator("#cart-lines tbody tr").count() == 1
        assert page.inner_text("#subtotal") == "12,00\u00a0$"
        page.click("main a[href='/checkout']")
        page.fill("#email", "bea@example.org")
        page.fill("#name", "Béatrice Acheteuse")
        fill_address(page, "1 rue de la Paix", "Gatineau", "QC", "J8X 2J1")
        page.click("#review")
        page.wait_for_selector("#quote-total")
        line = "1 × Mondial 42 : le maintien de la paix\u00a0: 12,00\u00a0$"
        assert page.locator("main li").first.inner_text() == line
        page.click("#pay")

        pay_on_checkout(page, stripe_sim, f"{live_server.url}/orders/*")
        assert "État : Payé" in page.inner_text("#order-status")
        total = page.locator("#order-total")
        assert total.inner_text() == "17,00\u00a0$"  # 12 $ and 5 $ of shipping
        assert total.evaluate("cell => getComputedStyle(cell).textAlign") == "right"
        with app.app_context():
            from shop.models import Order, OrderStatus

            order = db.session.scalar(sa.select(Order))
            assert order.status == OrderStatus.paid and order.email == "bea@example.org"
        [mail] = deliver().to("bea@example.org")
        assert order.number in mail["Subject"]
        assert line in Mailbox.text(mail)
        finish(page, "buyer-fr")
    finally:
        app.config.pop("SHOP_FILES_DIR", None)


def test_supporter_signs_a_letter_volunteers_and_comments(
    app, live_server, visit, content, deliver
):
    page = visit()
    nav(page, "/get-involved")
    page.click(f"main a[href='/take-action/{content['open']}']")
    page.fill("#name", "Sam Supporter")
    page.fill("#email", "sam@example.org")
    page.fill("#postal_code", "K1P 5W1")
    page.click("#sign-submit")
    page.wait_for_selector(".flash-success")
    [message] = deliver().to("sam@example.org")
    [link] = [u for u in Mailbox.links(message) if "/confirm/" in u]
    page.goto(link)
    page.click("#confirm-signature")
    page.wait_for_selector("#signature-count:has-text('1 signature')")

    nav(page, "/get-involved")
    page.click("main a[href='/volunteer']")
    page.fill("#name", "Sam Supporter")
    page.fill("#email", "sam@example.org")
    page.check("input[name=languages][value=en]")
    page.check("input[name=interests][value=writing]")
    page.check("input[name=availability][value=evenings]")
    page.click("#volunteer-submit")
    page.wait_for_url(f"{live_server.url}/volunteer/thanks")

    page.goto(f"{live_server.url}/take-action/{content['open']}")
    page.fill("#comment-name", "Sam Supporter")
    page.fill("#comment-email", "sam@example.org")
    page.fill("#comment-body", "Canada should fund the peacekeepers again.")
    page.click("#comment-submit")
    page.wait_for_selector(".flash-success:has-text('approves')")
    assert "fund the peacekeepers again" not in page.inner_text("#comments")
    with app.app_context():
        from involve.models import Comment, Volunteer

        [comment] = db.session.scalars(sa.select(Comment)).all()
        assert comment.status.value == "pending"
        assert db.session.scalar(sa.select(Volunteer.email)) == "sam@example.org"
    finish(page, "supporter")


def test_moderator_approves_a_held_comment_and_sees_it_published(
    app, client, live_server, visit, content, make_user
):
    slug = content["open"]
    post_form(
        client,
        f"/take-action/{slug}/comments",
        {
            "comment-name": "Sam Supporter",
            "comment-email": "sam@example.org",
            "comment-body": "Canada should fund the peacekeepers again.",
        },
        token_from=f"/take-action/{slug}",
    )
    make_user(email="moe@example.org", password="moe's long password", role="moderator")

    page = visit()
    nav(page, "/login")
    page.fill("#email", "moe@example.org")
    page.fill("#password", "moe's long password")
    page.click("#sign-in")
    page.wait_for_selector("h1")
    page.click("a[href='/moderation/comments']")
    page.wait_for_selector("h1:has-text('Comment moderation')")
    row = page.locator("tr", has_text="fund the peacekeepers again")
    row.get_by_role("button", name="Approve the comment by Sam Supporter").click()
    page.wait_for_selector(".flash-success:has-text('Comments changed: 1.')")

    page.goto(f"{live_server.url}/take-action/{slug}")
    published = page.locator("#comments .comment", has_text="fund the peacekeepers again")
    assert "Sam Supporter" in published.inner_text()
    finish(page, "moderator")


def test_treasurer_signs_in_with_the_second_factor_and_checks_a_payout(
    app, live_server, visit, stripe_sim, give, make_user
):
    from tests.treasurer_fixtures import run_payout_sync

    for amount in ("25", "40"):
        _, session = give(other_amount=amount, email=f"gift{amount}@example.org")
        stripe_sim.pay(session)
    stripe_sim.advance(days=3)
    stripe_sim.payout()
    run_payout_sync(app)
    _, email, password = make_user(
        email="tess@example.org", password="treasurer long pass", role="treasurer"
    )
    assert sign_in(app.test_client(), email, password).status_code == 302  # enrolled her app

    page = visit()
    nav(page, "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")
    page.wait_for_url(f"{live_server.url}/login/two-factor*")
    browser_second_factor(page, email)
    nav(page, "/treasurer/")
    assert page.locator("#monthly-chart svg rect").count() > 0

    page.click("a[href='/treasurer/payouts']")
    page.click("#payouts tbody tr:first-child a")
    assert "Balanced" in page.inner_text("#status")
    assert page.inner_text("#count-charge") == "2"

    page.click("a[href='/treasurer/events']")
    page.wait_for_selector("h1")
    assert "payout.paid" in page.inner_text("main")
    finish(page, "treasurer")
