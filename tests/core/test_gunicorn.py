"""gunicorn's settings: a slow Stripe must give up before gunicorn kills the worker."""

import runpy

import pytest

from config import load_config
from payments.gateway import Gateway, call_limits, longest_call_seconds
from tests.helpers import ROOT

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "kQ2v8Zr0pXw3Lm5Ny7Tb1Hc4Jd6Fg9Se-gunicorn",
    "DATABASE_URL": "postgresql://db.example.org/mondial",
    "REDIS_URL": "redis://redis.example.org:6379/0",
    "BASE_URL": "https://mondial.example.org",
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
}


def gunicorn_settings(monkeypatch, **environ):
    for name in ("WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "GUNICORN_GRACEFUL_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


@pytest.mark.parametrize(
    ("environ", "overrides"),
    [
        ({}, {}),
        ({"GUNICORN_TIMEOUT": "45"}, {}),
        ({}, {"STRIPE_TIMEOUT": 80, "STRIPE_MAX_NETWORK_RETRIES": 5}),
    ],
)
def test_the_longest_call_to_stripe_ends_before_gunicorn_kills_the_worker(
    monkeypatch, environ, overrides
):
    settings = gunicorn_settings(monkeypatch, **environ)
    config = load_config(PRODUCTION, overrides)
    longest = longest_call_seconds(config)
    # Every try timed out, every back-off slept: still inside the worker's time, with room
    # left to render the "try again" page and commit the attempt.
    assert longest <= config["STRIPE_CALL_TIMEOUT"] + 1e-9 < settings["timeout"]
    assert longest + 5 < settings["timeout"]
    assert Gateway(config).limits == call_limits(config)


def test_three_tries_of_twenty_seconds_no_longer_add_up_to_a_minute():
    config = load_config(PRODUCTION)
    connect, read = call_limits(config)
    assert config["STRIPE_MAX_NETWORK_RETRIES"] == 2
    assert connect + read < config["STRIPE_TIMEOUT"]
    assert 3 * (connect + read) < config["STRIPE_CALL_TIMEOUT"]


def test_a_budget_with_no_room_for_a_request_is_refused():
    config = load_config(PRODUCTION, {"STRIPE_CALL_TIMEOUT": 1})
    with pytest.raises(ValueError, match="no time"):
        call_limits(config)


def test_gunicorn_settings_follow_the_machine_and_log_the_request_id(monkeypatch):
    import multiprocessing

    settings = gunicorn_settings(monkeypatch)
    assert settings["workers"] == multiprocessing.cpu_count() * 2 + 1
    assert settings["worker_class"] == "sync"
    assert 0 < settings["graceful_timeout"] <= settings["timeout"]
    assert "{x-request-id}o" in settings["access_log_format"]
    assert gunicorn_settings(monkeypatch, WEB_CONCURRENCY="3")["workers"] == 3


def test_every_answer_carries_a_request_id(client):
    first = client.get("/healthz").headers["X-Request-Id"]
    second = client.get("/healthz").headers["X-Request-Id"]
    assert len(first) >= 16 and first != second
    given = client.get("/healthz", headers={"X-Request-Id": "proxy-id-1234"})
    assert given.headers["X-Request-Id"] == "proxy-id-1234"
    for forged in ("bad id <script>", "x" * 200, "short"):
        answer = client.get("/healthz", headers={"X-Request-Id": forged})
        assert answer.headers["X-Request-Id"] != forged
