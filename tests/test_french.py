"""French everywhere: the catalog is complete, and no public page shows its English.

The first test extracts every message from the code and the templates, as
``make extract`` does, and fails if the French catalog lacks one, leaves one
untranslated or fuzzy, or breaks a placeholder. The second renders every public page
(and the forms with their errors) in French and fails if a message from the catalog
shows in English.
"""

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.db import db
from tests.helpers import ROOT, post_form, sign_in

CATALOG = ROOT / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
}
METHODS = [
    ("**/.venv/**", "ignore"),
    ("**/tests/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
    ("**/templates/**.txt", "jinja2"),
]

#: Words spelled the same in both languages, reviewed one by one: seeing them on a French
#: page is no sign of a missing translation.
SAME_IN_BOTH = {
    "Actions",
    "Dates",
    "Description",
    "Mondial",
    "Message",
    "Province",
    "Signatures",
    "Total",
    "Transactions",
}

#: Language names written in their own language, as a language picker shows them.
AUTONYMS = {"English"}


def french_catalog():
    with CATALOG.open("rb") as handle:
        return read_po(handle, locale="fr")


def code_messages():
    """Every message id the code and templates use, as ``make extract`` finds them."""
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, comment_tags=()
    ):
        ids = message if isinstance(message, tuple) else (message,)
        if not ids[0]:
            continue
        found.setdefault(ids[0], (ids, filename))
    return found


def test_the_french_catalog_has_every_message_translated():
    catalog = french_catalog()
    problems = []
    for msgid, (_ids, filename) in sorted(code_messages().items()):
        entry = catalog.get(msgid)
        if entry is None:
            problems.append(f"missing ({filename}): {msgid!r}")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(strings):
            problems.append(f"untranslated: {msgid!r}")
        if entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
    for message, errors in catalog.check():  # placeholders that do not match, and the like
        problems.extend(f"{message.id!r}: {error}" for error in errors)
    assert not problems, "\n".join(problems)


def test_the_catalog_has_no_fuzzy_or_empty_entry():
    empty = [
        m.id
        for m in french_catalog()
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))
    ]
    assert empty == []


# -- pages ---------------------------------------------------------------------------------


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _Text(HTMLParser):
    """The words a person reads or hears on a page: text, and labels in attributes.

    Text marked as another language than the page's (``lang="en"`` on a French page, as
    the "English" language switch is) is left out: it is meant to be read in that language.
    """

    ATTRIBUTES = {"title", "alt", "placeholder", "aria-label"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self._stack = []  # (tag, skipped) for each open element
        self._page_language = None

    @property
    def _skipping(self):
        return any(skipped for _, skipped in self._stack)

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        lang = values.get("lang")
        if tag == "html":
            self._page_language = lang
        skipped = tag in ("script", "style") or (
            tag != "html" and lang is not None and lang != self._page_language
        )
        if tag not in VOID:
            self._stack.append((tag, skipped))
        if skipped or self._skipping:
            return
        for name, value in attrs:
            if name in self.ATTRIBUTES and value:
                self.parts.append(value)
        if tag == "input" and values.get("type") == "submit" and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                break

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def readable_text(html):
    parser = _Text()
    parser.feed(html)
    return "\n".join(" ".join(part.split()) for part in parser.parts if part.strip())


PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%%")


def english_patterns():
    """For each translated message, a pattern that finds its English on a page."""
    patterns = []
    for message in french_catalog():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if msgid in strings or msgid in SAME_IN_BOTH or msgid in AUTONYMS:
                continue
            # Between placeholders, the words that should have been translated; short
            # pieces ("signature", "Page") may be French too and prove nothing.
            pieces = [p.strip(" :.,;") for p in PLACEHOLDER.split(msgid)]
            pieces = [
                p
                for p in pieces
                if p and p not in SAME_IN_BOTH and not any(p in s for s in strings)
            ]
            if PLACEHOLDER.search(msgid):
                pieces = [p for p in pieces if len(p.split()) >= 3]
            for piece in pieces:
                pattern = r"(?<![\w-])" + re.escape(" ".join(piece.split())) + r"(?![\w-])"
                patterns.append((msgid, re.compile(pattern)))
    return patterns


def english_on(text, patterns):
    return sorted({msgid for msgid, pattern in patterns if pattern.search(text)})


@pytest.fixture
def french_site(app, content, funds, tiers, make_user, deliver, mailbox):
    """Everything the public pages show, with one of each thing in it."""
    from core.mail.services import preferences_token
    from involve import services
    from involve.models import Campaign, Comment, CommentStatus, ContentPage

    with app.app_context():
        campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == content["open"]))
        signature = services.sign_campaign(
            campaign,
            services.SignRequest(
                name="Léa", email="lea@example.org", postal_code="H2X 1Y4", language="fr"
            ),
        )
        confirm_token = services.confirm_token(signature)
        page = db.session.scalar(sa.select(ContentPage))
        db.session.add(
            Comment(
                page_id=page.id,
                name="Marc",
                email="marc@example.org",
                body="Bravo.",
                status=CommentStatus.approved,
            )
        )
        db.session.commit()
        token = preferences_token("lea@example.org")
    make_user(email="mia@example.org", password="mia's long password", name="Mia")
    return {
        "confirm": f"/take-action/{content['open']}/confirm/{confirm_token}",
        "preferences": f"/email-preferences/{token}",
        "unsubscribe": f"/unsubscribe/{token}",
    }


