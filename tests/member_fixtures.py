"""Fixtures for memberships: the starting tiers, a member, a way to join through the form."""

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from core.db import db
from tests.helpers import post_form


@pytest.fixture
def tiers(app):
    from members.cli import seed_tiers

    with app.app_context():
        seed_tiers()
        db.session.commit()


def join_form(**overrides):
    data = {
        "renewal": "once",
        "name": "Ines Member",
        "email": "ines@example.org",
        "password": "a long enough password",
        "confirm": "a long enough password",
        "mondial_format": "print",
        "mailing_name": "Ines Member",
        "address_line1": "12 Elgin Street",
        "city": "Ottawa",
        "province": "ON",
        "postal_code": "K1P 5W1",
        "country": "CA",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def session_of(response):
    return urlsplit(response.location).path.rsplit("/", 1)[-1]


@pytest.fixture
def join(client, tiers, stripe_sim):
    """Fill in /join/<tier> as the client; returns (response, session id or None)."""

    def run(tier="individual", lang="en", **overrides):
        response = post_form(
            client,
            f"/join/{tier}?lang={lang}",
            join_form(**overrides),
            token_from=f"/join/{tier}",
        )
        session_id = session_of(response) if response.status_code == 303 else None
        return response, session_id

    return run


def membership_row(app, email="ines@example.org"):
    from core.accounts.models import User
    from members.models import Membership

    with app.app_context():
        membership = db.session.scalar(
            sa.select(Membership)
            .join(User, Membership.user_id == User.id)
            .where(User.email == email)
        )
        if membership is None:
            return None
        db.session.refresh(membership)
        _loaded = (membership.tier, membership.user)  # read after the session ends
        for dues in membership.dues:
            db.session.expunge(dues)
        db.session.expunge(membership)
        return membership


def dues_rows(app):
    from members.models import Dues

    with app.app_context():
        rows = db.session.scalars(sa.select(Dues).order_by(Dues.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def today(app):
    from members import dates

    with app.app_context():
        return dates.today()


def run_lifecycle(app, *args):
    result = app.test_cli_runner().invoke(args=["members", "lifecycle", *args])
    assert result.exit_code == 0, result.output
    return result.output


def queries_for(app, client, path):
    """The SQL statements one GET of ``path`` runs, drawn afresh (nothing kept)."""
    from core import cache

    with app.app_context():
        engine = db.engine
        cache.clear_local()
    counted = []

    def count(conn, cursor, statement, *args):
        counted.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, (path, response.status_code)
    return counted


def confirm_and_sign_in(app, client, email="ines@example.org", password="a long enough password"):
    """Confirm a joined visitor's address (as the emailed link would) and sign them in."""
    from core import clock
    from core.accounts.models import User
    from tests.helpers import sign_in

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        user.email_verified_at = user.email_verified_at or clock.now()
        db.session.commit()
    response = sign_in(client, email, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def subjects(mailbox, email="ines@example.org"):
    return [m["Subject"] for m in mailbox.to(email)]
