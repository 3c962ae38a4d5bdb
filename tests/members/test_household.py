"""A Family membership: the second adult accepts an emailed invitation and signs in alone."""

from urllib.parse import urlsplit

from members import entitlement
from members.models import MembershipStatus
from tests.helpers import Mailbox, post_form, sign_in
from tests.member_fixtures import confirm_and_sign_in, membership_row


def test_the_second_adult_accepts_signs_in_and_sees_the_household_membership(
    app, client, join, stripe_sim, deliver, make_user
):
    response, session_id = join(tier="family")
    stripe_sim.pay(session_id)
    confirm_and_sign_in(app, client)
    page = client.get("/account/membership").get_data(as_text=True)
    assert 'id="invite"' in page
    response = post_form(
        client,
        "/account/membership/household",
        {"name": "Omar Partner", "email": "omar@example.org"},
        token_from="/account/membership",
    )
    assert response.status_code == 303
    [invitation] = deliver().to("omar@example.org")
    assert invitation["Subject"] == "Ines Member invites you to share a membership"
    [link] = [u for u in Mailbox.links(invitation) if "/join/household/" in u]
    accept_path = urlsplit(link).path

    # The second adult has their own account and sign-in.
    other = app.test_client()
    make_user(email="omar@example.org", password="omar's own password", name="Omar Partner")
    assert "Sign in" in other.get(accept_path).get_data(as_text=True)
    assert sign_in(other, "omar@example.org", "omar's own password").status_code == 302
    response = post_form(other, accept_path, {})
    assert response.status_code == 303
    page = other.get("/account/membership").get_data(as_text=True)
    assert "You share the household membership of Ines Member" in page
    assert "Family" in page and '<span class="badge ok">Current</span>' in page
    assert 'id="auto-renew-on"' not in page and 'id="renew-now"' not in page  # the holder's
    api = other.get("/api/v1/me/membership").get_json()["membership"]
    assert (api["tier"], api["holder"], api["status"]) == ("family", False, "current")

    # One copy of Mondial for the household.
    membership = membership_row(app)
    with app.app_context():
        found = entitlement.recipients(membership.ends_on)
    assert [r.membership_id for r in found] == [membership.id]
    assert membership.status == MembershipStatus.current

    # The holder sees the second adult; the household is full.
    page = client.get("/account/membership").get_data(as_text=True)
    assert "Omar Partner · accepted" in page and 'id="invite"' not in page


def test_an_individual_membership_has_no_room_for_another_adult(app, client, join, stripe_sim):
    response, session_id = join(tier="individual")
    stripe_sim.pay(session_id)
    confirm_and_sign_in(app, client)
    response = post_form(
        client,
        "/account/membership/household",
        {"name": "Someone", "email": "someone@example.org"},
        token_from="/account/membership",
    )
    assert response.status_code == 404  # no household, no invitation form