#: Public GET routes and the concrete addresses that show them; each rule must be here or
#: in NOT_PAGES, so a new page cannot slip past this test.
def public_pages(site, content):
    return {
        "/": ["/"],
        "/get-involved": ["/get-involved"],
        "/take-action": ["/take-action"],
        "/take-action/<slug>": [
            f"/take-action/{content['open']}",
            f"/take-action/{content['mali']}",
        ],
        "/take-action/<slug>/confirm/<token>": [site["confirm"]],
        "/pages/<slug>": [f"/pages/{content['roadmap']}"],
        "/volunteer": ["/volunteer"],
        "/volunteer/thanks": ["/volunteer/thanks"],
        "/donate": ["/donate"],
        "/donate/thanks": ["/donate/thanks?session_id=unknown"],  # its 404 page
        "/donate/manage/<token>": ["/donate/manage/not-a-token"],  # its invalid-link page
        "/donate/back/<token>": ["/donate/back/not-a-token"],  # its invalid-link page
        "/funds": ["/funds"],
        "/funds/<slug>": ["/funds/mondial"],
        "/login": ["/login"],
        "/register": ["/register"],
        "/reset-password": ["/reset-password"],
        "/reset-password/<token>": ["/reset-password/not-a-token"],
        "/verify-email/<token>": ["/verify-email/not-a-token"],
        "/account/confirm-email/<token>": ["/account/confirm-email/not-a-token"],
        "/email-preferences/<token>": [site["preferences"]],
        "/unsubscribe/<token>": [site["unsubscribe"]],
        "/account": ["/account"],  # signed in as a member
        "/account/settings": ["/account/settings"],
        "/account/gifts": ["/account/gifts"],
        "/account/membership": ["/account/membership"],
        "/account/membership/dues/<int:dues_id>": ["/account/membership/dues/1"],  # its 404
        "/account/set-password/<token>": ["/account/set-password/not-a-token"],
        "/donate/manage/<token>/back": ["/donate/manage/not-a-token/back"],
        "/join": ["/join"],
        "/join/<slug>": ["/join/individual", "/join/family"],
        "/join/household/<token>": ["/join/household/not-a-token"],
        "/join/welcome": ["/join/welcome"],
        "/shop": ["/shop"],
        "/shop/<slug>": ["/shop/issue-42", "/shop/issue-41"],
        "/cart": ["/cart"],
        "/cart/extras": ["/cart/extras"],
        "/checkout": ["/checkout"],
        "/account/orders": ["/account/orders"],
        "/orders/<token>": ["/orders/" + "x" * 43],  # its 404 page
    }


NOT_PAGES = {
    "/favicon.ico": "a redirect to the icon",
    "/healthz": "JSON for the load balancer",
    "/readyz": "JSON for the load balancer",
    "/receipts/<token>.pdf": "a PDF, drawn in the donor's language by its own tests",
    "/payments/return": "a redirect back from Stripe",
    "/donate/charge": "JSON for the donate form's script (its text is in French: test_donate_form)",
    "/login/two-factor": "a staff sign-in's second step, read in French by its own test",
    "/login/two-factor/setup": "a staff sign-in's second step, read in French by its own test",
    "/shop/return": "a redirect back from Stripe to the order page",
    "/orders/<token>/invoice.pdf": "a PDF, drawn in the buyer's language",
    "/downloads/<token>": "the PDF of a digital issue",
    "/downloads/issue/<token>": "the PDF of an issue sent to its mailing list",
}
STAFF = ("/admin", "/treasurer", "/moderation", "/api/", "/_sim", "/stripe/")


