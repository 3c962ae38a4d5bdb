import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT, post_form


def test_csrf_token_missing_is_400(client):
    response = client.post("/login", data={"email": "a@example.org", "password": "x" * 12})
    assert response.status_code == 400
    assert "form" in response.get_data(as_text=True).lower()


def test_csrf_token_from_another_session_is_400(app, client):
    other = app.test_client()
    from tests.helpers import csrf_token

    token = csrf_token(other)
    client.get("/login")
    response = client.post(
        "/login", data={"email": "a@example.org", "password": "x" * 12, "csrf_token": token}
    )
    assert response.status_code == 400


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers  # only in production


def test_pages_have_no_inline_script_or_style(client):
    for path in ("/", "/login", "/register", "/get-involved"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "<script " not in html
        assert " style=" not in html and "<style" not in html


def test_cookie_flags_in_development(client):
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


PRODUCTION_PROBE = """
import json
from core import create_app
app = create_app(environ={
    "APP_ENV": "production", "SECRET_KEY": "kQ2v8Zr0pXw3Lm5Ny7Tb1Hc4Jd6Fg9Se",
    "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
    "REDIS_URL": "redis://127.0.0.1:1/0", "BASE_URL": "https://give.example.org",
    "STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
})
response = app.test_client().get("/login", base_url="https://give.example.org")
print(json.dumps({"cookies": response.headers.getlist("Set-Cookie"),
                  "hsts": response.headers.get("Strict-Transport-Security")}))
"""


def test_cookie_flags_and_hsts_in_production():
    """Run in its own process: a production app must not share this process's extensions."""
    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    [session_cookie] = [c for c in seen["cookies"] if c.startswith("session=")]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in session_cookie
    assert seen["hsts"].startswith("max-age=")


def test_oversized_body_is_413(client):
    response = client.post(
        "/login",
        data=b"email=" + b"a" * (2 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "body",
    [
        b"email=%FF%FEabc&password=xxxxxxxxxxxx",
        b"email=a%00b%40example.org&password=xxxxxxxxxxxx",
        b"email=\xff\xfe&password=xxxxxxxxxxxx",
        b"name%C3=x",
    ],
)
def test_invalid_utf8_or_nul_in_form_is_400(client, body):
    response = client.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not valid text" in response.get_data(as_text=True)


def test_invalid_utf8_in_query_is_400(client):
    assert client.get("/?q=%FF").status_code == 400
    assert client.get("/?q=%00").status_code == 400


def test_nul_in_multipart_is_400(client):
    response = client.post(
        "/login",
        data={"email": "a\x00b@example.org", "password": "x" * 12},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400


def test_nul_in_json_is_400(client):
    response = client.post("/login", data='{"email": "a\\u0000b"}', content_type="application/json")
    assert response.status_code == 400


def test_unknown_page_is_a_404_page_in_the_visitors_language(client):
    english = client.get("/no-such-page")
    assert english.status_code == 404
    assert "Page not found" in english.get_data(as_text=True)
    french = client.get("/no-such-page?lang=fr")
    assert french.status_code == 404
    assert "Page introuvable" in french.get_data(as_text=True)


def test_wrong_method_is_405(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "Allow" in response.headers


def test_api_errors_are_json(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"code": "not_found", "message": "We could not find that page."}
    }


class TestSessions:
    def test_a_cookie_from_before_sign_in_is_not_signed_in(self, app, client, make_user):
        _, email, password = make_user()
        client.get("/login")
        before = client.get_cookie("session").value
        post_form(client, "/login", {"email": email, "password": password})
        after = client.get_cookie("session").value
        assert before != after
        attacker = app.test_client()
        attacker.set_cookie("session", before)
        assert attacker.get("/account").status_code == 302

    def test_a_signed_out_cookie_cannot_be_replayed(self, app, client, make_user):
        _, email, password = make_user()
        post_form(client, "/login", {"email": email, "password": password, "remember": "y"})
        copied = client.get_cookie("session").value
        remembered = client.get_cookie("remember_token").value
        thief = app.test_client()
        thief.set_cookie("session", copied)
        assert thief.get("/account").status_code == 200  # a stolen live cookie works...
        post_form(client, "/logout", {}, token_from="/account")
        replay = app.test_client()
        replay.set_cookie("session", copied)
        assert replay.get("/account").status_code == 302  # ...until its owner signs out
        remember_replay = app.test_client()
        remember_replay.set_cookie("remember_token", remembered)
        assert remember_replay.get("/account").status_code == 302
