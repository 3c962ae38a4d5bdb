"""In Chromium: every page, as the person who opens it, in English and French, at 1280 and
375 px wide: no console error, no CSP violation, nothing wider than the window, and no
serious or critical axe-core violation.

CSP violations are watched in an ordinary context; axe-core is injected only in a second
context that bypasses the CSP (the app never serves it). One browser, two contexts per
person, every page in both languages.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tests.e2e.pages import KNOWN, MAKERS, NOT_PAGES, PAGES, PASSWORD, PEOPLE
from tests.helpers import browser_sign_in

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WIDTHS = (1280, 375)
LANGUAGES = ("en", "fr")
SERIOUS = {"serious", "critical"}

# Added before any script of the page: CSP violations are events, not only console lines.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI || "inline"} (${where})`);
});
"""

RUN_AXE = """
async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
  }));
}
"""

WIDER = "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"


def endpoint_of(app, path):
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(urlsplit(re.sub(r"\{\w+\}", "1", path)).path, method="GET")
    except (NotFound, MethodNotAllowed):
        return None
    return endpoint


def test_every_html_route_is_walked(app):
    """A new page must join the walk (or say in NOT_PAGES why it is not a page)."""
    walked = {endpoint_of(app, page.path) for page in PAGES} - {None}
    routes = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.endpoint.endswith("static")
    }
    assert sorted(routes - walked - set(NOT_PAGES)) == []
    assert sorted(set(NOT_PAGES) - routes) == []  # no stale excuses
    assert sorted(walked & set(NOT_PAGES)) == []


class Walk:
    """One person's pages, in an ordinary context and in one that lets axe-core in.

    Each page is loaded once per language in each context and checked at both widths,
    the window resized in between (media queries apply again, as for a page loaded at
    that width); a problem is written down with where it happened.
    """

    def __init__(self, browser, base_url, problems, known):
        self.base_url = base_url
        self.problems = problems
        self.known = known
        viewport = {"width": WIDTHS[0], "height": 900}
        self.context = browser.new_context(viewport=viewport, locale="en-CA")
        self.context.add_init_script(WATCH_CSP)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.console = []
        self.page.on("console", lambda m: m.type == "error" and self.console.append(m.text))
        self.page.on("pageerror", lambda error: self.console.append(f"uncaught: {error}"))
        self._browser = browser
        self._viewport = viewport
        self.axe_page = None

    def sign_in(self, email):
        browser_sign_in(self.page, self.base_url, email, PASSWORD)
        self.page.wait_for_url(f"{self.base_url}/account")

    def open_axe_context(self):
        context = self._browser.new_context(
            viewport=self._viewport,
            locale="en-CA",
            bypass_csp=True,
            storage_state=self.context.storage_state(),
        )
        context.add_init_script(path=str(AXE))
        self.axe_page = context.new_page()
        self.axe_page.set_default_timeout(15_000)

    def problem(self, page, kind, where, text):
        if (page.path, kind) in self.known:
            self.known[(page.path, kind)] = True  # seen: still a defect
            return
        self.problems.append(f"{page.who} {where}: {text}")

    def widths(self, tab):
        """The widths to check at, resizing ``tab`` to each in turn."""
        current = tab.viewport_size["width"]
        for width in sorted(WIDTHS, key=lambda w: w != current):
            if width != current:
                tab.set_viewport_size({"width": width, "height": 900})
            yield width

    def check(self, page, url):
        self.console.clear()
        response = self.page.goto(self.base_url + url, wait_until="load")
        if response.status != page.status:
            self.problem(page, "status", url, f"answered {response.status}, not {page.status}")
        lang = url.rsplit("lang=", 1)[1]
        if self.page.get_attribute("html", "lang") != lang:
            self.problem(page, "lang", url, f"<html lang> is not {lang}")
        for width in self.widths(self.page):
            wide = self.page.evaluate(WIDER)
            if wide > width:
                self.problem(page, "wider", url, f"{wide}px wide in a {width}px window")
        for text in self.console:
            # Chromium logs the page's own 4xx status; an error page is meant to have one.
            if page.status >= 400 and f"status of {page.status}" in text:
                continue
            self.problem(page, "console", url, f"console: {text}")
        for violation in self.page.evaluate("window.__csp || []"):
            self.problem(page, "csp", url, f"CSP violation: {violation}")

        self.axe_page.goto(self.base_url + url, wait_until="load")
        for width in self.widths(self.axe_page):
            for v in self.axe_page.evaluate(RUN_AXE):
                if v["impact"] in SERIOUS:
                    where = f"{url} at {width}px"
                    self.problem(page, "axe", where, f"axe {v['impact']} {v['id']}: {v['nodes']}")

    def close(self):
        self.context.close()
        if self.axe_page:
            self.axe_page.context.close()


@pytest.mark.browser
def test_every_page_in_both_languages_at_both_widths(
    app, live_server, browser, stripe_sim, give, make_user
):
    for role in filter(None, PEOPLE.values()):
        make_user(email=f"{role}@example.org", password=PASSWORD, role=role, name=role.title())
    values = {}
    for maker in MAKERS:
        values.update(maker(app, give, stripe_sim))

    problems = []
    known = dict.fromkeys(KNOWN, False)
    for who, role in PEOPLE.items():
        walk = Walk(browser, live_server.url, problems, known)
        try:
            if role:
                walk.sign_in(f"{role}@example.org")
            walk.open_axe_context()
            for page in (page for page in PAGES if page.who == who):
                path = page.path.format(**values)
                for language in LANGUAGES:
                    walk.check(page, f"{path}{'&' if '?' in path else '?'}lang={language}")
        finally:
            walk.close()
    fixed = [
        f"{path} ({kind}) passes now: take it out of KNOWN"
        for (path, kind), seen in known.items()
        if not seen
    ]
    assert problems + fixed == [], "\n".join(problems + fixed)
