"""Spreadsheet formulas typed into forms come out of every CSV export inert; ``next=`` never
leads off the site."""

import ast
import csv
import io
import re
from urllib.parse import quote, urlsplit

import pytest
import sqlalchemy as sa

from core.db import db
from tests.helpers import ROOT, complete_second_factor, post_form
from tests.involve_fixtures import sign

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+(\.\d+)?")

#: What someone types, one per way a spreadsheet starts a formula.
PAYLOADS = {
    "equals": '=HYPERLINK("http://evil.example","x")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


def cells(response):
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def assert_inert(where, found):
    for cell in found:
        if NUMBER.fullmatch(cell):
            continue  # an amount the app wrote itself
        assert not cell.startswith(FORMULA_STARTS), (where, cell)


def test_every_csv_the_app_sends_goes_through_the_neutralising_writer():
    """A new export written with ``csv.writer`` or ``text/csv`` by hand would skip it."""
    skip = {".venv", "tests", "bench", "migrations", "node_modules", ".git"}
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in skip or relative.as_posix() == "core/csv.py":
            continue
        source = path.read_text()
        if "text/csv" in source:
            offenders.append((relative.as_posix(), "text/csv"))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Attribute) and node.attr in {"writer", "DictWriter"}:
                if isinstance(node.value, ast.Name) and node.value.id == "csv":
                    offenders.append((relative.as_posix(), f"csv.{node.attr}"))
    assert offenders == []


@pytest.mark.parametrize("value", [*PAYLOADS.values(), "=1", "+", "-x", "@x", "\tx", "\rx"])
def test_the_writer_quotes_every_formula_start(app, value):
    from core.csv import stream_csv

    with app.test_request_context():
        response = stream_csv(["name"], [[value], [f"{value}"]], "x.csv")
        text = "".join(response.response).lstrip("\ufeff")
    found = list(csv.reader(io.StringIO(text, newline="")))
    assert found[1] == [f"'{value}"]
    assert found[2] == [f"'{value}"]


def test_formulas_typed_into_forms_are_inert_in_every_export(
    app, client, give, join, make_campaign, charity, stripe_sim, signed_in
):
    from core import clock
    from involve.models import Signature, SignatureStatus

    # A gift, a membership, a signature and a volunteer, all named with formulas.
    response, session = give(
        donor_name=PAYLOADS["equals"],
        address_line1=PAYLOADS["plus"],
        city=PAYLOADS["at"],
        email="=1+1@example.org",
    )
    assert session, response.get_data(as_text=True)
    stripe_sim.pay(session)
    response, dues = join(
        "individual",
        name=PAYLOADS["minus"],
        mailing_name=PAYLOADS["plus"],
        address_line1=PAYLOADS["at"],
        email="+member@example.org",
    )
    assert dues, re.findall(r'class="error[^>]*>([^<]*)', response.get_data(as_text=True))
    stripe_sim.pay(dues)
    campaign_id = make_campaign()
    signed = sign(
        client,
        "test-campaign",
        name=PAYLOADS["minus"],
        email="-signer@example.org",
        personal_message=PAYLOADS["cr"],
        news_consent="y",
    )
    assert signed.status_code in {200, 302, 303}, signed.get_data(as_text=True)
    with app.app_context():
        for signature in db.session.scalars(sa.select(Signature)):
            signature.status = SignatureStatus.confirmed
            signature.confirmed_at = clock.now()
        db.session.commit()
    volunteered = post_form(
        client,
        "/volunteer",
        {
            "name": PAYLOADS["at"],
            "email": "vol@example.org",
            "phone": "+1 613 555 0199",
            "message": PAYLOADS["tab"],
            "languages": ["en"],
            "interests": ["events"],
            "availability": ["evenings"],
            "news_consent": "y",
        },
    )
    assert volunteered.status_code in {200, 302, 303}, re.findall(
        r'class="error[^>]*>([^<]*)', volunteered.get_data(as_text=True)
    )
    staff = signed_in("admin", email="admin-csv@example.org")
    with app.app_context():
        today = clock.today()
    year = today.year
    start, end = today.replace(day=1).isoformat(), today.isoformat()
    exports = [
        "/treasurer/donations.csv",
        f"/treasurer/reports/receipts.csv?year={year}",
        f"/treasurer/reports/gst-hst.csv?date_from={start}&date_to={end}",
        f"/treasurer/journal.csv?date_from={start}&date_to={end}",
        f"/treasurer/lines.csv?date_from={start}&date_to={end}",
        "/treasurer/members.csv",
        f"/treasurer/members/good-standing?format=csv&record_date={end}",
        f"/admin/take-action/{campaign_id}/signatures.csv",
        "/admin/volunteers.csv",
        "/admin/news-consent.csv",
        *(
            f"/treasurer/people/record/export.csv?email={quote(address)}"
            for address in ("=1+1@example.org", "+member@example.org", "-signer@example.org")
        ),
    ]
    seen = set()
    for path in exports:
        found = cells(staff.get(path))
        assert_inert(path, found)
        seen.update(cell for cell in found if cell.startswith("'"))
    # The formulas did reach the exports, neutralised (a leading tab or return is trimmed
    # from the text as it is stored, leaving a formula that is quoted all the same).
    for value in PAYLOADS.values():
        assert {f"'{value}", f"'{value.strip()}"} & seen, value


# --- open redirects -------------------------------------------------------------------------

HOSTILE_NEXT = [
    "https://evil.example",
    "http://evil.example/account",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example",
    "%252F%252Fevil.example",
    " //evil.example",
    "https:evil.example",
    "/.//evil.example",
]


def assert_on_site(location):
    parts = urlsplit(location)
    assert parts.scheme in {"", "http"}, location
    assert parts.netloc in {"", "localhost"}, location
    assert location.startswith("/") or parts.netloc == "localhost", location
    assert not location.startswith("//") and "\\" not in location, location
    assert "evil.example" not in parts.netloc, location


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_sign_in_never_leads_off_the_site(client, make_user, target):
    _, email, password = make_user(email="next@example.org")
    response = post_form(
        client,
        f"/login?next={quote(target, safe='%')}",
        {"email": email, "password": password},
        token_from="/login",
    )
    assert response.status_code == 302
    assert_on_site(response.location)


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_staff_sign_in_with_the_second_factor_never_leads_off_the_site(client, make_user, target):
    _, email, password = make_user(email="staff-next@example.org", role="treasurer")
    response = post_form(
        client,
        f"/login?next={quote(target, safe='%')}",
        {"email": email, "password": password},
        token_from="/login",
    )
    response = complete_second_factor(client, response, email)
    assert response.status_code == 302
    assert_on_site(response.location)


def test_a_path_on_the_site_is_still_followed(client, make_user):
    _, email, password = make_user(email="next@example.org")
    response = post_form(
        client,
        "/login?next=/account/settings",
        {"email": email, "password": password},
        token_from="/login",
    )
    assert response.location.endswith("/account/settings")


def test_every_view_that_reads_next_checks_it():
    """Only the sign-in reads ``next``; a new reader must use ``is_safe_redirect`` too."""
    readers = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "tests", "bench", "migrations"}:
            continue
        source = path.read_text()
        if re.search(r"""\.get\(\s*["'](next|return_to|redirect|back)["']""", source):
            readers.append(relative.as_posix())
            assert "is_safe_redirect" in source, relative
    assert readers, "the sign-in reads next="
