"""An in-memory Stripe for development and tests, driven by the real SDK over HTTP.

::

    sim = Simulator(SimConfig(webhook_url=..., webhook_secrets=[...]))
    server, thread = serve(sim)          # from .server; port 0 picks a free port
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": sim.config.public_url})

It serves Stripe's paths under ``/v1`` (see :mod:`.api`), the hosted Checkout page at
``/c/pay/<cs_id>`` and the customer portal at ``/p/session/<bps_id>`` (:mod:`.pages`),
signs and delivers events (:mod:`.delivery`), and takes orders under ``/_sim``
(:mod:`.control`): pay, expire, refund, dispute, payouts, clock, delivery modes.
"""

from .app import Simulator
from .config import API_VERSION, SimConfig

__all__ = ["API_VERSION", "SimConfig", "Simulator"]
