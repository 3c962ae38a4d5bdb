"""Payments: the only package that talks to Stripe."""

from flask import Blueprint

bp = Blueprint("payments", __name__, template_folder="templates")

from payments import views  # noqa: E402,F401
