"""In Chromium: joining with auto-renew, a French student paying once, Cancel, the pages.

Each page checked is screenshotted to /tmp (1280 and 375 px), checked with axe-core (no
serious or critical violation), for console errors (CSP included) and for a page wider
than the window.
"""

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe

from core.db import db
from members import dates
from tests.helpers import Mailbox, browser_sign_in

pytestmark = pytest.mark.browser

WIDTHS = (1280, 375)


@pytest.fixture
def watched(page, live_server):
    """The page, with every console error and uncaught exception of our pages collected.

    Stripe's pages (the simulator's here) are not ours to hold to this.
    """
    errors = []

    def on_console(message):
        where = (message.location or {}).get("url", "")
        if message.type == "error" and where.startswith(live_server.url):
            errors.append(f"{message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    return page


def check(page, name):
    """Screenshot at each width, then hold the page to axe-core and to the window's width."""
    results = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], (name, bad)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=f"/tmp/members-{name}-{width}.png", full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, width, overflow)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert page.errors == [], (name, page.errors)


def fill_address(page, line1="200 rue Wellington", city="Ottawa", province="ON", code="K1P 5N2"):
    page.fill("#address_line1", line1)
    page.fill("#city", city)
    page.fill("#province", province)
    page.fill("#postal_code", code)


def test_a_visitor_joins_with_auto_renew_sees_current_then_turns_auto_renew_off(
    app, live_server, watched, stripe_sim, tiers, deliver
):
    page = watched
    page.goto(f"{live_server.url}/join")
    check(page, "join")
    page.click("#tier-individual a.button")
    page.wait_for_selector("h1:has-text('Join: Individual membership')")
    assert page.is_checked('input[name="renewal"][value="auto"]')
    term = page.inner_text("#quote-term")
    check(page, "join-individual")
    page.fill("#name", "Alex Joiner")
    page.fill("#email", "alex@example.org")
    page.fill("#password", "alex's long password")
    page.fill("#confirm", "alex's long password")
    fill_address(page)
    page.click("#join")

    page.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")
    assert page.input_value("#email") == "alex@example.org"
    assert "$50.00" in page.inner_text("#total")
    page.check("#card-success")
    page.click("#pay")
    page.wait_for_url(f"{live_server.url}/join/welcome?session_id=cs_test_*")
    with app.app_context():
        end = dates.add_years(dates.today())
    assert "Welcome, and thank you for joining" in page.content()
    check(page, "welcome")

    mail = deliver().to("alex@example.org")
    [confirm] = [m for m in mail if m["Subject"] == "Confirm your email address"]
    [link] = [u for u in Mailbox.links(confirm) if "/verify-email/" in u]
    page.goto(link)
    page.fill("#email", "alex@example.org")
    page.fill("#password", "alex's long password")
    page.click("#sign-in")
    page.wait_for_selector("h1:has-text('Your account')")
    page.goto(f"{live_server.url}/account/membership")
    assert page.inner_text("#membership-status") == "Current"
    assert page.inner_text("#membership-ends") == f"{end:%B} {end.day}, {end.year}"
    assert str(end.year) in term
    assert page.inner_text("#auto-renew").startswith("On")
    check(page, "account")

    page.click("#auto-renew-off")
    page.wait_for_selector("text=Auto-renew is off.")
    assert page.inner_text("#auto-renew") == "Off"
    assert page.inner_text("#membership-status") == "Current"
    assert page.is_visible("#renew-now")
    check(page, "account-auto-renew-off")


def test_a_french_visitor_joins_as_student_paying_once_and_gets_the_french_acknowledgement(
    app, live_server, watched, stripe_sim, tiers, deliver
):
    page = watched
    page.goto(f"{live_server.url}/join/student?lang=fr")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "25,00" in page.inner_text("#quote-price")
    page.check('input[name="renewal"][value="once"]')
    page.fill("#name", "Élise Étudiante")
    page.fill("#email", "elise@example.org")
    page.fill("#password", "un mot de passe assez long")
    page.fill("#confirm", "un mot de passe assez long")
    fill_address(page, "45 rue Saint-Denis", "Montréal", "QC", "H2X 3K8")
    check(page, "join-student-fr")
    page.click("#join")
    page.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")
    page.click("#pay")
    page.wait_for_url(f"{live_server.url}/join/welcome?session_id=cs_test_*")
    assert "Bienvenue" in page.content()
    check(page, "welcome-fr")

    mail = deliver().to("elise@example.org")
    [ack] = [m for m in mail if m["Subject"] == "Bienvenue : votre adhésion"]
    text = Mailbox.text(ack)
    assert "25,00" in text
    assert "Ceci n'est pas un reçu officiel aux fins de l'impôt sur le revenu." in text
    with app.app_context():
        from members.models import Membership

        membership = db.session.scalar(sa.select(Membership))
        assert (membership.tier.slug, membership.auto_renew) == ("student", False)
        assert membership.user.language == "fr"


def test_cancel_on_stripes_page_brings_back_the_filled_form(
    app, live_server, watched, stripe_sim, tiers
):
    page = watched
    page.goto(f"{live_server.url}/join/family")
    page.fill("#name", "Sam Cancel")
    page.fill("#email", "sam@example.org")
    page.fill("#password", "sam's long password")
    page.fill("#confirm", "sam's long password")
    page.check('input[name="mondial_format"][value="print"]')
    fill_address(page, "9 Line One\u00a0Street")
    page.click("#join")
    page.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")
    left = urlsplit(page.url).path.rsplit("/", 1)[-1]
    page.click("#cancel")
    page.wait_for_selector("text=nothing was charged")
    assert page.input_value("#address_line1") == "9 Line One\u00a0Street"
    assert page.input_value("#city") == "Ottawa"
    assert page.is_checked('input[name="renewal"][value="auto"]')
    check(page, "join-cancelled")
    # The page left at Stripe is closed: paying it later in another tab does nothing.
    stripe_sim.pay(left, expect=400)
    page.go_back()
    page.wait_for_url(f"{stripe_sim.url}/c/pay/cs_test_*")


def test_staff_member_screens(app, live_server, watched, stripe_sim, tiers, make_user, join):
    response, session_id = join()
    stripe_sim.pay(session_id)
    make_user(email="tess@example.org", password="treasurer long pass", role="treasurer")
    page = watched
    browser_sign_in(page, live_server.url, "tess@example.org", "treasurer long pass")
    page.wait_for_selector("h1:has-text('Your account')")
    for lang in ("en", "fr"):
        for path, name in (
            ("/treasurer/members", "staff-list"),
            ("/treasurer/members/offline", "staff-offline"),
            ("/treasurer/members/grant", "staff-grant"),
            ("/treasurer/members/import", "staff-import"),
            ("/treasurer/members/good-standing", "staff-good-standing"),
            ("/treasurer/members/settings", "staff-settings"),
        ):
            page.goto(f"{live_server.url}{path}?lang={lang}")
            check(page, f"{name}-{lang}")
        page.goto(f"{live_server.url}/treasurer/members?lang={lang}")
        page.click("#members a")
        page.wait_for_selector("#history")
        check(page, f"staff-detail-{lang}")
