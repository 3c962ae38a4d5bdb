"""In Chromium: sign up, confirm the email, sign in, switch to French."""

import pytest

from tests.helpers import Mailbox

pytestmark = pytest.mark.browser


def test_sign_up_confirm_sign_in_and_read_french(live_server, page, deliver):
    page.goto(f"{live_server.url}/register")
    page.fill("#name", "Béatrice Browser")
    page.fill("#email", "bea@example.org")
    page.fill("#password", "a long enough passphrase")
    page.fill("#confirm", "a long enough passphrase")
    page.click("#register")
    page.wait_for_selector("text=Check your email")

    [message] = deliver().to("bea@example.org")
    [link] = [u for u in Mailbox.links(message) if "/verify-email/" in u]
    assert link.startswith(live_server.url)
    page.goto(link)
    page.wait_for_selector("text=your email address is confirmed")

    page.fill("#email", "bea@example.org")
    page.fill("#password", "a long enough passphrase")
    page.click("#sign-in")
    page.wait_for_selector("h1:has-text('Your account')")
    assert page.locator("html").get_attribute("lang") == "en"

    page.click("a.lang-toggle")
    page.wait_for_selector("h1:has-text('Votre compte')")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("a.lang-toggle").inner_text() == "English"

    # The choice is remembered by a cookie on the next page, without ?lang=.
    page.goto(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Chaque don, si petit soit-il, fait une différence." in page.content()
