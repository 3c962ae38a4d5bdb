"""The treasurer's view: payments, payouts and their reconciliation, refunds, exports."""

from flask import Blueprint

bp = Blueprint("treasurer", __name__, url_prefix="/treasurer", template_folder="templates")

from treasurer import views  # noqa: E402,F401
