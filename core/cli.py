"""Command-line verbs: users, demo data, the worker and the outbox."""

import click
from flask import current_app
from flask.cli import AppGroup

from core.db import db


def register(app):
    app.cli.add_command(users)
    app.cli.add_command(seed)
    app.cli.add_command(worker)
    app.cli.add_command(outbox)
    for command in app.extensions.get("cli_commands", []):
        app.cli.add_command(command)


def add_command(app, command):
    """Let a feature package add its own CLI group."""
    app.extensions.setdefault("cli_commands", []).append(command)


users = AppGroup("users", help="Manage accounts.")


@users.command("create")
@click.option("--email", required=True)
@click.option(
    "--role",
    default="member",
    show_default=True,
    type=click.Choice(["member", "moderator", "treasurer", "admin"]),
)
@click.option("--name", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_create(email, role, name, password):
    """Create a confirmed account with a role."""
    from core.accounts.models import Role
    from core.accounts.services import create_user
    from core.errors import DomainError

    try:
        user = create_user(email, password, name=name, role=Role.parse(role), verified=True)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role.name}).")


@users.command("set-role")
@click.option("--email", required=True)
@click.option(
    "--role", required=True, type=click.Choice(["member", "moderator", "treasurer", "admin"])
)
def users_set_role(email, role):
    """Change an account's role."""
    from core.accounts.models import Role
    from core.accounts.services import find_user, set_role

    user = find_user(email)
    if user is None:
        raise click.ClickException(f"No account for {email}.")
    set_role(user, Role.parse(role))
    db.session.commit()
    click.echo(f"{user.email} is now {role}.")


seed = AppGroup("seed", help="Load data.")


@seed.command("demo")
def seed_demo():
    """Load demo data (idempotent: a second run changes nothing)."""
    from core.seed import seed_demo as run

    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("Demo data is not for production.")
    logins = run()
    db.session.commit()
    click.echo("Demo data is loaded. Staff sign-ins (demo only):")
    for email, password, role in logins:
        click.echo(f"  {role:<10} {email:<28} {password}")


worker = AppGroup("worker", help="Background work.")


@worker.command("run")
@click.option("--rounds", type=int, default=None, help="Stop after this many rounds (tests).")
def worker_run(rounds):
    """Deliver email and run periodic tasks until stopped (SIGTERM)."""
    from core.worker import lower_priority, run_forever, tasks

    names = ", ".join(sorted(tasks())) or "none"
    niceness = lower_priority(current_app.config["WORKER_NICENESS"])
    click.echo(f"Worker started (nice {niceness}); periodic tasks: {names}.")
    run_forever(stop_after=rounds)


@worker.command("run-due")
def worker_run_due():
    """Run the periodic tasks that are due, once (for cron)."""
    from core.worker import run_due_tasks

    ran = run_due_tasks()
    click.echo(f"Ran: {', '.join(ran) or 'nothing due'}.")


outbox = AppGroup("outbox", help="The email outbox.")


@outbox.command("send-once")
def outbox_send_once():
    """Deliver the emails that are due, then exit."""
    from core.mail.services import deliver_due

    total_sent = total_failed = 0
    while True:
        sent, failed = deliver_due()
        total_sent += sent
        total_failed += failed
        if not sent and not failed:
            break
        if not sent:
            break
    click.echo(f"Sent {total_sent}, failed {total_failed}.")
