"""Payments: the only package that talks to Stripe."""

from flask import Blueprint

bp = Blueprint("payments", __name__, template_folder="templates")


@bp.record_once
def _setup(state):
    from payments import cli, simclock

    cli.register(state.app)
    simclock.register(state.app)


from payments import views  # noqa: E402,F401
