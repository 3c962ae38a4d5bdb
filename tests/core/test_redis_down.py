"""With Redis down, rate-limited pages keep working on per-process limits; /readyz says so."""

import os
import re
import subprocess
import sys

import pytest
import requests

from tests.helpers import ROOT, free_port

SERVER = """
import os, sys
from werkzeug.serving import make_server
from core import create_app
app = create_app(config={"BASE_URL": sys.argv[2]}, environ={**os.environ, "APP_ENV": "testing"})
server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
print("ready", flush=True)
server.serve_forever()
"""


@pytest.fixture
def app_without_redis(app, tmp_path):
    """The app in its own process, its REDIS_URL pointing where nothing listens."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    environ = {
        **os.environ,
        "APP_ENV": "testing",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(port), url],
            cwd=ROOT,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        line = process.stdout.readline()
        assert line.strip() == "ready", log.read_text()
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=10)


def form_token(http, url):
    page = http.get(url, timeout=10)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)


def test_limited_pages_work_without_redis_on_per_process_limits(app, make_user, app_without_redis):
    base, log = app_without_redis
    _, email, password = make_user(email="member@example.org")
    http = requests.Session()

    ready = http.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {"status": "degraded", "database": "ok", "redis": "degraded"}

    # Sign-in: failures are counted in this process, and the limit still holds.
    token = form_token(http, f"{base}/login")
    statuses = [
        http.post(
            f"{base}/login",
            data={"email": email, "password": "not the password", "csrf_token": token},
            timeout=10,
        ).status_code
        for _ in range(6)
    ]
    assert statuses == [400] * 5 + [429]

    other = requests.Session()
    token = form_token(other, f"{base}/login")
    signed_in = other.post(
        f"{base}/login",
        data={"email": "member@example.org", "password": "nope", "csrf_token": token},
        timeout=10,
    )
    assert signed_in.status_code == 429  # the same account, from the same process

    token = form_token(http, f"{base}/reset-password")
    reset = http.post(
        f"{base}/reset-password", data={"email": email, "csrf_token": token}, timeout=10
    )
    assert reset.status_code == 200

    token = form_token(http, f"{base}/register")
    register = http.post(
        f"{base}/register",
        data={
            "name": "New Person",
            "email": "new@example.org",
            "password": "long enough password",
            "confirm": "long enough password",
            "language": "en",
            "csrf_token": token,
        },
        timeout=10,
    )
    assert register.status_code == 200 and "Check your email" in register.text

    # Pages with Flask-Limiter's own decorators.
    token = form_token(http, f"{base}/donate")
    donate = http.post(f"{base}/donate", data={"csrf_token": token}, timeout=10)
    assert donate.status_code == 400  # the form's own errors, past the limiter
    assert http.post(f"{base}/api/v1/donations", json={}, timeout=10).status_code == 422
    assert http.get(f"{base}/payments/return?session_id=x", timeout=10).status_code == 404
    assert http.get(f"{base}/donate/thanks?session_id=x", timeout=10).status_code == 404

    logged = log.read_text()
    assert "Rate-limit storage unreachable" in logged
    assert "Redis (rate-limit storage) is unreachable" in logged
    assert "Traceback" not in logged


def test_readyz_reports_redis_when_it_answers(client, app):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    expected = "not used" if app.config["REDIS_URL"].startswith("memory://") else "ok"
    assert ready.get_json() == {"status": "ok", "database": "ok", "redis": expected}
