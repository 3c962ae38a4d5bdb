"""The Mondial shop: catalogue, cart, checkout, orders, downloads, fulfilment, mailing lists."""

from flask import Blueprint

bp = Blueprint("shop", __name__, template_folder="templates")


def init_app(app):
    """Pages, API, staff screens, the ``order`` payment purpose, PDFs and demo products."""
    from flask import render_template
    from flask_babel import lazy_gettext as _l
    from flask_login import user_logged_in

    from core import panels, seed
    from core import people as registry
    from core.admin import add_view
    from core.api import api_for
    from core.cli import add_command
    from core.db import db
    from core.mail.services import register_attachment
    from payments.purposes import register_purpose
    from shop import caching, handlers, invoices, people, staff, views  # noqa: F401
    from shop.admin import ProductView, ShippingRateView, TaxRateView
    from shop.api import blp
    from shop.cli import seed_shop, shop_cli
    from shop.models import Product, ShippingRate, TaxRate

    app.register_blueprint(bp)
    api_for(app).register_blueprint(blp)
    register_purpose(app, handlers.purpose())
    registry.register(app, people.provider)
    register_attachment(app, handlers.INVOICE_RENDERER, invoices.invoice_pdf)
    register_attachment(app, handlers.CREDIT_NOTE_RENDERER, invoices.credit_note_pdf)
    seed.register(app, "shop", seed_shop, order=30)
    add_command(app, shop_cli)
    panels.register(app, "account", lambda: render_template("shop/_account_panel.html"), order=30)
    panels.register(
        app,
        "treasurer_dashboard",
        lambda: render_template("shop/staff/_dashboard_panel.html"),
        order=30,
    )
    category = _l("Shop")
    add_view(app, ProductView(Product, db, name=_l("Products"), category=category))
    add_view(app, TaxRateView(TaxRate, db, name=_l("Sales tax rates"), category=category))
    add_view(app, ShippingRateView(ShippingRate, db, name=_l("Shipping rates"), category=category))
    kept = app.extensions.setdefault("kept_at_sign_in", [])
    kept.append("cart")
    user_logged_in.connect(_merge_cart, app)


def _merge_cart(sender, user, **extra):
    """A visitor who signs in keeps what they put in the cart."""
    from flask import g

    from core.db import db
    from shop import cart

    before = (g.get("before_sign_in") or {}).get("cart")
    if before:
        cart.merge_into_account(user, before)
        db.session.commit()
