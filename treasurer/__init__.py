"""The treasurer's view: payments, payouts and their reconciliation, refunds, exports.

It reads every feature's rows through payments' allocations (purpose and row id) and
links to the screens those features serve; nothing imports it.
"""

from datetime import timedelta

from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint("treasurer", __name__, url_prefix="/treasurer", template_folder="templates")

#: How each allocation purpose is named on the treasurer's pages.
PURPOSES = {
    "donation": _l("Donations"),
    "membership": _l("Membership dues"),
    "order": _l("Publication sales"),
}

DEFAULTS = {
    # Days after a payment succeeded by which its money should be in a payout.
    "TREASURER_PAYOUT_DAYS": 7,
    # Account names of the journal export; see treasurer/exports.py for the keys.
    "TREASURER_ACCOUNTS": {},
}


def check_payouts_task():
    """Check the payouts whose lines were fetched since they were last checked."""
    import sqlalchemy as sa

    from core.db import db
    from payments.models import Payout
    from treasurer.models import PayoutReview
    from treasurer.reconcile import check_payout

    stale = (
        sa.select(Payout)
        .outerjoin(PayoutReview, PayoutReview.payout_id == Payout.id)
        .where(Payout.synced_at.is_not(None), PayoutReview.reconciled_at.is_(None))
        .where(sa.or_(PayoutReview.id.is_(None), PayoutReview.checked_at < Payout.synced_at))
    )
    for payout in db.session.scalars(stale).all():
        check_payout(payout)
    db.session.commit()


def init_app(app):
    """Pages, the JSON API, the payout check task and the treasurer's settings."""
    from core.api import api_for
    from core.worker import register_task
    from treasurer import models, views  # noqa: F401  (tables and routes)
    from treasurer.api import blp

    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    app.register_blueprint(bp)
    api_for(app).register_blueprint(blp)
    register_task(app, "treasurer.check_payouts", timedelta(minutes=1), check_payouts_task)
