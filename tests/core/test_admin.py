"""The admin's staff screens: funds and accounts, with CSRF and no inline code."""

import sqlalchemy as sa

from core.accounts.models import Role, User
from core.audit import AuditEntry
from core.db import db
from donations.models import Fund
from tests.helpers import csrf_token


def test_an_admin_adds_a_fund_with_a_goal_in_dollars(app, client, signed_in, funds):
    signed_in("admin")
    page = client.get("/admin/fund/new/")
    assert page.status_code == 200
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    assert "<script" not in page.get_data(as_text=True)
    response = client.post(
        "/admin/fund/new/",
        data={
            "csrf_token": csrf_token(client, "/admin/fund/new/"),
            "slug": "ukraine-peace",
            "name_en": "Peace talks fund",
            "name_fr": "Fonds pour les pourparlers de paix",
            "goal": "12 500",
            "active": "y",
            "position": "50",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        fund = db.session.scalar(sa.select(Fund).where(Fund.slug == "ukraine-peace"))
        assert fund.goal == 1_250_000
    assert "Peace talks fund" in client.get("/funds").get_data(as_text=True)


def test_an_admin_form_without_csrf_is_refused(app, client, signed_in, funds):
    signed_in("admin")
    response = client.post("/admin/fund/new/", data={"slug": "x", "name_en": "X", "name_fr": "X"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(Fund).where(Fund.slug == "x")) is None


def test_blocking_an_account_is_audited_and_signs_it_out(app, client, signed_in, make_user):
    user_id, email, password = make_user(email="someone@example.org")
    other = app.test_client()
    from tests.helpers import sign_in

    assert sign_in(other, email, password).status_code == 302
    signed_in("admin")
    path = f"/admin/user/edit/?id={user_id}"
    response = client.post(
        path,
        data={"csrf_token": csrf_token(client, path), "name": "Some One", "role": "member"},
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.active is False and user.role == Role.member
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "user.changed_by_admin")
        )
        assert entry.data["active"] == {"from": "True", "to": "False"}
    assert other.get("/account").status_code == 302  # signed out


def test_an_admin_edits_a_fund_and_keeps_its_address_name(app, client, signed_in, funds):
    signed_in("admin")
    with app.app_context():
        fund_id = db.session.scalar(sa.select(Fund.id).where(Fund.slug == "general"))
    path = f"/admin/fund/edit/?id={fund_id}"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "slug": "general",
            "name_en": "General fund",
            "name_fr": "Fonds général",
            "goal": "",
            "active": "y",
            "position": "0",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    taken = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "slug": "mondial",  # another fund's
            "name_en": "General fund",
            "name_fr": "Fonds général",
            "position": "0",
        },
    )
    assert "Already exists." in taken.get_data(as_text=True)
