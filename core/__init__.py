"""The application factory and what every feature shares."""

import importlib
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, g, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from config import BASE_DIR, load_config
from core import cache, clock, i18n, logs, security
from core.admin import add_view, init_admin
from core.api import init_api
from core.db import db
from core.errors import register_errorhandlers
from core.extensions import babel, csrf, limiter, login_manager, migrate
from core.urls import IdConverter


def create_app(config=None, environ=None):
    """Create the app; ``config`` overrides settings read from ``environ`` (os.environ)."""
    settings = load_config(environ, config)
    app = Flask(
        __name__,
        instance_path=str(BASE_DIR / "instance"),
        template_folder="templates",
        static_folder="static",
    )
    app.config.update(settings)
    # Before any route is added: converters are bound when a rule is.
    app.url_map.converters["int"] = IdConverter
    app.json = security.StrictJSONProvider(app)
    logs.configure(app)
    _prepare_instance(app)
    if app.config.get("CLOCK_FILE") and app.config["APP_ENV"] != "production":
        clock.share_through(app.config["CLOCK_FILE"])
    # First: the request id and start time are set before anything can refuse the request,
    # and the request is logged after every other hook, the commit included.
    logs.init_app(app)
    # Before CSRFProtect's own hook, so that bad bytes are refused before anything parses them.
    app.before_request(security.check_input)
    register_unit_of_work(app)
    register_extensions(app)
    if app.config["APP_ENV"] == "development":
        _sqlite_begin_immediate(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_features(app)
    register_request_hooks(app)
    # Last: its before_request runs after the input checks, its after_request first.
    cache.init_app(app)
    register_template_helpers(app)
    register_cli(app)
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    return app


def _prepare_instance(app):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.setdefault("connect_args", {"timeout": 30})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    extra = ["https://checkout.stripe.com", "https://billing.stripe.com"]
    if app.config.get("STRIPE_API_BASE"):
        extra.append(security.origin_of(app.config["STRIPE_API_BASE"]))
    app.config["CSP_FORM_ACTION_EXTRA"] = tuple(o for o in extra if o)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def _sqlite_begin_immediate(app):
    """On SQLite in development, take the write lock when a transaction begins.

    SQLite has no row locks, and a transaction that read before another process wrote
    cannot write afterwards ("database is locked", at once). Beginning IMMEDIATE makes the
    app, the worker and the CLI of ``make run`` wait their turn, as row locks do on
    PostgreSQL. (Tests keep SQLite's default: some hold two sessions in one thread.)
    """
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def register_extensions(app):
    from core import models  # noqa: F401  (every table, for Alembic and create_all)
    from core.accounts.services import load_session

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    limiter.init_app(app)
    init_api(app)
    init_admin(app)

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_session)
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"


def register_blueprints(app):
    from core.accounts import bp as accounts_bp
    from core.accounts import people as accounts_people
    from core.accounts.admin import UserView
    from core.accounts.models import User
    from core.mail import bp as mail_bp
    from core.mail import people as mail_people
    from core.people import register as register_people
    from core.views import bp as core_bp

    add_view(app, UserView(User, db, name=_l("Accounts"), category=_l("People")))
    register_people(app, accounts_people.provider)
    register_people(app, mail_people.provider)
    for blueprint in (core_bp, accounts_bp, mail_bp):
        app.register_blueprint(blueprint)


def register_features(app):
    """Import each package named in ``FEATURES`` and let it add what it serves.

    ``init_app(app)`` registers the package's blueprint, API, admin views, panels, payment
    purposes, CLI commands and periodic tasks. A package that has only a blueprint ``bp``
    yet is served by registering that blueprint.
    """
    for name in app.config["FEATURES"]:
        package = importlib.import_module(name)
        init_app = getattr(package, "init_app", None)
        if init_app is not None:
            init_app(app)
        else:
            app.register_blueprint(package.bp)


def register_unit_of_work(app):
    """The request is the unit of work: services flush, and it is committed here once, if
    the answer says it succeeded; a refusal (4xx) or a failure (5xx) undoes it.

    Registered before every other hook, so that it runs after them all: nothing reloads an
    object the commit expired. The few commit points inside a request are named where they
    are (before a call to Stripe, see payments.checkout; the webhook's store-then-handle
    steps). A streamed answer (a CSV export) only reads, and reads on after this point.
    """

    @app.after_request
    def _end_of_the_unit_of_work(response):
        if response.is_streamed or not db.session.registry.has():
            return response
        if db.session().in_transaction():
            if response.status_code < 400:
                db.session.commit()
            else:
                db.session.rollback()
        return response


def register_request_hooks(app):
    @app.after_request
    def _after(response):
        if not g.get("request_id"):
            g.request_id = security.request_id()
        response.headers["X-Request-Id"] = g.request_id
        response = security.set_security_headers(response)
        response = i18n.remember_language(response)
        if request.cookies.get(app.config["LANGUAGE_COOKIE"]) is None or "lang" in request.args:
            response.vary.add("Cookie")
        response.vary.add("Accept-Language")
        return response

    @app.teardown_appcontext
    def _rollback_unfinished(exc):
        # A request that failed must not leave a transaction open on a pooled connection.
        if exc is not None:
            db.session.rollback()


def register_template_helpers(app):
    from flask import current_app

    from core.accounts.access import has_role
    from core.accounts.models import Role
    from core.money import format_money
    from core.panels import render_slot

    nav = [
        ("donations.donate", _l("Donate")),
        ("members.join", _l("Join")),
        ("shop.catalogue", _l("Shop")),
        ("involve.take_action", _l("Take Action")),
        ("involve.get_involved", _l("Get Involved")),
        ("accounts.overview", _l("Account")),
    ]

    def serves(endpoint):
        """Whether a configured feature serves ``endpoint`` (menus show only what exists)."""
        return endpoint in current_app.view_functions

    def main_nav():
        """The navigation, less the sections this installation does not serve yet."""
        return [(e, label) for e, label in nav if serves(e)]

    def home_actions():
        wanted = ("donations.donate", "members.join", "involve.get_involved")
        return [(e, label) for e, label in main_nav() if e in wanted]

    app.jinja_env.filters["money"] = format_money
    app.jinja_env.globals.update(
        language_switch_url=i18n.language_switch_url,
        current_language=i18n.current_language,
        other_language=i18n.other_language,
        render_slot=render_slot,
        has_role=has_role,
        Role=Role,
        get_locale=get_locale,
        main_nav=main_nav,
        serves=serves,
        home_actions=home_actions,
    )

    @app.context_processor
    def _org():
        return {"org_name": app.config["ORG_NAME"]}


def register_cli(app):
    from core.cli import register

    register(app)
