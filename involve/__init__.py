"""Get Involved: Take Action letters, volunteering, content pages and comments."""

from flask import Blueprint

bp = Blueprint("involve", __name__, template_folder="templates")

from involve import views  # noqa: E402,F401
