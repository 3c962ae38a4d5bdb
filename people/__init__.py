"""Staff screens for one person's whole record: find, show, export, merge and erase.

They read what every feature registered with ``core.people``; nothing imports this package.
"""

from flask import Blueprint

bp = Blueprint("people", __name__, url_prefix="/treasurer/people", template_folder="templates")


def init_app(app):
    """The pages under /treasurer/people."""
    from people import views  # noqa: F401  (routes)

    app.register_blueprint(bp)
