import pytest

from config import SIMULATOR_WEBHOOK_SECRET, ConfigError, load_config
from core import create_app

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "kQ2v8Zr0pXw3Lm5Ny7Tb1Hc4Jd6Fg9Se",
    "DATABASE_URL": "postgresql://app@db.internal/mondial",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "BASE_URL": "https://give.example.org",
    "STRIPE_SECRET_KEY": "sk_live_123",
    "STRIPE_WEBHOOK_SECRET": "whsec_123",
}


def test_complete_production_settings_start():
    settings = load_config(PRODUCTION)
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert settings["STRIPE_WEBHOOK_SECRETS"] == ("whsec_123",)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"DATABASE_URL": None}, "DATABASE_URL"),
        ({"DATABASE_URL": "sqlite:///prod.db"}, "DATABASE_URL"),
        ({"REDIS_URL": None}, "REDIS_URL"),
        ({"REDIS_URL": "memory://"}, "REDIS_URL"),
        ({"BASE_URL": None}, "BASE_URL"),
        ({"BASE_URL": "http://give.example.org"}, "BASE_URL"),
        ({"STRIPE_SECRET_KEY": None}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_WEBHOOK_SECRET": None}, "STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_API_BASE": "http://127.0.0.1:12111"}, "STRIPE_API_BASE"),
        # Set, but unusable.
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "   "}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "a"}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "change-me-please"}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "s" * 64}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "abababababababababababababababababab"}, "SECRET_KEY is too weak"),
        ({"STRIPE_WEBHOOK_SECRET": SIMULATOR_WEBHOOK_SECRET}, "simulator's published secret"),
        (
            {"STRIPE_WEBHOOK_SECRET": f"whsec_123,{SIMULATOR_WEBHOOK_SECRET}"},
            "simulator's published secret",
        ),
        ({"STRIPE_SECRET_KEY": "sk_test_simulator"}, "simulator's key"),
        ({"ORG_TIMEZONE": "Mars/Base"}, "ORG_TIMEZONE 'Mars/Base' is not a known time zone"),
        ({"ORG_TIMEZONE": "../../etc/passwd"}, "ORG_TIMEZONE"),
        ({"PROXY_COUNT": "abc"}, "PROXY_COUNT must be a whole number from 0 to 10, not 'abc'"),
        ({"PROXY_COUNT": "-1"}, "PROXY_COUNT must be a whole number"),
        ({"MAIL_PORT": "abc"}, "MAIL_PORT must be a whole number from 1 to 65535, not 'abc'"),
        ({"MAIL_PORT": "70000"}, "MAIL_PORT must be a whole number"),
    ],
)
def test_production_refuses_to_start(change, named):
    environ = dict(PRODUCTION)
    for key, value in change.items():
        if value is None:
            environ.pop(key)
        else:
            environ[key] = value
    with pytest.raises(ConfigError) as refused:
        create_app(environ=environ)
    assert str(refused.value).startswith("Refusing to start in production: ")
    assert named in str(refused.value)


def test_every_unusable_setting_is_named_in_one_list():
    environ = {
        **PRODUCTION,
        "SECRET_KEY": "a",
        "STRIPE_WEBHOOK_SECRET": SIMULATOR_WEBHOOK_SECRET,
        "ORG_TIMEZONE": "Mars/Base",
        "PROXY_COUNT": "abc",
        "MAIL_PORT": "abc",
    }
    with pytest.raises(ConfigError) as refused:
        load_config(environ)
    message = str(refused.value)
    assert message.count("Refusing to start") == 1
    for name in ("SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "ORG_TIMEZONE", "PROXY_COUNT", "MAIL_PORT"):
        assert name in message


@pytest.mark.parametrize("environment", ["development", "testing"])
def test_other_environments_refuse_settings_that_would_fail_later(environment):
    with pytest.raises(ConfigError, match=rf"Refusing to start \({environment}\): .*MAIL_PORT"):
        load_config({"APP_ENV": environment, "MAIL_PORT": "25a", "ORG_TIMEZONE": "Mars/Base"})


def test_numbers_and_a_time_zone_from_the_environment_are_used():
    settings = load_config(
        {**PRODUCTION, "PROXY_COUNT": " 2 ", "MAIL_PORT": "587", "ORG_TIMEZONE": "America/Halifax"}
    )
    assert (settings["PROXY_COUNT"], settings["MAIL_PORT"]) == (2, 587)
    assert settings["ORG_TIMEZONE"] == "America/Halifax"


def test_every_missing_setting_is_named_at_once():
    with pytest.raises(ConfigError) as refused:
        load_config({"APP_ENV": "production"})
    message = str(refused.value)
    for name in (
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "BASE_URL",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
    ):
        assert name in message


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_config({"APP_ENV": "staging"})


def test_development_defaults_need_nothing():
    settings = load_config({})
    assert settings["APP_ENV"] == "development"
    assert settings["SQLALCHEMY_DATABASE_URI"].endswith("instance/app.db")
    assert settings["REDIS_URL"] == "memory://"
    assert settings["STRIPE_API_BASE"].startswith("http://127.0.0.1:")
    assert settings["MAIL_BACKEND"] == "console"


def test_rotating_webhook_secrets_are_split():
    settings = load_config({"STRIPE_WEBHOOK_SECRET": "whsec_old, whsec_new"})
    assert settings["STRIPE_WEBHOOK_SECRETS"] == ("whsec_old", "whsec_new")
