"""The list of gifts as a spreadsheet (CSV) for the treasurer."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import clock
from core.db import db
from core.money import to_decimal
from donations.handlers import PURPOSE
from donations.models import Donation, Fund, Receipt, ReceiptItem
from donations.queries import filter_conditions, newest_first
from payments.models import Allocation, Payment

EXPORT_COLUMNS = (
    _l("Gift"),
    _l("Date received"),
    _l("Time received"),
    _l("Status"),
    _l("Kind"),
    _l("Method"),
    _l("Reference"),
    _l("Fund"),
    _l("Donor"),
    _l("Organization"),
    _l("Email"),
    _l("Address"),
    _l("Address line 2"),
    _l("City"),
    _l("Province"),
    _l("Postal code"),
    _l("Country"),
    _l("Language"),
    _l("Gift amount"),
    _l("Fee covered"),
    _l("Total paid"),
    _l("Refunded"),
    _l("Kept"),
    _l("Advantage"),
    _l("Advantage description"),
    _l("Receipt"),
    _l("Eligible amount"),
    _l("Anonymous"),
    _l("Tribute"),
    _l("Tribute name"),
    _l("Monthly gift"),
    _l("Payment"),
    _l("Stripe charge"),
    _l("Stripe fee"),
    _l("Net"),
)


def export_header():
    return [str(column) for column in EXPORT_COLUMNS]


def export_rows(filters):
    """The CSV rows for ``filters``, fetched from the database while they are written.

    The filters are checked now, so a bad one is refused before the download starts.
    """
    conditions = filter_conditions(filters)
    query = (
        sa.select(
            Donation, Fund.slug, Payment.charge_id, Receipt, Allocation.amount, Allocation.fee
        )
        .join(Fund, Donation.fund_id == Fund.id)
        .outerjoin(Payment, Donation.payment_id == Payment.id)
        .outerjoin(
            Allocation,
            sa.and_(
                Allocation.payment_id == Donation.payment_id,
                Allocation.purpose == PURPOSE,
                Allocation.row_id == Donation.id,
            ),
        )
        .outerjoin(
            ReceiptItem,
            sa.and_(ReceiptItem.donation_id == Donation.id, ReceiptItem.current.is_(True)),
        )
        .outerjoin(Receipt, ReceiptItem.receipt_id == Receipt.id)
        .where(*conditions)
        .order_by(*newest_first())
        .execution_options(yield_per=500)
    )
    yes, no = str(_l("yes")), str(_l("no"))

    def rows():
        for donation, fund_slug, charge_id, receipt, charged, fee in db.session.execute(query):
            # The gift's share of Stripe's fee, and what it brought in after that fee (as the
            # detail page shows); blank until Stripe has said, and for gifts received offline.
            known = fee is not None and charged is not None and donation.received_at
            received = clock.local(donation.received_at)
            yield [
                donation.id,
                received.date().isoformat() if received else "",
                received.time().isoformat("seconds") if received else "",
                donation.status.value,
                donation.kind.value,
                donation.method,
                donation.reference,
                fund_slug,
                donation.donor_name,
                donation.organization_name,
                donation.email,
                donation.address_line1,
                donation.address_line2,
                donation.city,
                donation.province,
                donation.postal_code,
                donation.country,
                donation.language,
                to_decimal(donation.amount),
                to_decimal(donation.fee_covered),
                to_decimal(donation.total),
                to_decimal(donation.refunded),
                to_decimal(donation.kept),
                to_decimal(donation.advantage),
                donation.advantage_description,
                (receipt.number or f"#{receipt.id}") if receipt else "",
                to_decimal(receipt.eligible_amount) if receipt else "",
                yes if donation.anonymous else no,
                donation.tribute_kind.value if donation.tribute_kind else "",
                donation.tribute_name,
                donation.monthly_gift_id or "",
                donation.payment_id or "",
                charge_id or "",
                to_decimal(fee) if known else "",
                to_decimal(charged - fee) if known else "",
            ]

    return rows()
