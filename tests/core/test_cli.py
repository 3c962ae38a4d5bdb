import sqlalchemy as sa

from core.accounts.models import Role, User
from core.db import db


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_seed_demo_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    assert "treasurer@example.org" in first.output
    users = count(app, User)
    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0
    assert count(app, User) == users == 4


def test_users_create_with_a_role(app):
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "Boss@Example.org",
            "--role",
            "admin",
            "--password",
            "a good long password",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "boss@example.org"))
        assert user.role == Role.admin and user.is_verified


def test_users_create_refuses_a_short_password_and_a_taken_address(app, make_user):
    runner = app.test_cli_runner()
    short = runner.invoke(
        args=["users", "create", "--email", "a@example.org", "--password", "short"]
    )
    assert short.exit_code != 0 and "characters" in short.output
    make_user(email="b@example.org")
    taken = runner.invoke(
        args=["users", "create", "--email", "b@example.org", "--password", "long enough password"]
    )
    assert taken.exit_code != 0 and "already exists" in taken.output
