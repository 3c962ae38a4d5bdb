"""Members: tiers, joining and renewing, the member's own area."""

from flask import Blueprint

bp = Blueprint("members", __name__, template_folder="templates")

from members import views  # noqa: E402,F401
