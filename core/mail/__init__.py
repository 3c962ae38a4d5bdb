"""Email: the outbox, delivery, and the signed preferences and unsubscribe pages."""

from flask import Blueprint

bp = Blueprint("mail", __name__, template_folder="templates")

from core.mail import views  # noqa: E402,F401
