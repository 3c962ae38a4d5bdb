"""Importing members from CSV: checked first, all or nothing, thousands in one command."""

import csv
import io
import time

import sqlalchemy as sa

from core.accounts.models import User
from core.db import db
from core.mail.models import OutboxMessage
from members.models import Membership, MembershipStatus
from tests.helpers import Mailbox, post_form

HEADER = [
    "email",
    "name",
    "tier",
    "ends_on",
    "language",
    "address_line1",
    "city",
    "province",
    "postal_code",
    "mondial_format",
]


def csv_text(rows, header=HEADER):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def good_row(n, ends_on="2027-06-30", tier="individual", language="en"):
    return [
        f"member{n}@example.org",
        f"Member {n}",
        tier,
        ends_on,
        language,
        f"{n} Bank Street",
        "Ottawa",
        "ON",
        "K1P 5N2",
        "print",
    ]


def count(app, model):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_one_bad_row_imports_nothing_and_is_named_by_line(app, tiers, tmp_path):
    rows = [good_row(n) for n in range(1, 6)]
    rows[2][3] = "30/06/2027"  # line 4 of the file (the header is line 1)
    rows[4][0] = "not an email"  # line 6
    path = tmp_path / "members.csv"
    path.write_text(csv_text(rows))
    result = app.test_cli_runner().invoke(args=["members", "import", str(path)])
    assert result.exit_code != 0
    assert "Line 4 (ends_on): Please give the end date as YYYY-MM-DD." in result.output
    assert "Line 6 (email): Please enter a valid email address." in result.output
    assert "Nothing was imported: 2 problems" in result.output
    assert count(app, Membership) == 0 and count(app, User) == 0


def test_unknown_columns_duplicates_and_existing_members_are_refused(app, tiers, tmp_path):
    rows = [good_row(1), good_row(1), good_row(2, tier="platinum")]
    path = tmp_path / "members.csv"
    path.write_text(csv_text(rows))
    result = app.test_cli_runner().invoke(args=["members", "import", str(path)])
    assert "Line 3 (email): This address is already on line 2." in result.output
    assert "Line 4 (tier): There is no membership tier “platinum”." in result.output
    path.write_text(csv_text([good_row(1)], header=[*HEADER[:-1], "favourite_colour"]))
    result = app.test_cli_runner().invoke(args=["members", "import", str(path)])
    assert "The column “favourite_colour” is not one we know." in result.output
    assert count(app, Membership) == 0


def test_5000_members_import_in_one_command_with_a_progress_bar(app, tiers, tmp_path):
    rows = [good_row(n, language="fr" if n % 3 == 0 else "en") for n in range(5000)]
    rows[10][3] = "2020-01-01"  # long lapsed
    rows[11][2], rows[11][3] = "life", ""
    path = tmp_path / "members.csv"
    path.write_text(csv_text(rows))
    started = time.perf_counter()
    result = app.test_cli_runner().invoke(args=["members", "import", str(path)])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert "Importing" in result.output  # the progress bar
    assert "Imported 5000 members (5000 new accounts" in result.output
    print(f"imported 5000 members in {elapsed:.1f} s")
    assert count(app, Membership) == 5000
    assert count(app, OutboxMessage) == 5000
    with app.app_context():
        statuses = dict(
            db.session.execute(
                sa.select(Membership.status, sa.func.count()).group_by(Membership.status)
            ).all()
        )
        assert statuses[MembershipStatus.lapsed] == 1
        life = db.session.scalar(
            sa.select(Membership).join(User).where(User.email == "member11@example.org")
        )
        assert life.ends_on is None and life.status == MembershipStatus.current


