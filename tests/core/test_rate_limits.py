"""Failed sign-ins are counted per account and per address, in storage shared by every worker."""

import os
import subprocess
import sys

import pytest
import requests

from tests.helpers import REDIS_URL, ROOT, free_port, post_form, require, sign_in

SERVER = """
import os, sys
from werkzeug.serving import make_server
from core import create_app
app = create_app(config={"BASE_URL": sys.argv[2]}, environ={**os.environ, "APP_ENV": "testing"})
server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
print("ready", flush=True)
server.serve_forever()
"""


def fail_sign_in(client, email):
    return post_form(client, "/login", {"email": email, "password": "not the password"})


def test_sign_in_is_refused_after_repeated_failures(app, client, make_user):
    _, email, password = make_user(email="target@example.org")
    for _ in range(5):
        assert fail_sign_in(client, email).status_code == 400
    refused = post_form(client, "/login", {"email": email, "password": password})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many attempts" in refused.get_data(as_text=True)


def test_the_account_limit_holds_from_other_addresses(app, make_user):
    _, email, _ = make_user(email="target@example.org")
    for n in range(5):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"203.0.113.{n}"
        fail_sign_in(client, email)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert fail_sign_in(other, email).status_code == 429


def test_successful_sign_ins_do_not_count(app, client, make_user):
    _, email, password = make_user(email="often@example.org")
    for _ in range(8):
        assert sign_in(client, email, password).status_code == 302
        post_form(client, "/logout", {}, token_from="/account")


def test_password_reset_is_limited(client, make_user):
    _, email, _ = make_user(email="reset@example.org")
    statuses = [
        post_form(client, "/reset-password", {"email": email}).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


@pytest.fixture
def second_instance(app):
    """Another process serving the app against the same database and Redis, like a 2nd worker."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port), url],
        cwd=ROOT,
        env={**os.environ, "APP_ENV": "testing"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.strip() == "ready", process.stderr.read()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.redis
def test_limit_is_shared_across_two_app_instances_through_redis(
    app, client, make_user, second_instance
):
    require(REDIS_URL and REDIS_URL.startswith("redis://"), "Redis (REDIS_URL)")
    assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    _, email, password = make_user(email="shared@example.org")

    other = requests.Session()
    import re

    def fail_on_other():
        page = other.get(f"{second_instance}/login").text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        return other.post(
            f"{second_instance}/login",
            data={"email": email, "password": "wrong password", "csrf_token": token},
            allow_redirects=False,
        )

    for _ in range(3):
        assert fail_sign_in(client, email).status_code == 400
    for _ in range(2):
        assert fail_on_other().status_code == 400
    # Five failures in all, spread over two processes: both now refuse, even the right password.
    assert fail_on_other().status_code == 429
    assert post_form(client, "/login", {"email": email, "password": password}).status_code == 429


def test_an_email_counted_in_a_transaction_that_rolls_back_is_given_back(app, make_user):
    """The link is queued in the outbox in the same transaction: rolled back, it never goes,
    so the person's next try may have it; committed, the limit holds."""
    from core import throttle
    from core.db import db

    user_id, email, _ = make_user(email="retry@example.org")
    with app.app_context():
        assert throttle.email_wait("verify", user_id, email) == 0
        db.session.rollback()  # the request failed after counting its link
        assert throttle.email_wait("verify", user_id, email) == 0
        db.session.commit()  # this one went out
        assert throttle.email_wait("verify", user_id, email) > 0
        db.session.rollback()  # a refusal counted nothing, so there is nothing to give back
        assert throttle.email_wait("verify", user_id, email) > 0
        db.session.remove()  # nor does the end of the request
        assert throttle.email_wait("verify", user_id, email) > 0


def test_a_count_made_in_memory_while_redis_is_down_is_given_back_there(
    app, make_user, monkeypatch
):
    from core import throttle
    from core.db import db
    from core.extensions import limiter

    user_id, email, _ = make_user(email="down@example.org")

    def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is down")

    for name in ("get", "incr"):
        monkeypatch.setattr(limiter.limiter.storage, name, unreachable)
    with app.app_context():
        assert throttle.email_wait("verify", user_id, email) == 0
        db.session.rollback()
        assert throttle.email_wait("verify", user_id, email) == 0
        db.session.commit()
        assert throttle.email_wait("verify", user_id, email) > 0
