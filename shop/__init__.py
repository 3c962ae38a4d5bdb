"""The Mondial shop: catalogue, cart, checkout and orders."""

from flask import Blueprint

bp = Blueprint("shop", __name__, template_folder="templates")


def init_app(app):
    """The shop's pages."""
    from shop import views  # noqa: F401  (registers its routes)

    app.register_blueprint(bp)
