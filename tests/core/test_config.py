import pytest

from config import ConfigError, load_config
from core import create_app

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "a-long-random-secret",
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
    ],
)
def test_production_refuses_to_start(change, named):
    environ = dict(PRODUCTION)
    for key, value in change.items():
        if value is None:
            environ.pop(key)
        else:
            environ[key] = value
    with pytest.raises(ConfigError, match=named) as refused:
        create_app(environ=environ)
    assert "Refusing to start in production" in str(refused.value)


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