def test_an_imported_member_sets_a_password_with_the_emailed_link(
    app, client, tiers, tmp_path, deliver
):
    path = tmp_path / "members.csv"
    path.write_text(csv_text([good_row(1, language="fr")]))
    assert app.test_cli_runner().invoke(args=["members", "import", str(path)]).exit_code == 0
    [mail] = deliver().to("member1@example.org")
    assert mail["Subject"] == "Votre compte de membre : choisissez un mot de passe"
    [link] = [u for u in Mailbox.links(mail) if "/account/set-password/" in u]
    path_only = link.split("127.0.0.1", 1)[1].split("/", 1)[1]
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "member1@example.org"))
        assert user.password_hash.startswith("!unset:")
    # No password works before it is set: the sign-in is refused like any wrong password.
    refused = post_form(client, "/login", {"email": "member1@example.org", "password": "!unset:"})
    assert refused.status_code == 400
    assert client.get("/account", follow_redirects=False).status_code == 302
    response = post_form(
        client,
        "/" + path_only,
        {"password": "my new long password", "confirm": "my new long password"},
    )
    assert response.status_code == 303
    assert (
        post_form(
            client, "/login", {"email": "member1@example.org", "password": "my new long password"}
        ).status_code
        == 302
    )
    assert client.get("/" + path_only).status_code == 400  # the link worked once


def test_staff_import_through_the_screen_shows_each_problem(app, client, tiers, signed_in):
    signed_in("treasurer")
    rows = [good_row(1), good_row(2)]
    rows[1][1] = "Bad\nName"
    data = {"file": (io.BytesIO(csv_text(rows).encode()), "members.csv")}
    from tests.helpers import csrf_token

    data["csrf_token"] = csrf_token(client, "/treasurer/members/import")
    response = client.post(
        "/treasurer/members/import", data=data, content_type="multipart/form-data"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported: 1 problems" in page
    assert "<td>3</td><td>name</td>" in page
    assert count(app, Membership) == 0


def test_an_imported_auto_renewal_renews_through_its_existing_subscription(
    app, tiers, tmp_path, stripe_sim
):
    """A member who auto-renewed in the old system keeps their Stripe subscription."""
    from datetime import timedelta

    from core import clock
    from members import dates
    from payments.gateway import gateway

    # The old system's subscription, made at Stripe without us.
    with app.app_context():
        session = gateway().create_checkout_session(
            {
                "mode": "subscription",
                "line_items": [
                    {
                        "price_data": {
                            "currency": "cad",
                            "unit_amount": 5000,
                            "product_data": {"name": "Old membership"},
                            "recurring": {"interval": "year"},
                        },
                        "quantity": 1,
                    }
                ],
                "success_url": "http://127.0.0.1/done",
                "customer_email": "old@example.org",
            },
            "old-system-1",
        )
    stripe_sim.pay(session["id"])
    with app.app_context():
        paid = gateway().retrieve_checkout_session(session["id"])
        customer, subscription = paid["customer"], paid["subscription"]
        today = dates.today()
    ends_on = dates.add_years(today)
    path = tmp_path / "members.csv"
    path.write_text(
        csv_text(
            [[*good_row(1)[:3], ends_on.isoformat(), *good_row(1)[4:], customer, subscription]],
            header=[*HEADER, "stripe_customer_id", "stripe_subscription_id"],
        )
    )
    result = app.test_cli_runner().invoke(args=["members", "import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        membership = db.session.scalar(sa.select(Membership))
        assert membership.auto_renew and membership.recurring_payment_id is not None
        seconds = int((dates.local_noon(ends_on + timedelta(days=2)) - clock.now()).total_seconds())
    stripe_sim.advance(seconds=seconds)
    with app.app_context():
        membership = db.session.scalar(sa.select(Membership))
        assert membership.ends_on == dates.add_years(ends_on)
        assert membership.status == MembershipStatus.current


def test_malformed_stripe_ids_are_refused(app, tiers, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text(
        csv_text(
            [[*good_row(1), "cus_abc123456", "not-a-subscription"]],
            header=[*HEADER, "stripe_customer_id", "stripe_subscription_id"],
        )
    )
    result = app.test_cli_runner().invoke(args=["members", "import", str(path)])
    assert "Line 2 (stripe_subscription_id): A Stripe subscription id looks like sub_" in (
        result.output
    )
    assert count(app, Membership) == 0
