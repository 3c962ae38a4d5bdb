"""Shared fixtures: the app on SQLite or PostgreSQL, a real SMTP server, a live server, Chromium.

Under ``CI=true`` a missing PostgreSQL, Redis or Chromium fails the run instead of skipping.
"""

import os
import shutil

import pytest
import sqlalchemy as sa

from core import clock, create_app
from core.db import db
from tests.helpers import (
    CHROMIUM_FLAGS,
    CI,
    POSTGRES,
    ROOT,
    LiveServer,
    Mailbox,
    QueryCounter,
    SimControl,
    complete_second_factor,
    free_port,
    post_form,
    require,
)

pytest_plugins = [
    "tests.payment_fixtures",
    "tests.donation_fixtures",
    "tests.involve_fixtures",
    "tests.member_fixtures",
    "tests.treasurer_fixtures",
    "tests.shop_fixtures",
]


def pytest_sessionstart(session):
    """French pages need compiled catalogs; `make` builds them, a bare `pytest` does it here."""
    from tests.catalogs import CatalogError, compile_catalogs

    try:
        compile_catalogs(ROOT / "translations")
    except CatalogError as error:
        pytest.exit(str(error), returncode=pytest.ExitCode.USAGE_ERROR)


# --- email -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def mailbox(smtp_server):
    smtp_server.handler.clear()
    return smtp_server.handler


@pytest.fixture
def deliver(app, mailbox):
    """Run the outbox once, as the worker would, and return the mailbox."""

    def run():
        from core.mail.services import deliver_due

        with app.app_context():
            deliver_due(limit=1000)
        return mailbox

    return run


# --- the app -----------------------------------------------------------------------------


def testing_environ(**extra):
    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BASE_URL"}}
    environ["APP_ENV"] = "testing"
    environ.update(extra)
    return environ


@pytest.fixture(scope="session")
def live_port():
    return free_port()


@pytest.fixture(scope="session")
def sim_port():
    return free_port()


WEBHOOK_SECRETS = ("whsec_test_current", "whsec_test_next")


@pytest.fixture(scope="session")
def app(smtp_server, live_port, sim_port):
    if CI:
        require(POSTGRES, "PostgreSQL (TEST_DATABASE_URL)")
    app = create_app(
        config={
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_server.port,
            "MAIL_BACKEND": "smtp",
            "BASE_URL": f"http://127.0.0.1:{live_port}",
            "STRIPE_SECRET_KEY": "sk_test_simulator",
            "STRIPE_API_BASE": f"http://127.0.0.1:{sim_port}",
            "STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRETS,
        },
        environ=testing_environ(),
    )
    with app.app_context():
        reset_database()
    return app


def reset_database():
    """Drop everything and build the schema with the migrations, as production does."""
    from flask_migrate import upgrade

    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    else:
        engine.dispose()
        path = engine.url.database
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    upgrade(directory=str(ROOT / "migrations"))


class _Writes:
    """Notes whether a test wrote to the database, so clean-up skips read-only tests."""

    happened = True

    @classmethod
    def listen(cls, conn, cursor, statement, parameters, context, executemany):
        if not cls.happened and statement.lstrip()[:6].upper() in {"INSERT", "UPDATE", "DELETE"}:
            cls.happened = True


sa.event.listen(sa.engine.Engine, "before_cursor_execute", _Writes.listen)


def truncate_all():
    tables = [t.name for t in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{name}"' for name in tables)
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        with db.engine.begin() as conn:
            conn.execute(sa.text("PRAGMA defer_foreign_keys = ON"))  # rows that point at rows
            for name in reversed(tables):
                conn.execute(sa.text(f'DELETE FROM "{name}"'))
            if conn.execute(
                sa.text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'")
            ).first():
                conn.execute(sa.text("DELETE FROM sqlite_sequence"))


@pytest.fixture(autouse=True)
def _isolate(request):
    """Every test starts with empty tables, real time and fresh rate-limit counters."""
    yield
    clock.reset()
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        from core import cache

        cache.clear_local()  # pages kept from rows that are about to go
        if _Writes.happened:
            truncate_all()
            _Writes.happened = False
        from core.extensions import limiter

        limiter.reset()
        app.extensions.pop("dummy_password_hash", None)


@pytest.fixture
def count_queries():
    """``with count_queries() as queries:`` counts the SQL statements sent meanwhile."""
    return QueryCounter


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def make_user(app):
    """Create a confirmed account and return (id, email, password)."""

    def make(email="someone@example.org", password="correct horse battery", role="member", **kw):
        from core.accounts.models import Role
        from core.accounts.services import create_user

        with app.app_context():
            user = create_user(
                email, password, role=Role.parse(role), verified=kw.pop("verified", True), **kw
            )
            db.session.commit()
            return user.id, user.email, password

    return make


@pytest.fixture
def signed_in(client, make_user):
    """A client signed in with a role: ``signed_in("treasurer")``."""

    def sign_in(role="member", email=None):
        _, address, password = make_user(email=email or f"{role}@example.org", role=role)
        response = post_form(client, "/login", {"email": address, "password": password})
        response = complete_second_factor(client, response, address)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return sign_in


# --- Stripe ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _simulator(app, live_server, sim_port):
    from payments.simulator import SimConfig, Simulator
    from payments.simulator.server import serve

    sim = Simulator(
        SimConfig(
            webhook_url=f"{live_server.url}/stripe/webhook",
            # Stripe signs with every active secret while one is being rolled.
            webhook_secrets=list(WEBHOOK_SECRETS),
            # In-process, the simulator and the app share one clock.
            on_clock_change=clock.set_offset,
        )
    )
    server, _ = serve(sim, port=sim_port)
    yield sim
    server.shutdown()


@pytest.fixture
def run_worker(app):
    """Handle the stored Stripe events that are due, as ``flask worker run`` does."""

    def run():
        from payments.inbox import work

        totals = [0, 0]
        with app.app_context():
            while True:
                handled, failed = work()
                totals[0] += handled
                totals[1] += failed
                if not handled and not failed:
                    break
            db.session.remove()
        return tuple(totals)

    return run


@pytest.fixture
def stripe_sim(_simulator, run_worker):
    """The Stripe simulator, emptied, with its control API; events go to the live server.

    The webhook only stores events; after each control call the worker handles them, as
    the real worker does within seconds. ``with stripe_sim.worker_stopped():`` holds it.
    """
    _simulator.reset()
    yield SimControl(_simulator, worker=run_worker)
    _simulator.reset()


# --- the live server and the browser -----------------------------------------------------


@pytest.fixture(scope="session")
def live_server(app, live_port):
    server = LiveServer(app, live_port)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    executable = shutil.which("chromium")
    require(executable, "Chromium (Debian package 'chromium')")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_FLAGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-CA")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
