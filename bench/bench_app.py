"""The app as gunicorn serves it, pointed at the Stripe simulator.

Production settings refuse a Stripe address other than Stripe's, so the webhook bench
runs the development settings less their debug mode (which re-reads templates).
"""

from core import create_app

app = create_app(config={"DEBUG": False})
