"""``flask payments …`` and, in development, ``flask stripe-sim run``."""

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from core.db import db

payments_cli = AppGroup("payments", help="Stripe: catch up on events, fetch payouts.")


@payments_cli.command("sync")
def sync_command():
    """Fetch events Stripe has that never reached the webhook, and handle them."""
    from payments.inbox import catch_up

    with click.progressbar(length=0, label="Handling events", show_pos=True) as bar:

        def step(n):
            bar.length = (bar.length or 0) + n
            bar.update(n)

        fetched, new, failed = catch_up(progress=step)
    click.echo(f"Listed {fetched} events; {new} were missing and are now handled; {failed} failed.")
    if failed:
        raise SystemExit(1)


@payments_cli.command("payouts")
def payouts_command():
    """Fetch the balance transactions of payouts Stripe has reconciled."""
    from payments.payouts import sync_flagged

    with click.progressbar(length=0, label="Fetching payout lines", show_pos=True) as bar:
        done = sync_flagged(progress=lambda n: bar.update(n))
    click.echo(f"Fetched {done} payouts.")


def handle_events_task():
    from payments.inbox import work_task

    work_task()


def sync_events_task():
    from payments.inbox import catch_up

    catch_up()


def sync_payouts_task():
    from payments.payouts import sync_flagged

    sync_flagged()
    db.session.commit()


stripe_sim_cli = AppGroup("stripe-sim", help="The local Stripe simulator (development only).")


@stripe_sim_cli.command("run")
@click.option("--port", default=12111, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--app-url", default=None, help="The app's base URL; events go to its webhook.")
def sim_run(port, host, app_url):
    """Serve the Stripe simulator; it signs events with the app's webhook secret."""
    import requests

    from payments.simulator.server import run

    app_url = (app_url or current_app.config["BASE_URL"]).rstrip("/")

    def share_clock(offset):
        # Every process of the app reads the shared clock file; an app started with
        # another instance folder is told over HTTP as well.
        from core import clock

        clock.set_offset(offset)
        try:
            requests.post(f"{app_url}/_sim/clock", json={"offset": offset}, timeout=5)
        except requests.RequestException as error:
            click.echo(f"Could not move the app's clock: {error}", err=True)

    from core import clock

    clock.set_offset(0)  # a fresh simulator starts at real time; so does every process of the app
    run(
        host=host,
        port=port,
        app_url=app_url,
        secret=",".join(current_app.config["STRIPE_WEBHOOK_SECRETS"]),
        on_clock_change=share_clock,
    )


def register(app):
    from core.cli import add_command
    from core.worker import register_task

    add_command(app, payments_cli)
    register_task(app, "payments.inbox", timedelta(seconds=1), handle_events_task)
    register_task(app, "payments.sync", timedelta(minutes=5), sync_events_task)
    register_task(app, "payments.payouts", timedelta(minutes=1), sync_payouts_task)
    if app.config["APP_ENV"] != "production":
        add_command(app, stripe_sim_cli)
