"""A person's membership, its dues and household places, as part of their record.

Dues are the books: an erased member's dues keep their amounts, dates and receipts; the
membership ends, its mailing address and staff note go, and their places in households
are removed.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from core.db import db
from core.people import CannotMerge, Column, Provider, Section, belongs, holds
from members.forms import DUES_STATUS_LABELS, FORMAT_LABELS, METHOD_LABELS, STATUS_LABELS
from members.models import (
    Dues,
    HouseholdMember,
    Membership,
    MembershipStatus,
    membership_states,
)

MEMBERSHIP = [
    Column("id", _l("Number")),
    Column("tier", _l("Tier")),
    Column("status", _l("Status"), labels=STATUS_LABELS),
    Column("started_on", _l("Member since"), "date"),
    Column("ends_on", _l("Paid until"), "date"),
    Column("auto_renew", _l("Renews automatically"), "bool"),
    Column("mondial_format", _l("Mondial"), labels=FORMAT_LABELS),
    Column("mailing_name", _l("Name")),
    Column("postal_address", _l("Address")),
    Column("note", _l("Staff note"), detail=True),
]

DUES = [
    Column("id", _l("Number")),
    Column("tier", _l("Tier")),
    Column("status", _l("Status"), labels=DUES_STATUS_LABELS),
    Column("method", _l("Method"), labels=METHOD_LABELS),
    Column("amount", _l("Amount"), "money"),
    Column("refunded", _l("Refunded"), "money"),
    Column("starts_on", _l("From"), "date"),
    Column("ends_on", _l("To"), "date"),
    Column("received_at", _l("Received"), "datetime"),
    Column("reference", _l("Reference")),
    Column("receipt_id", _l("Receipt")),
]

HOUSEHOLD = [
    Column("id", _l("Number")),
    Column("membership_id", _l("Membership")),
    Column("name", _l("Name")),
    Column("email", _l("Email")),
    Column("invited_at", _l("Invited"), "datetime"),
    Column("accepted_at", _l("Accepted"), "datetime"),
    Column("removed_at", _l("Removed"), "datetime"),
]


def _membership(person):
    if person.user_id is None:
        return None
    return db.session.scalar(
        sa.select(Membership)
        .where(Membership.user_id == person.user_id)
        .options(
            joinedload(Membership.tier),
            selectinload(Membership.dues).joinedload(Dues.tier),
        )
    )


def _places(person):
    return db.session.scalars(
        sa.select(HouseholdMember)
        .where(belongs(HouseholdMember.email, HouseholdMember.user_id, person))
        .order_by(HouseholdMember.id)
    ).all()


def _row(obj, columns, **extra):
    return {c.key: getattr(obj, c.key) for c in columns if c.key not in extra} | extra


def sections(person):
    membership = _membership(person)
    rows, dues = [], []
    if membership is not None:
        rows.append(_row(membership, MEMBERSHIP, tier=membership.tier.name_en))
        dues = [_row(d, DUES, tier=d.tier.name_en) for d in membership.dues]
    places = [_row(p, HOUSEHOLD) for p in _places(person)]
    return [
        Section("membership", _l("Membership"), MEMBERSHIP, rows),
        Section("dues", _l("Membership dues"), DUES, dues),
        Section("household", _l("Household places"), HOUSEHOLD, places),
    ]


def search(term, limit):
    from core.accounts.models import User

    return list(
        db.session.execute(
            sa.select(User.email, Membership.mailing_name)
            .join(User, Membership.user_id == User.id)
            .where(holds(Membership.mailing_name, term))
            .order_by(User.email)
            .limit(limit)
        )
    )


def blockers(person):
    membership = _membership(person)
    if membership is not None and membership.auto_renew:
        return [_l("The membership renews automatically: stop its renewal first.")]
    return []


def erase(person, placeholder):
    membership = _membership(person)
    done = {}
    if membership is not None:
        if membership.status != MembershipStatus.cancelled:
            # No one is left to send Mondial to, or to count as a member.
            membership_states.move(
                membership, MembershipStatus.cancelled, data={"reason": "personal data erased"}
            )
        membership.mailing_name = ""
        membership.address_line1 = membership.address_line2 = ""
        membership.city = membership.province = membership.postal_code = ""
        membership.note = ""
        done["memberships"] = 1
        done["dues_kept"] = len(membership.dues)
    places = _places(person)
    for place in places:
        db.session.delete(place)
    done["household_places"] = len(places)
    return done


def merge(source, target):
    done = {}
    membership = _membership(source)
    if membership is not None and target.user is not source.user:
        if _membership(target) is not None:
            raise CannotMerge(_l("Both records have a membership: end one of them before merging."))
        membership.user_id = target.user_id
        done["memberships"] = 1
    theirs = {(p.membership_id, p.email) for p in _places(target)}
    target_has_place = target.user_id is not None and any(
        p.user_id == target.user_id for p in _places(target)
    )
    moved = 0
    for place in _places(source):
        if (place.membership_id, target.email) in theirs or (
            place.user_id is not None and target_has_place
        ):
            db.session.delete(place)  # the same place twice, or a second one for A's account
            continue
        place.email = target.email
        if place.user_id is not None:
            place.user_id = target.user_id
        moved += 1
    done["household_places"] = moved
    return done


provider = Provider(
    "members",
    sections,
    search=search,
    blockers=blockers,
    erase=erase,
    merge=merge,
    order=20,
)
