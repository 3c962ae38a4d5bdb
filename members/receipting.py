"""Receipts and acknowledgements of dues, through the donations receipts machinery.

Where the organization is a registered charity (``CHARITY_REGISTRATION_NUMBER``) and staff
allow it (``members.receipt_dues``), the part of the dues above the fair market value of
the membership's benefits is a gift and gets an official receipt (split receipting, with
the CRA's advantage rules of :mod:`donations.receipts`). Otherwise the member gets an
acknowledgement of the dues, which says that it is not a tax receipt.
"""

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from core import audit
from core.db import db
from core.mail.services import queue_email
from core.urls import absolute_url
from donations import receipts
from donations.models import Receipt
from members import dates
from members.models import Dues, DuesStatus


def receipting_allowed():
    from members.services import setting

    return receipts.official() and bool(setting("members.receipt_dues"))


def _issue(dues, amount, replaces=None):
    membership = dues.membership
    tier = dues.tier
    language = dues.language
    with force_locale(language):
        description = str(_l("Membership dues: %(tier)s", tier=tier.name(language)))
    advantage_description = tier.advantage_description(language) or str(
        _l("Membership benefits, including Mondial")
    )
    # The tax, if any, is not part of the gift.
    return receipts.issue_for_dues(
        amount=amount - dues.tax,
        advantage=dues.advantage,
        advantage_description=advantage_description,
        received_at=dues.received_at,
        name=membership.mailing_name or membership.user.name,
        address=membership.postal_address,
        email=membership.user.email,
        language=language,
        description=description,
        replaces=replaces,
    )


def receipt_of(dues):
    return db.session.get(Receipt, dues.receipt_id) if dues.receipt_id else None


SUBJECTS = {
    "joined": _l("Welcome: your membership"),
    "renewed": _l("Your membership is renewed"),
    "offline": _l("Your membership dues are received"),
}


def acknowledge(dues, kind=None):
    """Issue the receipt (where allowed) and email the member what their dues bought."""
    if dues.is_grant or dues.amount == 0:
        return None
    receipt = None
    if receipting_allowed() and dues.receipt_id is None:
        receipt = _issue(dues, dues.kept)
        if receipt is not None:
            dues.receipt_id = receipt.id
    membership = dues.membership
    user = membership.user
    if kind is None:
        if dues.method.value in ("cheque", "cash", "e-transfer"):
            kind = "offline"
        elif membership.dues[0].id == dues.id or not any(
            d.status == DuesStatus.paid and d.id != dues.id for d in membership.dues
        ):
            kind = "joined"
        else:
            kind = "renewed"
    attachments = []
    context = {
        "dues": dues,
        "membership": membership,
        "tier_name": dues.tier.name(dues.language),
        "receipt": receipt,
        "received_on": dates.local_date(dues.received_at),
        "account_url": absolute_url("members.account"),
        "verify_needed": not user.is_verified,
        "kind": kind,
    }
    if receipt is not None:
        attachments.append((receipts.filename(receipt), "application/pdf", receipts.pdf(receipt)))
        context["download_url"] = receipts.link(receipt)
    return queue_email(
        user.email,
        "members/dues",
        subject=SUBJECTS[kind],
        language=dues.language,
        context=context,
        attachments=attachments,
    )


def reconcile(dues, reason):
    """After a refund or a lost dispute: void the receipt, and reissue it for what is kept."""
    current = receipt_of(dues)
    if current is None or current.is_void:
        return None
    kept = dues.kept if dues.status in (DuesStatus.paid, DuesStatus.refunded) else 0
    if kept == current.amount + dues.tax and dues.status == DuesStatus.paid:
        return None
    receipts.void(current, reason)
    replacement = _issue(dues, kept, replaces=current) if kept > 0 else None
    dues.receipt_id = replacement.id if replacement is not None else current.id
    _tell_receipt_changed(dues, current, replacement, reason)
    return replacement


def restore(dues, reason):
    """A refund failed: the member kept paying after all, so the receipt comes back."""
    current = receipt_of(dues)
    if current is None or not current.is_void or dues.status != DuesStatus.paid:
        return None
    replacement = _issue(dues, dues.kept, replaces=current)
    if replacement is not None:
        dues.receipt_id = replacement.id
        _tell_receipt_changed(dues, current, replacement, reason)
    return replacement


def _tell_receipt_changed(dues, old, new, reason):
    membership = dues.membership
    audit.record(
        "dues.receipt_changed",
        dues,
        data={"old": old.id, "new": new.id if new else None, "reason": reason},
    )
    attachments = []
    if new is not None:
        attachments.append((receipts.filename(new), "application/pdf", receipts.pdf(new)))
    queue_email(
        membership.user.email,
        "members/receipt_changed",
        subject=_l("Your receipt for membership dues is corrected")
        if new is not None
        else _l("Your receipt for membership dues is cancelled"),
        language=dues.language,
        context={"old": old, "new": new, "reason": reason, "dues": dues},
        attachments=attachments,
    )


def member_documents(membership):
    """Every dues row a member may see, newest first, with its receipt if any."""
    rows = [d for d in membership.dues if d.status != DuesStatus.pending and not d.is_grant]
    rows.sort(key=lambda d: (d.received_at is None, d.received_at), reverse=True)
    return [(d, receipt_of(d)) for d in rows if d.received_at is not None]


def dues_for_member(dues_id, user):
    """A dues row of the member's own membership (or their household's), or None."""
    from members.services import membership_of

    dues = db.session.get(Dues, dues_id)
    mine = membership_of(user)
    if dues is None or mine is None or dues.membership_id != mine.id:
        return None
    return dues
