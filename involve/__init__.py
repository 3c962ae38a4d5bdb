"""Get Involved: Take Action letters, volunteering, content pages and moderated comments."""

from datetime import timedelta

from flask import Blueprint

bp = Blueprint(
    "involve",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/involve/static",
)


def init_app(app):
    """Register the pages, staff screens, panels, commands and periodic tasks of Get Involved."""
    from flask_admin.menu import MenuLink
    from flask_babel import lazy_gettext as _l

    from core import panels, seed
    from core import people as registry
    from core.admin import add_view
    from core.cli import add_command
    from core.db import db
    from core.worker import register_task
    from involve import content, delivery, people, staff, views  # noqa: F401  (routes)
    from involve.admin import CampaignView, PageLinkView, PageView
    from involve.caching import CAMPAIGNS
    from involve.cli import involve_cli
    from involve.models import Campaign, ContentPage, PageLink

    app.register_blueprint(bp)
    registry.register(app, people.provider)

    category = _l("Get Involved")
    add_view(app, CampaignView(Campaign, db, name=_l("Campaigns"), category=category))
    add_view(app, PageView(ContentPage, db, name=_l("Pages"), category=category))
    add_view(app, PageLinkView(PageLink, db, name=_l("Page links"), category=category))
    admin = app.extensions["mondial_admin"]
    for name, endpoint in (
        (_l("Signatures and letters"), "involve.staff_campaigns"),
        (_l("Volunteers"), "involve.staff_volunteers"),
        (_l("News list (consent)"), "involve.staff_news_consent"),
        (_l("Comment moderation"), "involve.moderation"),
    ):
        admin.add_link(MenuLink(name=name, endpoint=endpoint, category=category))

    panels.register(app, "home", views.home_panel, order=20, depends=(CAMPAIGNS,))
    panels.register(app, "account", views.moderation_panel, order=50)

    add_command(app, involve_cli)
    register_task(app, "involve.letters", timedelta(minutes=10), delivery.deliver_letters)
    register_task(
        app, "involve.moderation_digest", timedelta(hours=1), delivery.send_moderation_digest
    )
    seed.register(app, "involve", content.seed_demo, order=30)
