"""The Mondial shop: catalogue, cart, checkout and orders."""

from flask import Blueprint

bp = Blueprint("shop", __name__, template_folder="templates")

from shop import views  # noqa: E402,F401
