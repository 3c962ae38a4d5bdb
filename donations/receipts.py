"""Issuing receipts: which gifts get one, serial numbers, voiding and replacing.

With ``CHARITY_REGISTRATION_NUMBER`` set, receipts are official donation receipts for
income tax purposes (Canada Revenue Agency rules); without it they are acknowledgements
that say no tax receipt is issued. Dates are in ``ORG_TIMEZONE``: a gift made at 21:00 on
31 December in Toronto belongs to that year, whatever UTC says.
"""

from dataclasses import dataclass, replace

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core import audit, clock
from core.db import db, is_postgres, locked
from core.mail.services import DrawnAttachment, queue_email
from core.settings import get_setting
from core.tokens import ExpiredLink, InvalidLink, make_token, read_token
from core.urls import absolute_url
from donations.models import (
    Donation,
    DonationKind,
    DonationStatus,
    MonthlyGift,
    Receipt,
    ReceiptCounter,
    ReceiptItem,
    ReceiptKind,
)
from donations.receipts_pdf import GiftLine, ReceiptDocument, render_receipt_pdf

#: An advantage up to the lesser of $75 and 10 % of the gift is ignored (de minimis).
DE_MINIMIS_CAP = 7500
# Above 80 % of the gift, the CRA does not see a gift at all: no receipt.

SETTING_DEFAULTS = {
    "receipts.min_amount": 0,  # cents; smaller gifts get a thank-you without a receipt
    "receipts.place_of_issue": "Ottawa, Ontario",
    "receipts.signer_name": "Dana Demo",
    "receipts.signer_title": "Treasurer",
    "receipts.signer_title_fr": "Trésorier",
}


def setting(key):
    return get_setting(key, SETTING_DEFAULTS[key])


def signer_title(language):
    """The signer's title as printed on a receipt in ``language``."""
    return setting("receipts.signer_title_fr" if language == "fr" else "receipts.signer_title")


def official():
    return bool(current_app.config.get("CHARITY_REGISTRATION_NUMBER"))


@dataclass(frozen=True)
class Eligibility:
    advantage: int  # as printed (0 when de minimis)
    eligible: int


def eligibility(amount, advantage):
    """Apply the CRA's advantage rules; None when no receipt may be issued."""
    if advantage * 10 > amount * 8:  # more than 80 %, in whole cents
        return None
    if advantage <= DE_MINIMIS_CAP and advantage * 10 <= amount:
        advantage = 0
    return Eligibility(advantage=advantage, eligible=amount - advantage)


