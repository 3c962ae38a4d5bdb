"""Configuration: one class per environment, secrets and infrastructure from the environment.

Business settings that staff change (tiers, prices, funds, limits) live in the database;
only what differs between machines or must stay secret is read here.
"""

import hashlib
import os
import secrets
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

BASE_DIR = Path(__file__).resolve().parent

#: The webhook secret the Stripe simulator signs with when none is configured.
SIMULATOR_WEBHOOK_SECRET = "whsec_simulator_not_secret"
#: The API key the app gives the simulator; it is in this repository, so it is no secret.
SIMULATOR_SECRET_KEY = "sk_test_simulator"

#: A production ``SECRET_KEY`` signs sessions and every emailed link: long and varied.
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_DISTINCT = 12


def _bool(value, default=False):
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value, default):
    """A whole number from the environment; anything else is kept as typed for problems()."""
    if value is None or value.strip() == "":
        return default
    try:
        return int(value.strip())
    except ValueError:
        return value


def _normalise_db_url(url):
    """Let plain ``postgresql://`` URLs use the psycopg 3 driver we install."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    """Settings shared by every environment."""

    APP_ENV = "development"
    TESTING = False
    DEBUG = False

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Small by default; views that accept uploads raise it for themselves.
    MAX_CONTENT_LENGTH = 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 512 * 1024

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)
    PREFERRED_URL_SCHEME = "http"

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    WTF_CSRF_SSL_STRICT = True

    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = ("en", "fr")
    LANGUAGE_COOKIE = "lang"

    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_KEY_PREFIX = "mondial"
    RATELIMIT_STRATEGY = "fixed-window"
    RATELIMIT_SWALLOW_ERRORS = False
    # Redis down: limits hold per process (logged) rather than every limited page failing.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {
        "wrap_exceptions": True,
        "socket_connect_timeout": 1,
        "socket_timeout": 1,
    }
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    LOGIN_LIMIT_PER_IP = "20 per 15 minutes"
    RESET_LIMIT_PER_ACCOUNT = "3 per hour"
    RESET_LIMIT_PER_IP = "10 per hour"
    # Pages a payer comes back to from Stripe; each visit asks Stripe about the session.
    RETURN_PAGE_LIMIT = "60 per minute"
    REGISTER_LIMIT_PER_ACCOUNT = "5 per hour"
    REGISTER_LIMIT_PER_IP = "10 per hour"
    # Confirmation links and "you already have an account" notices, per account and per
    # mailbox: a stranger who knows an address must not be able to flood it.
    VERIFY_EMAIL_LIMITS = "1 per 10 minutes; 5 per day"
    VERIFY_RESEND_TOKEN_MAX_AGE = 60 * 60  # the resend button on the sign-in page: one hour

    # argon2id, above OWASP's floor (m=19 MiB, t=2, p=1); argon2-cffi's RFC 9106 low-memory profile.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536  # KiB
    ARGON2_PARALLELISM = 4

    EMAIL_TOKEN_MAX_AGE = 60 * 60 * 24 * 3  # verification links: three days
    RESET_TOKEN_MAX_AGE = 60 * 60  # password reset links: one hour
    # Receipt links in emails: people open them at tax time, often the spring after next.
    RECEIPT_LINK_MAX_AGE = 60 * 60 * 24 * 730  # two years; never less than 18 months
    # "Email me a fresh link" on an expired receipt link, per receipt and per mailbox.
    RECEIPT_LINK_EMAIL_LIMITS = "1 per 10 minutes; 5 per day"
    MANAGE_LINK_DAYS = 60  # a monthly gift's manage link; an expired one offers a fresh one

    MAIL_BACKEND = "smtp"  # smtp | console
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_TIMEOUT = 30
    MAIL_DEFAULT_SENDER = "Mondial <no-reply@example.org>"
    OUTBOX_BATCH = 50
    OUTBOX_MAX_ATTEMPTS = 8
    OUTBOX_LEASE_SECONDS = 300

    ORG_NAME = "World Federalist Movement – Canada (demo)"
    ORG_ADDRESS = "123 Example Street, Ottawa, ON K1A 0B1, Canada"
    ORG_TIMEZONE = "America/Toronto"
    #: PDFs of digital issues, served only through signed links (default instance/shop-files).
    SHOP_FILES_DIR = None
    CHARITY_REGISTRATION_NUMBER = None
    GST_HST_NUMBER = None

    STRIPE_SECRET_KEY = None
    STRIPE_WEBHOOK_SECRETS = ()
    STRIPE_API_BASE = None
    STRIPE_TIMEOUT = 20  # seconds, per request to Stripe
    STRIPE_MAX_NETWORK_RETRIES = 2
    # Seconds one call to Stripe may take, every retry included: well inside gunicorn's
    # worker timeout (gunicorn.conf.py), so a slow Stripe gets a page, not a killed worker.
    STRIPE_CALL_TIMEOUT = 25
    STRIPE_SIMULATOR_PORT = 12111

    #: The feature packages this installation serves, in order (as Django's INSTALLED_APPS):
    #: ``create_app`` imports each and calls its ``init_app(app)``.
    FEATURES = ("payments", "donations", "members", "shop", "involve", "treasurer", "people")
    # How old this process's copy of the page-cache versions may be (core/cache.py): a
    # change made by another process shows within this time; 0 asks Redis every request.
    CACHE_VERSION_CHECK_SECONDS = 1.0

    WORKER_IDLE_SECONDS = 5
    #: The worker's CPU priority below the web processes' (``nice``, 0 to 19): on a small
    #: machine a webhook or a page answers first, and the worker's queue catches up in the
    #: pauses between requests. 0 runs the worker at the web's priority.
    WORKER_NICENESS = 19
    #: While Stripe delivers more than this many events a second, the worker holds back
    #: from the stored events (the webhook's inserts come first on the database too), for
    #: at most WORKER_BURST_HOLD_SECONDS after the oldest waiting one arrived. 0: never.
    WORKER_BURST_RATE = 50
    WORKER_BURST_HOLD_SECONDS = 15
    #: Development and testing: the file through which every process shares the simulated
    #: clock (see core.clock). None in production, where time is real.
    CLOCK_FILE = None
    PROXY_COUNT = 0  # reverse proxies in front of the app whose X-Forwarded-* we trust

    @classmethod
    def from_environ(cls, environ):
        """Return this class's settings as a dict, overridden by the environment."""
        settings = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}
        env = environ.get
        settings["SECRET_KEY"] = env("SECRET_KEY") or cls.default_secret_key()
        # Earlier keys, comma-separated, still accepted while rotating SECRET_KEY: by
        # Flask for the session cookie and by core.tokens for emailed links.
        settings["SECRET_KEY_FALLBACKS"] = [
            k.strip() for k in (env("SECRET_KEY_FALLBACKS") or "").split(",") if k.strip()
        ]
        settings["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(
            env("DATABASE_URL") or cls.default_database_url()
        )
        settings["REDIS_URL"] = env("REDIS_URL") or cls.default_redis_url()
        settings["RATELIMIT_STORAGE_URI"] = settings["REDIS_URL"]
        settings["BASE_URL"] = (env("BASE_URL") or "http://127.0.0.1:5000").rstrip("/")

        settings["STRIPE_SECRET_KEY"] = env("STRIPE_SECRET_KEY") or None
        raw_secrets = env("STRIPE_WEBHOOK_SECRET") or ""
        settings["STRIPE_WEBHOOK_SECRETS"] = tuple(
            s.strip() for s in raw_secrets.split(",") if s.strip()
        )
        settings["STRIPE_API_BASE"] = env("STRIPE_API_BASE") or None

        if env("MAIL_SERVER"):
            settings["MAIL_BACKEND"] = "smtp"
            settings["MAIL_SERVER"] = env("MAIL_SERVER")
        settings["MAIL_PORT"] = _int(env("MAIL_PORT"), settings["MAIL_PORT"])
        for key in ("MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER"):
            if env(key):
                settings[key] = env(key)
        settings["MAIL_USE_TLS"] = _bool(env("MAIL_USE_TLS"), settings["MAIL_USE_TLS"])
        settings["MAIL_USE_SSL"] = _bool(env("MAIL_USE_SSL"), settings["MAIL_USE_SSL"])

        for key in ("ORG_NAME", "ORG_ADDRESS", "ORG_TIMEZONE", "SHOP_FILES_DIR"):
            if env(key):
                settings[key] = env(key)
        for key in ("CHARITY_REGISTRATION_NUMBER", "GST_HST_NUMBER"):
            settings[key] = env(key) or None
        if env("FEATURES"):
            settings["FEATURES"] = tuple(
                name.strip() for name in env("FEATURES").split(",") if name.strip()
            )
        settings["PROXY_COUNT"] = _int(env("PROXY_COUNT"), settings["PROXY_COUNT"])
        return settings

    @staticmethod
    def default_secret_key():
        return secrets.token_urlsafe(32)

    @staticmethod
    def default_database_url():
        return "sqlite:///" + str(BASE_DIR / "instance" / "app.db")

    @staticmethod
    def default_redis_url():
        return "memory://"

    @staticmethod
    def problems(settings):
        """Return what makes these settings unfit to start; empty when fine."""
        found = []
        for key, low, high in (("MAIL_PORT", 1, 65535), ("PROXY_COUNT", 0, 10)):
            value = settings.get(key)
            if type(value) is not int or not low <= value <= high:
                found.append(f"{key} must be a whole number from {low} to {high}, not {value!r}")
        zone = settings.get("ORG_TIMEZONE")
        try:
            ZoneInfo(zone)
        except (ValueError, TypeError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            found.append(
                f"ORG_TIMEZONE {zone!r} is not a known time zone (for example America/Toronto)"
            )
        return found


class DevelopmentConfig(Config):
    APP_ENV = "development"
    DEBUG = True
    MAIL_BACKEND = "console"

    @classmethod
    def from_environ(cls, environ):
        settings = super().from_environ(environ)
        if not settings["STRIPE_SECRET_KEY"]:
            # No key: talk to the local simulator that `make run` starts.
            port = environ.get("STRIPE_SIMULATOR_PORT") or cls.STRIPE_SIMULATOR_PORT
            settings["STRIPE_SECRET_KEY"] = SIMULATOR_SECRET_KEY
            settings["STRIPE_API_BASE"] = settings["STRIPE_API_BASE"] or f"http://127.0.0.1:{port}"
        if not settings["STRIPE_WEBHOOK_SECRETS"]:
            settings["STRIPE_WEBHOOK_SECRETS"] = (SIMULATOR_WEBHOOK_SECRET,)
        settings["CLOCK_FILE"] = environ.get("CLOCK_FILE") or str(
            BASE_DIR / "instance" / "clock.json"
        )
        return settings


class TestingConfig(Config):
    APP_ENV = "testing"
    TESTING = True
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "127.0.0.1"
    # Cheap hashing keeps the suite fast; the production parameters have their own test.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    RATELIMIT_KEY_PREFIX = "mondial-test"
    STRIPE_TIMEOUT = 5
    STRIPE_MAX_NETWORK_RETRIES = 0
    CACHE_VERSION_CHECK_SECONDS = 0  # every change shows at once, in every app a test makes

    @classmethod
    def from_environ(cls, environ):
        settings = super().from_environ(environ)
        settings["SECRET_KEY"] = environ.get("SECRET_KEY") or "testing-secret-key"
        settings["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(
            environ.get("TEST_DATABASE_URL")
            or "sqlite:///" + str(BASE_DIR / "instance" / "test.db")
        )
        settings["REDIS_URL"] = environ.get("REDIS_URL") or "memory://"
        settings["RATELIMIT_STORAGE_URI"] = settings["REDIS_URL"]
        settings["STRIPE_SECRET_KEY"] = settings["STRIPE_SECRET_KEY"] or SIMULATOR_SECRET_KEY
        if not settings["STRIPE_WEBHOOK_SECRETS"]:
            settings["STRIPE_WEBHOOK_SECRETS"] = (SIMULATOR_WEBHOOK_SECRET,)
        # One clock file per test database, so that two test runs side by side keep apart.
        database = hashlib.sha256(settings["SQLALCHEMY_DATABASE_URI"].encode()).hexdigest()[:12]
        settings["CLOCK_FILE"] = environ.get("CLOCK_FILE") or str(
            BASE_DIR / "instance" / f"clock-test-{database}.json"
        )
        return settings


class ProductionConfig(Config):
    APP_ENV = "production"
    PROXY_COUNT = 1
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def from_environ(cls, environ):
        settings = super().from_environ(environ)
        settings["SECRET_KEY"] = environ.get("SECRET_KEY") or None
        settings["_DATABASE_URL_SET"] = bool(environ.get("DATABASE_URL"))
        settings["_REDIS_URL_SET"] = bool(environ.get("REDIS_URL"))
        settings["_BASE_URL_SET"] = bool(environ.get("BASE_URL"))
        return settings

    @staticmethod
    def problems(settings):
        found = Config.problems(settings)
        secret_key = (settings.get("SECRET_KEY") or "").strip()
        if not secret_key:
            found.append("SECRET_KEY is not set")
        elif (
            len(secret_key) < MIN_SECRET_KEY_LENGTH
            or len(set(secret_key)) < MIN_SECRET_KEY_DISTINCT
        ):
            found.append(
                f"SECRET_KEY is too weak: use at least {MIN_SECRET_KEY_LENGTH} random characters"
                ' (python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        db_url = settings.get("SQLALCHEMY_DATABASE_URI") or ""
        if not settings.get("_DATABASE_URL_SET") or db_url.startswith("sqlite"):
            found.append("DATABASE_URL must name a server database (PostgreSQL), not SQLite")
        redis_url = settings.get("REDIS_URL") or ""
        if not settings.get("_REDIS_URL_SET") or redis_url.startswith("memory://"):
            found.append("REDIS_URL must name a Redis server, not memory://")
        if not settings.get("_BASE_URL_SET") or not settings["BASE_URL"].startswith("https://"):
            found.append("BASE_URL must be an https:// address")
        if not settings.get("STRIPE_SECRET_KEY"):
            found.append("STRIPE_SECRET_KEY is not set")
        elif settings["STRIPE_SECRET_KEY"] == SIMULATOR_SECRET_KEY:
            found.append("STRIPE_SECRET_KEY is the simulator's key, not one from Stripe")
        if not settings.get("STRIPE_WEBHOOK_SECRETS"):
            found.append("STRIPE_WEBHOOK_SECRET is not set")
        elif SIMULATOR_WEBHOOK_SECRET in settings["STRIPE_WEBHOOK_SECRETS"]:
            found.append(
                "STRIPE_WEBHOOK_SECRET is the simulator's published secret, not one from Stripe"
            )
        if settings.get("STRIPE_API_BASE"):
            found.append("STRIPE_API_BASE must not be set (it points the app away from Stripe)")
        return found


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


class ConfigError(RuntimeError):
    """The environment does not allow the app to start."""


def load_config(environ=None, overrides=None):
    """Build the settings for ``APP_ENV`` from the environment, refusing unsafe production."""
    environ = os.environ if environ is None else environ
    name = (environ.get("APP_ENV") or "development").strip().lower()
    if name not in CONFIGS:
        raise ConfigError(f"APP_ENV={name!r} is not one of: {', '.join(sorted(CONFIGS))}")
    cls = CONFIGS[name]
    settings = cls.from_environ(environ)
    settings.update(overrides or {})
    problems = cls.problems(settings)
    if problems:
        where = "in production" if name == "production" else f"({name})"
        raise ConfigError(f"Refusing to start {where}: " + "; ".join(problems) + ".")
    return settings
