"""Members: tiers, joining and renewing, the member's own area."""

from flask import Blueprint

bp = Blueprint("members", __name__, template_folder="templates")


def init_app(app):
    """The membership pages."""
    from members import views  # noqa: F401  (registers its routes)

    app.register_blueprint(bp)
