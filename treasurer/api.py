"""The treasurer's JSON API, version 1: payouts and their lines (signed-in treasurers)."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Blueprint

from core.accounts.models import Role
from core.api import ErrorSchema
from core.errors import DomainError, Forbidden
from treasurer import reconcile, reports
from treasurer.schemas import (
    LineArgs,
    PayoutDetailSchema,
    PayoutListArgs,
    PayoutPageSchema,
)

blp = Blueprint("treasurer_api", __name__, url_prefix="/api/v1/treasurer", description="Payouts.")


class SignInRequired(DomainError):
    status = 401
    code = "sign_in_required"
    default_message = _l("Please sign in first.")


def _require_treasurer():
    if not current_user.is_authenticated:
        raise SignInRequired()
    if not current_user.has_role(Role.treasurer):
        raise Forbidden()


def payout_body(row):
    review = row.review
    payout = row.payout
    return {
        "id": payout.id,
        "stripe_payout_id": payout.stripe_payout_id,
        "amount": payout.amount,
        "currency": payout.currency,
        "status": payout.status,
        "arrival_date": payout.arrival_date,
        "created_at": payout.created_at,
        "check": row.check.value,
        "reconciled": row.reconciled,
        "reconciled_at": review.reconciled_at if review else None,
        "reconciled_by": review.reconciled_by if review else None,
        "line_count": review.line_count if review else 0,
        "unmatched_count": review.unmatched_count if review else 0,
        "gross": review.gross if review else 0,
        "fees": review.fees if review else 0,
        "note": review.note if review else "",
        "discrepancy": review.discrepancy if review else None,
    }


@blp.route("/payouts", methods=["GET"])
@blp.arguments(PayoutListArgs, location="query")
@blp.response(200, PayoutPageSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in.")
@blp.alt_response(403, schema=ErrorSchema, description="Not a treasurer or admin.")
def payouts(args):
    """Payouts, newest first, 50 a page, with their reconciliation status."""
    _require_treasurer()
    result = reports.search_payouts(args["state"], page=args["page"])
    return {
        "items": [payout_body(row) for row in result.items],
        "page": result.page,
        "pages": result.pages,
        "total": result.total,
    }


@blp.route("/payouts/<int:payout_id>", methods=["GET"])
@blp.arguments(LineArgs, location="query")
@blp.response(200, PayoutDetailSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in.")
@blp.alt_response(403, schema=ErrorSchema, description="Not a treasurer or admin.")
@blp.alt_response(404, schema=ErrorSchema, description="No such payout.")
def payout(args, payout_id):
    """One payout, its status and the reason for it, and a page of its lines (50)."""
    _require_treasurer()
    found = reconcile.payout_or_404(payout_id)
    row = reports.reviews_for([found])[0]
    lines = reports.payout_lines(found, args["page"])
    body = payout_body(row)
    body["reason"] = str(reconcile.reason(row.review)) if row.review else ""
    body["lines"] = [
        {
            "balance_transaction_id": view.line.balance_transaction_id,
            "type": view.line.type,
            "kind": view.kind,
            "source_id": view.line.source_id,
            "amount": view.line.amount,
            "fee": view.line.fee,
            "net": view.line.net,
            "created": view.line.created,
            "matched": not view.unmatched,
            "payment_id": view.line.payment_id,
            "allocations": [
                {
                    "purpose": a.allocation.purpose,
                    "row_id": a.allocation.row_id,
                    "amount": a.allocation.amount,
                    "tax": a.allocation.tax,
                    "description": a.allocation.description,
                }
                for a in view.allocations
            ],
        }
        for view in lines.items
    ]
    body["lines_page"], body["lines_pages"] = lines.page, lines.pages
    return body
