"""Members: tiers, joining and renewing, the lifecycle, the member's area, staff screens."""

from flask import Blueprint

bp = Blueprint("members", __name__, template_folder="templates")


def init_app(app):
    """Routes, the JSON API, the tiers' admin screen, the ``membership`` payment purpose,
    ``flask members``, the daily lifecycle task, panels and demo tiers."""
    from flask import render_template
    from flask_babel import lazy_gettext as _l

    from core import panels, seed
    from core import people as registry
    from core.admin import add_view
    from core.api import api_for
    from core.db import db
    from members import cli, handlers, people, staff, views  # noqa: F401  (routes)
    from members.admin import TierView
    from members.api import blp
    from members.models import Tier
    from payments.purposes import register_purpose

    app.register_blueprint(bp)
    api_for(app).register_blueprint(blp)
    register_purpose(app, handlers.purpose())
    registry.register(app, people.provider)
    add_view(app, TierView(Tier, db, name=_l("Membership tiers"), category=_l("Members")))
    cli.register(app)
    seed.register(app, "tiers", cli.seed_tiers, order=20)

    def account_panel():
        from flask_login import current_user

        from members.services import membership_of

        return render_template(
            "members/_account_panel.html", membership=membership_of(current_user)
        )

    def treasurer_panel():
        from members.reports import status_counts

        return render_template("members/staff/_dashboard_panel.html", counts=status_counts())

    panels.register(app, "account", account_panel, order=5)
    panels.register(app, "treasurer_dashboard", treasurer_panel, order=20)
