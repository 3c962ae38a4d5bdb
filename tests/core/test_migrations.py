"""The migrations build the schema the models describe, and unwind it, on both databases."""

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import make_url

from core.db import db
from tests.helpers import POSTGRES, TEST_DATABASE_URL, require


def alembic_config(app):
    return app.extensions["migrate"].migrate.get_config(
        directory=app.extensions["migrate"].directory
    )


def run_both_ways(app, url):
    engine = sa.create_engine(url)
    try:
        with app.app_context(), engine.begin() as connection:
            config = alembic_config(app)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, db.metadata)
            assert diff == [], f"models and migrations differ: {diff}"
            tables = set(sa.inspect(connection).get_table_names())
            assert {"user", "outbox_message", "audit_entry"} <= tables

            command.downgrade(config, "base")
            left = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
            assert left == set()

            command.upgrade(config, "head")  # and back up again, as a redeploy would
    finally:
        engine.dispose()


def test_upgrade_and_downgrade_on_sqlite(app, tmp_path):
    run_both_ways(app, f"sqlite:///{tmp_path / 'migrations.db'}")


@pytest.mark.postgres
def test_upgrade_and_downgrade_on_postgresql(app):
    require(POSTGRES, "PostgreSQL (TEST_DATABASE_URL)")
    # Named after the test database, so two checkouts testing on one server never collide.
    name = f"{make_url(TEST_DATABASE_URL).database}_migrations"
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        run_both_ways(app, make_url(TEST_DATABASE_URL).set(database=name))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.mark.postgres
def test_the_audit_log_refuses_updates_in_postgresql(app_ctx):
    require(POSTGRES, "PostgreSQL (TEST_DATABASE_URL)")
    from core import audit

    audit.record("test.done", actor="test")
    db.session.commit()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text("UPDATE audit_entry SET action = 'rewritten'"))
    db.session.rollback()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        db.session.execute(sa.text("DELETE FROM audit_entry"))
    db.session.rollback()


def test_the_orm_refuses_to_edit_the_audit_log(app_ctx):
    from core import audit

    entry = audit.record("test.done", actor="test")
    db.session.commit()
    entry.action = "rewritten"
    with pytest.raises(audit.AppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(entry)
    with pytest.raises(audit.AppendOnly):
        db.session.flush()
    db.session.rollback()
