"""Payments: the only package that talks to Stripe.

Features call the verbs in :mod:`payments.services` and receive the neutral events of
:mod:`payments.events` in the handlers of the :class:`~payments.purposes.Purpose` they
register; see :mod:`payments.services` for the whole contract.
"""

from flask import Blueprint

bp = Blueprint("payments", __name__, template_folder="templates")


def init_app(app):
    """The webhook and return pages, ``flask payments``, the simulated clock, worker tasks."""
    from core import people as registry
    from payments import cli, people, services, simclock, views

    app.register_blueprint(bp)
    registry.register(app, people.provider)
    app.wsgi_app = views.WebhookFastPath(app, app.wsgi_app)
    app.register_error_handler(services.CheckoutUnavailable, views.checkout_unavailable)
    cli.register(app)
    simclock.register(app)
