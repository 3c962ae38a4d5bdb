"""Accounts: registration, sign-in, password reset, and who may see what."""

from flask import Blueprint

bp = Blueprint("accounts", __name__, template_folder="templates")

from core.accounts import views  # noqa: E402,F401
