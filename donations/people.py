"""A person's gifts, monthly gifts and receipts, as part of their record (see core.people).

Canada's rules decide what erasing may take: the CRA asks a charity to keep a copy of each
receipt for two years after the end of the calendar year it is for, and its books (the
amounts and dates of every gift) for six. So an erased donor's gifts keep their amounts,
dates, method and receipt numbers, and each receipt its frozen copy while it must be kept;
what only served to reach the donor (address, email, tribute notification) goes.
"""

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from core import clock
from core.db import db
from core.people import Column, Provider, Section, belongs, matches, search_rows, update_rows
from donations.models import Donation, MonthlyGift, MonthlyStatus, Receipt, ReceiptItem
from donations.staff_forms import KIND_LABELS, METHOD_LABELS, MONTHLY_STATUS_LABELS, STATUS_LABELS

RECEIPT_KIND_LABELS = {"official": _l("Official receipt"), "acknowledgement": _l("Acknowledgement")}

#: Years after the end of a receipt's tax year for which its copy is kept (CRA).
RECEIPT_COPY_YEARS = 2

#: What ties a gift to a person and nothing else: emptied on erasure.
CONTACT = {
    "donor_name": "",
    "organization_name": "",
    "address_line1": "",
    "address_line2": "",
    "city": "",
    "province": "",
    "postal_code": "",
}

DONATIONS = [
    Column("id", _l("Number")),
    Column("received_at", _l("Received"), "datetime"),
    Column("kind", _l("Kind"), labels=KIND_LABELS),
    Column("status", _l("Status"), labels=STATUS_LABELS),
    Column("fund", _l("Fund")),
    Column("amount", _l("Amount"), "money"),
    Column("fee_covered", _l("Fee covered"), "money"),
    Column("refunded", _l("Refunded"), "money"),
    Column("method", _l("Method"), labels=METHOD_LABELS),
    Column("reference", _l("Reference")),
    Column("donor_name", _l("Name")),
    Column("organization_name", _l("Organisation")),
    Column("email", _l("Email")),
    Column("postal_address", _l("Address")),
    Column("anonymous", _l("Anonymous"), "bool"),
    Column("tribute_name", _l("In tribute to")),
    Column("tribute_notify_email", _l("Tribute notified"), detail=True),
    Column("monthly_gift_id", _l("Monthly gift")),
    Column("created_at", _l("Started"), "datetime"),
]

MONTHLY = [
    Column("id", _l("Number")),
    Column("created_at", _l("Started"), "datetime"),
    Column("status", _l("Status"), labels=MONTHLY_STATUS_LABELS),
    Column("fund", _l("Fund")),
    Column("amount", _l("Each month"), "money"),
    Column("charged", _l("Charged each month"), "money"),
    Column("annual_receipt", _l("One receipt a year"), "bool"),
    Column("donor_name", _l("Name")),
    Column("email", _l("Email")),
    Column("postal_address", _l("Address")),
    Column("paid_through", _l("Paid through"), "datetime"),
    Column("cancelled_at", _l("Cancelled"), "datetime"),
]

RECEIPTS = [
    Column("number", _l("Receipt")),
    Column("kind", _l("Kind"), labels=RECEIPT_KIND_LABELS),
    Column("year", _l("Year")),
    Column("issued_on", _l("Issued"), "date"),
    Column("amount", _l("Amount"), "money"),
    Column("eligible_amount", _l("Eligible amount"), "money"),
    Column("donor_name", _l("Name")),
    Column("donor_address", _l("Address")),
    Column("email", _l("Email")),
    Column("voided_at", _l("Void since"), "datetime"),
    Column("kept_until", _l("Copy kept until"), "date"),
]


def kept_until(year):
    """The last day a receipt for ``year`` must be kept."""
    return date(year + RECEIPT_COPY_YEARS, 12, 31)


def _gift_row(gift, columns):
    row = {c.key: getattr(gift, c.key) for c in columns if c.key != "fund"}
    row["fund"] = gift.fund.name(gift.language)
    return row