def test_every_public_page_reads_in_french(app, french_site, content, products):
    pages = public_pages(french_site, content)
    rules = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and not rule.endpoint.endswith("static")
        and not rule.rule.startswith(STAFF)
    }
    unlisted = rules - set(pages) - set(NOT_PAGES)
    assert not unlisted, f"add these pages to the French test: {sorted(unlisted)}"

    patterns = english_patterns()
    client = app.test_client()
    client.set_cookie("lang", "fr")
    assert sign_in(client, "mia@example.org", "mia's long password").status_code == 302
    found = {}
    for urls in pages.values():
        for url in urls:
            response = client.get(url)
            assert response.status_code in (200, 400, 404), (url, response.status_code)
            html = response.get_data(as_text=True)
            assert '<html lang="fr">' in html, url
            english = english_on(readable_text(html), patterns)
            if english:
                found[url] = english
    assert not found, "English on French pages:\n" + "\n".join(
        f"{url}: {messages}" for url, messages in found.items()
    )


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/volunteer", {"email": "x"}),
        ("/take-action/keep-canadas-peacekeeping-promises", {"email": "x", "postal_code": "1"}),
        ("/pages/france-canada-peacekeeping-roadmap/comments", {"comment-email": "x"}),
        ("/donate", {"email": "x", "amount_choice": "other", "other_amount": "-5"}),
        ("/register", {"email": "x"}),
        ("/login", {"email": "x"}),
    ],
)
def test_form_errors_read_in_french(app, content, funds, path, data):
    client = app.test_client()
    client.set_cookie("lang", "fr")
    page = path.removesuffix("/comments")
    response = post_form(client, path, data, token_from=page)
    assert response.status_code in (400, 200), response.status_code
    html = response.get_data(as_text=True)
    assert 'class="error"' in html or "flash-error" in html
    english = english_on(readable_text(html), english_patterns())
    assert not english, english


def test_the_reviewed_words_really_are_the_same_in_french():
    """A word may join SAME_IN_BOTH only if French writes it the same way."""
    catalog = french_catalog()
    for word in SAME_IN_BOTH:
        entry = catalog.get(word)
        if entry is not None:
            assert entry.string in (word, ""), (word, entry.string)


def test_get_involved_emails_read_in_french(app, client, content, make_user, deliver, mailbox):
    """Every email of Get Involved, sent to people who chose French."""
    from urllib.parse import urlsplit

    from involve.delivery import deliver_letters, send_moderation_digest
    from involve.models import Campaign, DeliveryMethod
    from tests.involve_fixtures import confirm_link

    make_user(email="moe@example.org", role="moderator", language="fr")
    client.set_cookie("lang", "fr")
    campaign = f"/take-action/{content['open']}"
    post_form(
        client,
        campaign,
        {"name": "Léa", "email": "lea@example.org", "postal_code": "H2X 1Y4", "news_consent": "y"},
    )
    path = urlsplit(confirm_link(deliver().to("lea@example.org")[0])).path
    post_form(client, path, {}, token_from=campaign)
    post_form(
        client,
        "/volunteer",
        {
            "name": "Nadia",
            "email": "nadia@example.org",
            "languages": ["fr"],
            "interests": ["events"],
            "availability": ["weekends"],
            "news_consent": "y",
        },
    )
    roadmap = f"/pages/{content['roadmap']}"
    post_form(
        client,
        f"{roadmap}/comments",
        {"comment-name": "Marc", "comment-email": "marc@example.org", "comment-body": "Bravo"},
        token_from=roadmap,
    )
    with app.app_context():
        send_moderation_digest()
        from involve import services
        from involve.models import Comment

        services.moderate_comments(
            [db.session.scalar(sa.select(Comment.id))], "approve", moderator_id=None
        )
        db.session.execute(
            sa.update(Campaign)
            .where(Campaign.slug == content["open"])
            .values(delivery=DeliveryMethod.digest, recipient_language="fr")
        )
        deliver_letters()
        db.session.commit()
    from core import clock

    clock.advance(hours=1)
    post_form(
        client, campaign, {"name": "Léa", "email": "lea@example.org", "postal_code": "H2X1Y4"}
    )
    deliver()

    patterns = english_patterns()
    subjects = set()
    for message in mailbox.messages:
        subjects.add(message["Subject"])
        assert message["Content-Language"] == "fr", message["Subject"]
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        for body in (readable_text(html), text):
            english = english_on(body, patterns)
            assert not english, (message["Subject"], english)
    assert subjects >= {
        "Veuillez confirmer votre signature",
        "Merci d’avoir signé",
        "Vous avez déjà signé cette lettre",
        "Merci de votre engagement bénévole",
        "Commentaires en attente de modération : 1",
        "Votre commentaire est publié",
        "Lettres de sympathisants : Tenir les promesses du Canada envers le maintien de la paix",
    }, subjects
