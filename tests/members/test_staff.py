"""The treasurer's member screens: list, detail, export, offline dues, grants, standing, prices."""

import csv
import io
from datetime import timedelta

import sqlalchemy as sa

from core.audit import AuditEntry
from core.db import db
from members import dates
from members.models import DuesMethod, Membership, MembershipStatus, Tier
from tests.helpers import post_form
from tests.member_fixtures import dues_rows, membership_row, subjects, today


def test_visitors_and_members_are_kept_out(app, client, tiers, make_user):
    visitor = client.get("/treasurer/members")
    assert visitor.status_code == 302 and "/login" in visitor.headers["Location"]
    _, email, password = make_user(email="m@example.org")
    from tests.helpers import sign_in

    sign_in(client, email, password)
    for path in ("/treasurer/members", "/treasurer/members.csv", "/treasurer/members/import"):
        assert client.get(path).status_code == 403


def test_list_filters_and_a_formula_safe_export(app, client, join, stripe_sim, signed_in):
    response, session_id = join(name="=HYPERLINK(1)", mailing_name="=HYPERLINK(1)")
    stripe_sim.pay(session_id)
    signed_in("treasurer")
    page = client.get("/treasurer/members?status=current&tier=individual&ending_within=400")
    assert page.status_code == 200 and '<span id="count">1</span>' in page.get_data(as_text=True)
    none = client.get("/treasurer/members?ending_within=30").get_data(as_text=True)
    assert '<span id="count">0</span>' in none
    bad = client.get("/treasurer/members?ending_within=abc")
    assert bad.status_code == 400
    export = client.get("/treasurer/members.csv?q=ines")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["Membership", "Email", "Name", "Status"]
    assert rows[1][2] == "'=HYPERLINK(1)" and rows[1][3] == "current"


def test_offline_dues_for_a_new_person_with_an_acknowledgement(
    app, client, tiers, signed_in, deliver
):
    signed_in("treasurer")
    response = post_form(
        client,
        "/treasurer/members/offline",
        {
            "email": "cheque@example.org",
            "name": "Chantal Cheque",
            "language": "fr",
            "tier": "senior",
            "amount": "25",
            "method": "cheque",
            "received_on": (today(app) - timedelta(days=3)).isoformat(),
            "reference": "Cheque 1042",
            "mondial_format": "print",
            "mailing_name": "Chantal Cheque",
            "address_line1": "3 rue du Fort",
            "city": "Québec",
            "province": "QC",
            "postal_code": "G1R 4P5",
            "country": "CA",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    membership = membership_row(app, "cheque@example.org")
    start = today(app) - timedelta(days=3)
    assert membership.status == MembershipStatus.current
    assert membership.ends_on == dates.add_years(start)
    [dues] = dues_rows(app)
    assert (dues.method, dues.amount, dues.reference) == (DuesMethod.cheque, 2500, "Cheque 1042")
    got = subjects(deliver(), "cheque@example.org")
    assert "Votre cotisation de membre est reçue" in got
    assert "Votre compte de membre : choisissez un mot de passe" in got


def test_a_grant_is_recorded_in_the_audit_log(app, client, tiers, signed_in):
    signed_in("treasurer")
    response = post_form(
        client,
        "/treasurer/members/grant",
        {
            "email": "honour@example.org",
            "name": "Hon. Orary",
            "language": "en",
            "tier": "individual",
            "kind": "honorary",
            "note": "Founding member, by board resolution 2026-14",
        },
    )
    assert response.status_code == 303
    membership = membership_row(app, "honour@example.org")
    assert membership.status == MembershipStatus.current and membership.ends_on is None
    with app.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "membership.granted")
        )
        assert entry.actor == "treasurer@example.org"
        assert entry.data["kind"] == "honorary"
        assert entry.data["note"] == "Founding member, by board resolution 2026-14"
    detail = client.get(response.location).get_data(as_text=True)
    assert "membership.granted" in detail


def test_members_in_good_standing_on_a_record_date(app, client, join, stripe_sim, signed_in):
    response, session_id = join()
    stripe_sim.pay(session_id)
    signed_in("treasurer")
    on = today(app)
    page = client.get(f"/treasurer/members/good-standing?record_date={on.isoformat()}")
    assert '<span id="count">1</span>' in page.get_data(as_text=True)
    before = client.get(
        f"/treasurer/members/good-standing?record_date={(on - timedelta(days=1)).isoformat()}"
    )
    assert '<span id="count">0</span>' in before.get_data(as_text=True)
    export = client.get(
        f"/treasurer/members/good-standing?record_date={on.isoformat()}&format=csv"
    ).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(export.lstrip("\ufeff"))))
    assert rows[1][:2] == ["Ines Member", "ines@example.org"]


def test_a_new_price_reaches_auto_renewals_only_when_staff_apply_it_with_notice(
    app, client, join, stripe_sim, signed_in, deliver
):
    response, session_id = join(renewal="auto")
    stripe_sim.pay(session_id)
    with app.app_context():
        tier = db.session.scalar(sa.select(Tier).where(Tier.slug == "individual"))
        tier.price = 6000
        db.session.commit()
    deliver().clear()
    signed_in("treasurer")
    page = client.get("/treasurer/members/settings").get_data(as_text=True)
    assert 'id="apply-individual"' in page
    end = membership_row(app).ends_on
    assert membership_row(app).price == 5000  # nothing changes until staff apply it
    response = post_form(
        client,
        "/treasurer/members/tiers/individual/apply-price",
        {},
        token_from="/treasurer/members/settings",
    )
    assert response.status_code == 303
    assert membership_row(app).price == 6000
    [notice] = [
        m
        for m in deliver().to("ines@example.org")
        if m["Subject"] == "The price of your membership renewal is changing"
    ]
    from tests.helpers import Mailbox

    assert "$50.00" in Mailbox.text(notice) and "$60.00" in Mailbox.text(notice)
    with app.app_context():
        from core import clock

        seconds = int((dates.local_noon(end + timedelta(days=1)) - clock.now()).total_seconds())
    stripe_sim.advance(seconds=seconds)
    renewal = [d for d in dues_rows(app) if d.automatic]
    assert [d.amount for d in renewal] == [6000]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == 1
