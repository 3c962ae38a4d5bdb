"""Auto-renewal, failures, grace and expiry, reminders: with the simulator's clock.

The simulator and the app share one clock; advancing it renews subscriptions at Stripe
and moves the app's "today" (in ORG_TIMEZONE) with it.
"""

from datetime import timedelta

import sqlalchemy as sa

from core.db import db
from members import dates
from members.models import DuesStatus, MembershipStatus
from payments.models import Payment
from tests.helpers import Mailbox, post_form
from tests.member_fixtures import (
    confirm_and_sign_in,
    dues_rows,
    membership_row,
    run_lifecycle,
    subjects,
    today,
)


def joined(app, join, stripe_sim, *, renewal="auto", card="success", tier="individual"):
    response, session_id = join(tier=tier, renewal=renewal)
    assert response.status_code == 303, response.get_data(as_text=True)
    stripe_sim.pay(session_id, card=card)
    return membership_row(app)


def advance_to(stripe_sim, app, day, hours=14):
    """Move both clocks to ``hours`` o'clock on ``day`` where the organization is."""
    with app.app_context():
        from core import clock

        target = dates.local_noon(day) + timedelta(hours=hours - 12)
        seconds = int((target - clock.now()).total_seconds())
    if seconds > 0:
        stripe_sim.advance(seconds=seconds)


def charges(app):
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Payment).where(Payment.charge_id.is_not(None))
        )


def test_a_yearly_auto_renewal_extends_the_term_by_exactly_one_year(
    app, client, join, stripe_sim, deliver
):
    membership = joined(app, join, stripe_sim)
    first_end = membership.ends_on
    assert membership.auto_renew and membership.renews_on == first_end
    assert first_end == dates.add_years(today(app))
    deliver().clear()
    advance_to(stripe_sim, app, first_end + timedelta(days=1))
    membership = membership_row(app)
    assert membership.status == MembershipStatus.current
    assert membership.ends_on == dates.add_years(first_end)
    assert membership.renews_on == dates.add_years(first_end)
    paid = [d for d in dues_rows(app) if d.status == DuesStatus.paid]
    assert [d.automatic for d in paid] == [False, True]
    assert (paid[1].starts_on, paid[1].ends_on) == (first_end, dates.add_years(first_end))
    assert charges(app) == 2
    assert "Your membership is renewed" in subjects(deliver())


def test_a_failed_renewal_keeps_the_member_in_grace_and_emails_a_link_to_fix_the_card(
    app, client, join, stripe_sim, deliver
):
    membership = joined(app, join, stripe_sim, card="renewal_fails")
    end = membership.ends_on
    deliver().clear()
    # Stripe tries the renewal at the hour of day the member first paid: by the next
    # morning it has been tried, whatever time of day the test runs.
    advance_to(stripe_sim, app, end + timedelta(days=1), hours=6)
    membership = membership_row(app)
    assert membership.status == MembershipStatus.grace
    assert membership.ends_on == end  # nothing added, nothing taken away
    mailbox = deliver()
    [failed] = [
        m
        for m in mailbox.to("ines@example.org")
        if m["Subject"] == "Your membership renewal could not be charged"
    ]
    mailbox.clear()
    assert any(link.endswith("/account/membership") for link in Mailbox.links(failed))
    confirm_and_sign_in(app, client)
    page = client.get("/account/membership").get_data(as_text=True)
    assert "Your last renewal could not be charged" in page and 'id="update-card"' in page
    # Stripe retries the same invoice: the member is told once.
    stripe_sim.advance(days=3)
    assert subjects(deliver()).count("Your membership renewal could not be charged") == 0


def test_grace_becomes_expired_after_30_days_through_the_lifecycle_command(
    app, client, join, stripe_sim
):
    membership = joined(app, join, stripe_sim, renewal="once")
    end = membership.ends_on
    advance_to(stripe_sim, app, end + timedelta(days=1), hours=1)
    assert "1 moves" in run_lifecycle(app)
    assert membership_row(app).status == MembershipStatus.grace
    advance_to(stripe_sim, app, end + timedelta(days=30), hours=23)
    run_lifecycle(app)
    assert membership_row(app).status == MembershipStatus.grace  # the last day of grace
    advance_to(stripe_sim, app, end + timedelta(days=31), hours=1)
    output = run_lifecycle(app)
    assert "Memberships on" in output  # the progress bar's label
    assert membership_row(app).status == MembershipStatus.expired
    assert "0 moves" in run_lifecycle(app)  # idempotent


