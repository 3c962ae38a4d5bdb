"""Donations: gifts, funds, monthly giving and receipts."""

from flask import Blueprint

bp = Blueprint("donations", __name__, template_folder="templates")


@bp.record_once
def _setup(state):
    from donations import cli

    cli.register(state.app)


from donations import staff, views  # noqa: E402,F401