def next_serial(year):
    """The next serial number of tax ``year``; the year's counter row stays locked until the
    transaction ends.

    Serials restart at 1 each year (printed ``2027-000001``). Two transactions issuing at
    once queue on the lock, so serials are consecutive within a year and never reused; a
    rolled-back transaction gives its number back.
    """
    insert = pg_insert if is_postgres() else sqlite_insert
    db.session.execute(
        insert(ReceiptCounter)
        .values(id=year, last_serial=0)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    counter = locked(sa.select(ReceiptCounter).where(ReceiptCounter.id == year)).one()
    counter.last_serial += 1
    db.session.flush()
    return counter.last_serial


def receiptable(donation):
    return donation.status == DonationStatus.paid and donation.kept > 0


def issue(donations, *, annual=False, replaces=None):
    """Issue one receipt for these gifts of one donor; None if the rules allow none."""
    donations = [d for d in donations if receiptable(d)]
    if not donations:
        return None
    amount = sum(d.kept for d in donations)
    if amount < setting("receipts.min_amount") and replaces is None:
        return None
    rules = eligibility(amount, sum(d.advantage for d in donations))
    if rules is None:
        return None
    first = donations[0]
    dates = [clock.local_date(d.received_at) for d in donations]
    kind = ReceiptKind.official if official() else ReceiptKind.acknowledgement
    config = current_app.config
    receipt = Receipt(
        kind=kind,
        serial=next_serial(max(dates).year) if kind == ReceiptKind.official else None,
        year=max(dates).year,
        annual=annual,
        language=first.language,
        issued_at=clock.now(),
        issued_on=clock.local_date(clock.now()),
        received_on=None if annual else dates[0],
        email=first.email,
        donor_name=first.receipt_name,
        donor_address=first.postal_address,
        amount=amount,
        advantage=rules.advantage,
        advantage_description=" ; ".join(
            d.advantage_description for d in donations if d.advantage_description
        )
        if rules.advantage
        else "",
        eligible_amount=rules.eligible,
        fund_name=first.fund.name(first.language) if not annual else "",
        org_name=config["ORG_NAME"],
        org_address=config["ORG_ADDRESS"],
        registration_number=config.get("CHARITY_REGISTRATION_NUMBER"),
        place_of_issue=setting("receipts.place_of_issue"),
        signer_name=setting("receipts.signer_name"),
        signer_title=signer_title(first.language),
        replaces=replaces,
        items=[
            ReceiptItem(donation=d, received_on=day, amount=d.kept)
            for d, day in zip(donations, dates, strict=True)
        ],
    )
    db.session.add(receipt)
    db.session.flush()
    audit.record(
        "receipt.issued",
        receipt,
        data={"serial": receipt.number, "amount": amount, "replaces": replaces and replaces.id},
    )
    return receipt


def void(receipt, reason):
    """Mark a receipt void; it is kept, and its gifts may be receipted again."""
    if receipt.is_void:
        return False
    receipt.voided_at = clock.now()
    receipt.void_reason = reason[:300]
    for item in receipt.items:
        item.current = False
    db.session.flush()
    audit.record("receipt.voided", receipt, data={"serial": receipt.number, "reason": reason})
    return True


def reconcile(donation, reason):
    """Bring the gift's receipt in line with what the donor kept after a refund or dispute.

    The receipt is voided and, for what remains, replaced by one that says it cancels and
    replaces it (an annual receipt keeps its other gifts). Returns the new receipt, if any.
    """
    current = donation.current_receipt
    if current is None:
        return None
    item = next(i for i in current.items if i.donation_id == donation.id)
    if item.amount == donation.kept and receiptable(donation):
        return None
    return _replace(current, [i.donation for i in current.items], reason)


#: Why a receipt was cancelled, as the donor is told (``reason`` is the audit log's word).
WHY_VOID = {
    "refund": _l("your gift was refunded"),
    "charged back": _l("the payment was reversed after a dispute with your bank"),
}


def _replace(receipt, donations, reason):
    """Void a receipt and issue one that cancels and replaces it, for what is still given.

    When nothing is left to receipt (a full refund, a lost dispute), the donor is told by
    email, in their language, that the receipt is cancelled and why.
    """
    void(receipt, reason)
    replacement = issue(donations, annual=receipt.annual, replaces=receipt)
    if replacement is not None:
        send(replacement, template="donations/receipt_replaced")
    else:
        with force_locale(receipt.language):
            why = str(WHY_VOID.get(reason, _l("your gift was changed")))
            queue_email(
                receipt.email,
                "donations/receipt_voided",
                subject=SUBJECTS["donations/receipt_voided"],
                language=receipt.language,
                context={"receipt": receipt, "why": why},
            )
    return replacement


def replaced_by(receipt):
    return db.session.scalar(sa.select(Receipt).where(Receipt.replaces_id == receipt.id))


def restore(donation, reason):
    """After a refund failed, put the whole gift back on a receipt in force.

    The gift's last receipt may have been voided without a replacement (a full refund), or
    replaced by one without this gift (an annual receipt keeps the other months): the
    newest receipt of that chain is replaced by one that includes the gift again.
    """
    if donation.current_receipt is not None:
        return reconcile(donation, reason)
    if not donation.receipt_items:
        return None
    newest = max((item.receipt for item in donation.receipt_items), key=lambda r: r.id)
    while (later := replaced_by(newest)) is not None:
        newest = later
    gifts = [item.donation for item in newest.items]
    if donation not in gifts:
        gifts.append(donation)
    return _replace(newest, gifts, reason)


def _annual_gifts(year):
    """Monthly gifts of ``year`` whose donors asked for one annual receipt, not yet receipted."""
    start, end = clock.year_bounds(year)
    receipted = sa.select(ReceiptItem.donation_id).where(ReceiptItem.current.is_(True))
    return (
        sa.select(Donation)
        .join(MonthlyGift, Donation.monthly_gift_id == MonthlyGift.id)
        .where(
            Donation.kind == DonationKind.monthly,
            MonthlyGift.annual_receipt.is_(True),
            Donation.status == DonationStatus.paid,
            Donation.received_at >= start,
            Donation.received_at < end,
            Donation.id.not_in(receipted),
        )
        .order_by(Donation.monthly_gift_id, Donation.received_at, Donation.id)
    )


def gifts_for_annual(year):
    return db.session.scalars(_annual_gifts(year)).all()


def annual_donors(year):
    """The monthly gifts with gifts in ``year`` still to receipt."""
    return sorted({d.monthly_gift_id for d in gifts_for_annual(year)})


def issue_annual_for(monthly_gift_id, year):
    """The annual receipt of one monthly donor, their gifts locked while it is issued.

    A refund handled at the same moment waits for it (and then corrects the receipt), or
    goes first (and the receipt shows what is left): never a receipt for money returned.
    """
    donations = locked(_annual_gifts(year).where(Donation.monthly_gift_id == monthly_gift_id)).all()
    receipt = issue(donations, annual=True)
    if receipt is not None:
        send(receipt, template="donations/receipt_annual")
    return receipt


def document(receipt):
    """The printable form of a receipt row."""
    return ReceiptDocument(
        kind=receipt.kind.value,
        language=receipt.language,
        serial=receipt.number,
        org_name=receipt.org_name,
        org_address=receipt.org_address,
        place_of_issue=receipt.place_of_issue,
        issued_on=receipt.issued_on,
        donor_name=receipt.donor_name,
        donor_address=receipt.donor_address,
        amount=receipt.amount,
        advantage=receipt.advantage,
        advantage_description=receipt.advantage_description,
        eligible_amount=receipt.eligible_amount,
        received_on=receipt.received_on,
        year=receipt.year if receipt.annual else None,
        gifts=tuple(GiftLine(i.received_on, i.amount) for i in receipt.items)
        if receipt.annual
        else (),
        registration_number=receipt.registration_number,
        signer_name=receipt.signer_name,
        signer_title=receipt.signer_title,
        replaces_serial=receipt.replaces.number if receipt.replaces else None,
        void=receipt.is_void,
        void_reason=receipt.void_reason,
        fund_name=receipt.fund_name,
        org_website=current_app.config["BASE_URL"],
    )


def pdf(receipt):
    return render_receipt_pdf(document(receipt))


#: The outbox draws receipts' PDFs under this name (see :func:`attachment`).
PDF_RENDERER = "donations.receipt_pdf"


def attachment(receipt):
    """The receipt's PDF for an email, drawn when the email is sent (not in this transaction)."""
    return DrawnAttachment(
        filename(receipt), "application/pdf", PDF_RENDERER, {"receipt_id": receipt.id}
    )


def pdf_as_issued(receipt_id):
    """The PDF the donor was sent: the receipt's frozen data, as it stood when issued.

    A receipt voided before its email went out is sent as it was issued; the voiding is
    told in an email of its own.
    """
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None:
        raise LookupError(f"receipt {receipt_id} no longer exists")
    return render_receipt_pdf(replace(document(receipt), void=False, void_reason=""))


def filename(receipt):
    if receipt.kind == ReceiptKind.official:
        stem = "recu" if receipt.language == "fr" else "receipt"
        return f"{stem}-{receipt.number}.pdf"
    stem = "accuse-de-reception" if receipt.language == "fr" else "acknowledgement"
    return f"{stem}-{receipt.id}.pdf"


SUBJECTS = {
    "donations/receipt_replaced": _l("Your corrected receipt"),
    "donations/receipt_voided": _l("Your receipt is cancelled"),
    "donations/receipt_annual": _l("Your annual receipt"),
    "donations/receipt": _l("Your receipt"),
}


def send(receipt, template="donations/receipt", extra=None):
    """Email a receipt as a PDF attachment, in the donor's language."""
    with force_locale(receipt.language):
        context = {
            "receipt": receipt,
            "download_url": link(receipt),
            **(extra or {}),
        }
        return queue_email(
            receipt.email,
            template,
            subject=SUBJECTS[template],
            language=receipt.language,
            context=context,
            attachments=[attachment(receipt)],
        )


def by_token(token):
    return db.session.scalar(sa.select(Receipt).where(Receipt.token == token))


# -- links to a receipt ---------------------------------------------------------------------

LINK_PURPOSE = "receipt"


def link_token(receipt):
    """A signed token for the receipt's download link; it expires after RECEIPT_LINK_MAX_AGE."""
    return make_token(LINK_PURPOSE, receipt.token)


def link(receipt):
    """The absolute download address of a receipt, for an email."""
    return absolute_url("donations.receipt_pdf", token=link_token(receipt))


def path(receipt):
    """The download address of a receipt on one of our pages (signed now, like an email's)."""
    return url_for("donations.receipt_pdf", token=link_token(receipt))


def from_link(token):
    """The receipt a link names and whether the link has expired: ``(receipt, expired)``.

    ``(None, False)`` when the link is not one of ours. Links sent before they were signed
    carry the receipt's bare token: they are treated as expired, so the donor can ask for
    a fresh one.
    """
    try:
        payload = read_token(LINK_PURPOSE, token)
    except InvalidLink:
        receipt = by_token(token)
        return receipt, receipt is not None
    receipt = by_token(payload) if isinstance(payload, str) else None
    if receipt is None:
        return None, False
    try:
        read_token(LINK_PURPOSE, token, max_age=current_app.config["RECEIPT_LINK_MAX_AGE"])
    except ExpiredLink:
        return receipt, True
    return receipt, False


def send_link(receipt):
    """Email a fresh download link to the address the receipt was sent to."""
    with force_locale(receipt.language):
        return queue_email(
            receipt.email,
            "donations/receipt_link",
            subject=_l("A new link to your receipt"),
            language=receipt.language,
            context={"receipt": receipt, "download_url": link(receipt)},
        )


def issue_for_dues(
    *,
    amount,
    advantage,
    advantage_description,
    received_at,
    name,
    address,
    email,
    language,
    description,
    replaces=None,
):
    """An official receipt for the gift part of membership dues (split receipting).

    Dues buy a benefit (the advantage, at its fair market value); what is paid above it is
    a gift, receipted under the same rules as any gift. The receipt has no gift rows: the
    dues row that asked for it keeps it. None when no official receipt may be issued.
    """
    if not official():
        return None
    rules = eligibility(amount, advantage)
    if rules is None or rules.eligible <= 0:
        return None
    if amount < setting("receipts.min_amount") and replaces is None:
        return None
    config = current_app.config
    received_on = clock.local_date(received_at)
    receipt = Receipt(
        kind=ReceiptKind.official,
        serial=next_serial(received_on.year),
        year=received_on.year,
        language=language,
        issued_at=clock.now(),
        issued_on=clock.local_date(clock.now()),
        received_on=received_on,
        email=email,
        donor_name=name,
        donor_address=address,
        amount=amount,
        advantage=rules.advantage,
        advantage_description=advantage_description if rules.advantage else "",
        eligible_amount=rules.eligible,
        fund_name=description,
        org_name=config["ORG_NAME"],
        org_address=config["ORG_ADDRESS"],
        registration_number=config.get("CHARITY_REGISTRATION_NUMBER"),
        place_of_issue=setting("receipts.place_of_issue"),
        signer_name=setting("receipts.signer_name"),
        signer_title=signer_title(language),
        replaces=replaces,
    )
    db.session.add(receipt)
    db.session.flush()
    audit.record(
        "receipt.issued",
        receipt,
        data={
            "serial": receipt.number,
            "amount": amount,
            "dues": True,
            "replaces": replaces and replaces.id,
        },
    )
    return receipt
