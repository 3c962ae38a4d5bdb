"""Donations: gifts, funds, monthly giving and receipts."""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

bp = Blueprint(
    "donations",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/donations/static",
)


def init_app(app):
    """Pages, API, admin, panels, the ``donation`` payment purpose and ``flask receipts``."""
    from core import panels, seed
    from core import people as registry
    from core.admin import add_view
    from core.api import api_for
    from core.cli import add_command
    from core.db import db
    from core.mail.services import register_attachment
    from donations import handlers, people, receipts, staff, views  # noqa: F401  (routes)
    from donations import panels as ours
    from donations.admin import FundView
    from donations.api import blp
    from donations.caching import FUND_PAGES
    from donations.cli import demo_goals, receipts_cli
    from donations.models import Fund
    from payments.purposes import register_purpose

    app.register_blueprint(bp)
    app.add_template_global(receipts.path, "receipt_url")
    api_for(app).register_blueprint(blp)
    register_purpose(app, handlers.purpose())
    registry.register(app, people.provider)
    add_view(app, FundView(Fund, db, name=_l("Funds"), category=_l("Donations")))
    add_command(app, receipts_cli)
    register_attachment(app, receipts.PDF_RENDERER, receipts.pdf_as_issued)
    panels.register(app, "home", ours.fund_panel, order=10, depends=FUND_PAGES)
    panels.register(app, "get_involved", ours.fund_panel, order=10, depends=FUND_PAGES)
    panels.register(app, "account", ours.account_panel, order=10)
    panels.register(app, "treasurer_dashboard", ours.treasurer_panel, order=10)
    seed.register(app, "funds", demo_goals, order=10)
