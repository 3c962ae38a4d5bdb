"""In Chromium: a supporter reads, signs and comments in French; a moderator publishes it."""

import os
import re
from pathlib import Path

import pytest

from tests.involve_fixtures import confirm_link

pytestmark = pytest.mark.browser


def watch_console(page):
    """Console errors and uncaught exceptions (a CSP refusal is a console error)."""
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def test_a_supporter_signs_and_comments_in_french_and_a_moderator_publishes(
    app, live_server, browser, content, make_user, deliver, mailbox
):
    make_user(email="moe@example.org", password="moe's long password", role="moderator")
    context = browser.new_context(locale="fr-CA")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = watch_console(page)

    # The closed Mali campaign and its result, in French.
    page.goto(f"{live_server.url}/take-action")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.click(f"a[href='/take-action/{content['mali']}']")
    page.wait_for_selector("h1:has-text('Avril 2020')")
    assert "Fermée le 30 avril 2020" in page.inner_text(".status-line")
    assert "Artistes pour la Paix" in page.inner_text(".result")
    assert page.locator("#sign-submit").count() == 0

    # The open campaign: sign it.
    page.goto(f"{live_server.url}/take-action/{content['open']}")
    assert page.inner_text("#signature-count") == "0 signature"
    page.fill("#name", "Léa Tremblay")
    page.fill("#email", "lea@example.org")
    page.fill("#postal_code", "h2x 1y4")
    page.fill("#personal_message", "La paix se construit.\nEnsemble.")
    page.check("#news_consent")
    page.click("#sign-submit")
    page.wait_for_selector(".flash-success:has-text('Presque terminé')")
    assert page.inner_text("#signature-count") == "0 signature"  # not until confirmed

    # Confirm from the email, and see the count go up.
    [message] = deliver().to("lea@example.org")
    assert message["Subject"] == "Veuillez confirmer votre signature"
    page.goto(confirm_link(message))
    page.click("#confirm-signature")
    page.wait_for_selector(".flash-success:has-text('confirmée et comptée')")
    assert page.inner_text("#signature-count") == "1 signature"

    # A comment on the Roadmap page, held for moderation.
    page.goto(f"{live_server.url}/pages/{content['roadmap']}")
    assert "Veuillez noter que les commentaires doivent être approuvés" in page.content()
    page.fill("#comment-name", "Léa Tremblay")
    page.fill("#comment-email", "lea@example.org")
    page.fill("#comment-body", "Une feuille de route à <b>relancer</b>.")
    page.click("#comment-submit")
    page.wait_for_selector(".flash-success:has-text('paraîtra dès')")
    assert "relancer" not in page.inner_text("#comments")

    # A moderator approves it, on a phone.
    moderator = browser.new_context(
        locale="en-CA", viewport={"width": 375, "height": 800}
    ).new_page()
    moderator_problems = watch_console(moderator)
    moderator.goto(f"{live_server.url}/login?next=/moderation/comments")
    moderator.fill("#email", "moe@example.org")
    moderator.fill("#password", "moe's long password")
    moderator.click("#sign-in")
    moderator.wait_for_selector("h1:has-text('Comment moderation')")
    assert moderator.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    row = moderator.locator("tr", has_text="relancer")
    row.get_by_role("button", name=re.compile("Approve the comment by Léa")).click()
    moderator.wait_for_selector(".flash-success:has-text('Comments changed: 1.')")

    page.reload()
    comment = page.locator(".comment", has_text="relancer")
    assert comment.inner_text().count("<b>relancer</b>") == 1  # shown as typed, not as HTML
    assert "lea@example.org" not in page.content()
    assert problems == [] and moderator_problems == []
    context.close()


PAGES = [
    "/take-action",
    "/get-involved",
    "/volunteer",
    "/pages/{roadmap}",
    "/take-action/{open}",
    "/take-action/{mali}",
]


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_pages_fit_the_screen_without_console_errors(
    app, live_server, browser, content, width, language
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    problems = watch_console(page)
    folder = os.environ.get("SCREENSHOT_DIR")
    for path in PAGES:
        url = live_server.url + path.format(**content) + f"?lang={language}"
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == language
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, width, overflow)
        if folder:
            name = path.format(**content).strip("/").replace("/", "_") or "home"
            page.screenshot(
                path=str(Path(folder) / f"{name}-{language}-{width}.png"), full_page=True
            )
    assert problems == []
    context.close()


def test_an_admin_adds_a_link_to_a_page_in_the_browser(
    app, live_server, browser, content, make_user
):
    """The staff screens for pages work under our CSP, with no console error."""
    make_user(email="ada@example.org", password="ada's long password", role="admin")
    page = browser.new_context().new_page()
    problems = watch_console(page)
    page.goto(f"{live_server.url}/login")
    page.fill("#email", "ada@example.org")
    page.fill("#password", "ada's long password")
    page.click("#sign-in")
    page.wait_for_selector("h1")
    page.goto(f"{live_server.url}/admin/contentpage/edit/?id=1")
    page.fill("#title_en", "France-Canada Peacekeeping Roadmap (2016)")
    page.click("input[type=submit]")
    page.wait_for_selector(".flash-success")
    page.goto(f"{live_server.url}/admin/pagelink/new/")
    page.select_option("#page", label="France-Canada Peacekeeping Roadmap (2016)", force=True)
    page.fill("#position", "4")
    page.fill("#label_en", "Our volunteers")
    page.fill("#label_fr", "Nos bénévoles")
    page.fill("#href", "/volunteer")
    page.click("input[type=submit]")
    page.wait_for_selector(".flash-success")
    page.goto(f"{live_server.url}/pages/{content['roadmap']}?lang=fr")
    assert page.locator(".links-list a[href='/volunteer']").inner_text() == "Nos bénévoles"
    assert problems == []
