"""The Mondial shop: catalogue, cart, checkout, orders, downloads, fulfilment, mailing lists."""

from flask import Blueprint

bp = Blueprint("shop", __name__, template_folder="templates")


def init_app(app):
    """Pages, API, staff screens, the ``order`` payment purpose, PDFs and demo products."""
    from flask_login import user_logged_in

    from core import seed
    from core.api import api_for
    from core.mail.services import register_attachment
    from payments.purposes import register_purpose
    from shop import caching, handlers, invoices, views  # noqa: F401  (routes, cache watches)
    from shop.api import blp
    from shop.cli import seed_shop

    app.register_blueprint(bp)
    api_for(app).register_blueprint(blp)
    register_purpose(app, handlers.purpose())
    register_attachment(app, handlers.INVOICE_RENDERER, invoices.invoice_pdf)
    register_attachment(app, handlers.CREDIT_NOTE_RENDERER, invoices.credit_note_pdf)
    seed.register(app, "shop", seed_shop, order=30)
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