def _their_receipts(person):
    on_their_gifts = (
        sa.select(ReceiptItem.receipt_id)
        .join(Donation, ReceiptItem.donation_id == Donation.id)
        .where(belongs(Donation.email, Donation.user_id, person))
    )
    return sa.or_(matches(Receipt.email, person), Receipt.id.in_(on_their_gifts))


def sections(person):
    gifts = db.session.scalars(
        sa.select(Donation)
        .where(belongs(Donation.email, Donation.user_id, person))
        .options(joinedload(Donation.fund))
        .order_by(Donation.id.desc())
    ).all()
    monthly = db.session.scalars(
        sa.select(MonthlyGift)
        .where(belongs(MonthlyGift.email, MonthlyGift.user_id, person))
        .options(joinedload(MonthlyGift.fund))
        .order_by(MonthlyGift.id.desc())
    ).all()
    receipts = db.session.scalars(
        sa.select(Receipt).where(_their_receipts(person)).order_by(Receipt.id.desc())
    ).all()
    receipt_rows = [
        {c.key: getattr(r, c.key) for c in RECEIPTS if c.key != "kept_until"}
        | {"kept_until": kept_until(r.year)}
        for r in receipts
    ]
    return [
        Section(
            "monthly_gifts", _l("Monthly gifts"), MONTHLY, [_gift_row(g, MONTHLY) for g in monthly]
        ),
        Section("donations", _l("Gifts"), DONATIONS, [_gift_row(g, DONATIONS) for g in gifts]),
        Section("receipts", _l("Receipts"), RECEIPTS, receipt_rows),
    ]


def search(term, limit):
    return search_rows(term, limit, Donation.email, Donation.donor_name, Donation.organization_name)


def blockers(person):
    running = db.session.scalar(
        sa.select(sa.func.count(MonthlyGift.id)).where(
            belongs(MonthlyGift.email, MonthlyGift.user_id, person),
            MonthlyGift.status.in_((MonthlyStatus.active, MonthlyStatus.past_due)),
        )
    )
    if running:
        return [_l("A monthly gift is still running: cancel it first.")]
    return []


def erase(person, placeholder):
    contact = CONTACT | {"email": placeholder}
    # Receipts first: they are found through their gifts' address, which is about to go.
    receipts = update_rows(Receipt, _their_receipts(person), email=placeholder)
    # A copy past its keeping period keeps its numbers, not whom it was for.
    expired = update_rows(
        Receipt,
        Receipt.email == placeholder,
        Receipt.year < clock.today().year - RECEIPT_COPY_YEARS,
        donor_name="",
        donor_address="",
    )
    gifts = update_rows(
        Donation,
        belongs(Donation.email, Donation.user_id, person),
        **contact,
        tribute_name="",
        tribute_notify_email="",
    )
    monthly = update_rows(
        MonthlyGift, belongs(MonthlyGift.email, MonthlyGift.user_id, person), **contact
    )
    # Someone else's gift in their honour, which was to tell them about it.
    notices = update_rows(
        Donation, matches(Donation.tribute_notify_email, person), tribute_notify_email=""
    )
    return {
        "tribute_notices": notices,
        "gifts": gifts,
        "monthly_gifts": monthly,
        "receipts_kept": receipts,
        "receipt_copies_past_keeping": expired,
    }


def merge(source, target):
    moved = {"email": target.email, "user_id": target.user_id}
    receipts = update_rows(Receipt, _their_receipts(source), email=target.email)
    gifts = update_rows(Donation, belongs(Donation.email, Donation.user_id, source), **moved)
    monthly = update_rows(
        MonthlyGift, belongs(MonthlyGift.email, MonthlyGift.user_id, source), **moved
    )
    return {"gifts": gifts, "monthly_gifts": monthly, "receipts": receipts}


provider = Provider(
    "donations",
    sections,
    search=search,
    blockers=blockers,
    erase=erase,
    merge=merge,
    order=10,
)