def test_reminders_go_once_each_even_when_the_command_runs_twice_a_day(
    app, client, join, stripe_sim, deliver
):
    membership = joined(app, join, stripe_sim, renewal="once")
    end = membership.ends_on
    deliver().clear()
    sent = []
    for day, expected in (
        (end - timedelta(days=31), []),
        (end - timedelta(days=30), ["Your membership ends in a month"]),
        (end - timedelta(days=29), []),
        (end - timedelta(days=7), ["Your membership ends in a week"]),
        (end - timedelta(days=3), []),
        (end, ["Your membership has come to its end date"]),
        (end + timedelta(days=1), []),
    ):
        for hour in (1, 13):  # twice a day
            advance_to(stripe_sim, app, day, hours=hour)
            run_lifecycle(app)
        got = subjects(deliver())
        sent.append(got)
        assert got == expected, (day, got)
        deliver().clear()
    with app.app_context():
        from members.models import MembershipReminder

        assert db.session.scalar(sa.select(sa.func.count()).select_from(MembershipReminder)) == 3


def test_auto_renew_turned_on_mid_term_charges_nothing_until_the_end_date(
    app, client, join, stripe_sim, deliver
):
    membership = joined(app, join, stripe_sim, renewal="once")
    end = membership.ends_on
    assert charges(app) == 1
    confirm_and_sign_in(app, client)
    page = client.get("/account/membership").get_data(as_text=True)
    assert 'id="auto-renew-on"' in page
    response = post_form(
        client, "/account/membership/auto-renew", {"on": "1"}, token_from="/account/membership"
    )
    assert response.status_code == 303 and "/c/pay/cs_" in response.location
    stripe_sim.pay(response.location.rsplit("/", 1)[-1])
    welcome = client.get(
        "/join/welcome?session_id=" + response.location.rsplit("/", 1)[-1]
    ).get_data(as_text=True)
    assert "Nothing was charged today" in welcome
    membership = membership_row(app)
    assert membership.auto_renew and membership.renews_on == end
    assert membership.ends_on == end
    assert charges(app) == 1  # nothing charged now
    assert "On" in client.get("/account/membership").get_data(as_text=True)
    advance_to(stripe_sim, app, end - timedelta(days=1))
    assert charges(app) == 1  # still nothing the day before
    advance_to(stripe_sim, app, end + timedelta(days=1))
    membership = membership_row(app)
    assert charges(app) == 2
    assert membership.ends_on == dates.add_years(end)
    assert membership.status == MembershipStatus.current


def test_renew_now_is_not_offered_while_auto_renew_is_on(app, client, join, stripe_sim):
    joined(app, join, stripe_sim)
    confirm_and_sign_in(app, client)
    page = client.get("/account/membership").get_data(as_text=True)
    assert 'id="renew-now"' not in page and 'id="auto-renew-off"' in page
    response = post_form(
        client,
        "/join/individual",
        {"renewal": "once", "mondial_format": "digital"},
    )
    assert response.status_code == 400
    assert "turn auto-renew off first" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1


def test_turning_auto_renew_off_keeps_the_paid_term(app, client, join, stripe_sim):
    membership = joined(app, join, stripe_sim)
    end = membership.ends_on
    confirm_and_sign_in(app, client)
    response = post_form(
        client, "/account/membership/auto-renew", {"on": "0"}, token_from="/account/membership"
    )
    assert response.status_code == 303
    membership = membership_row(app)
    assert not membership.auto_renew and membership.ends_on == end
    assert membership.status == MembershipStatus.current
    advance_to(stripe_sim, app, end + timedelta(days=2))
    assert charges(app) == 1  # no renewal after it was turned off
    membership = membership_row(app)
    assert membership.ends_on == end and not membership.auto_renew
