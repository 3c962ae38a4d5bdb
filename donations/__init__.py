"""Donations: gifts, funds, monthly giving and receipts."""

from flask import Blueprint

bp = Blueprint("donations", __name__, template_folder="templates")

from donations import views  # noqa: E402,F401
