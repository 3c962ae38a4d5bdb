"""Households: a Family membership counts two adults, each with their own sign-in.

The holder invites the second adult by email; the invitation's link lets them sign in
(or create an account) and accept. Both then see the membership in their account; the
household still receives one copy of *Mondial*.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.db import db
from core.errors import Conflict, NotFound, ValidationError
from core.mail.services import normalise_email, queue_email
from core.tokens import make_token, read_token
from core.urls import absolute_url
from members.models import HouseholdMember
from members.validation import text_problem

#: Invitations are accepted within this many seconds (two weeks).
INVITATION_MAX_AGE = 14 * 24 * 3600


def seats_left(membership):
    taken = [h for h in membership.household if h.removed_at is None]
    return membership.tier.adults - 1 - len(taken)


def invite(membership, *, email, name, inviter):
    """Invite another adult into the household; emails them a link to accept."""
    email = normalise_email(email)
    if not membership.tier.household:
        raise Conflict(_l("Only a household membership has room for another adult."))
    if not membership.in_good_standing:
        raise Conflict(_l("Renew the membership before inviting someone into it."))
    problem = text_problem(name)
    if problem:
        raise ValidationError(problem, field="name")
    if email == membership.user.email:
        raise ValidationError(_l("That is your own address."), field="email")
    if seats_left(membership) <= 0:
        raise Conflict(_l("The household is full. Remove someone first to invite another adult."))
    existing = db.session.scalar(
        sa.select(HouseholdMember).where(
            HouseholdMember.membership_id == membership.id, HouseholdMember.email == email
        )
    )
    if existing is not None:
        existing.removed_at = None
        existing.accepted_at = None
        existing.user_id = None
        existing.invited_at = clock.now()
        existing.name = name.strip()
        place = existing
    else:
        place = HouseholdMember(membership=membership, email=email, name=name.strip())
        db.session.add(place)
    db.session.flush()
    audit.record("household.invited", membership, data={"email": email})
    token = make_token("household-invitation", {"id": place.id, "token": place.token})
    queue_email(
        email,
        "members/household_invitation",
        subject=_l(
            "%(name)s invites you to share a membership", name=inviter.name or inviter.email
        ),
        language=inviter.language,
        context={
            "inviter": inviter,
            "name": name.strip(),
            "tier_name": membership.tier.name(inviter.language),
            "accept_url": absolute_url("members.household_accept", token=token),
        },
    )
    return place


def invitation(token):
    """The open invitation a link names, or NotFound."""
    payload = read_token("household-invitation", token, max_age=INVITATION_MAX_AGE)
    place = db.session.get(HouseholdMember, payload.get("id"))
    if place is None or place.token != payload.get("token") or place.removed_at is not None:
        raise NotFound(_l("This invitation is no longer valid."))
    return place


def accept(token, user):
    """The signed-in person takes the seat the invitation offers."""
    from members.services import held_membership, household_place

    place = invitation(token)
    if place.user_id == user.id:
        return place
    if place.accepted_at is not None:
        raise Conflict(_l("This invitation has already been accepted."))
    own = held_membership(user)
    if own is not None and own.in_good_standing:
        raise Conflict(
            _l("You already hold a membership of your own, so you cannot join a household.")
        )
    other = household_place(user)
    if other is not None and other.id != place.id:
        raise Conflict(_l("You already belong to another household."))
    place.user_id = user.id
    place.accepted_at = clock.now()
    if not place.name:
        place.name = user.name
    audit.record("household.joined", place.membership, data={"user": user.id})
    return place


def remove(membership, place_id):
    place = db.session.get(HouseholdMember, place_id)
    if place is None or place.membership_id != membership.id or place.removed_at is not None:
        raise NotFound()
    place.removed_at = clock.now()
    place.user_id = None
    audit.record("household.removed", membership, data={"email": place.email})
    return place


def leave(user):
    from members.services import household_place

    place = household_place(user)
    if place is None:
        raise NotFound()
    place.removed_at = clock.now()
    place.user_id = None
    audit.record("household.left", place.membership, data={"user": user.id})
    return place


def members_of(membership):
    """The adults of a household: the holder first, then whoever accepted or is invited."""
    return [h for h in membership.household if h.removed_at is None]
