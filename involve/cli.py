"""``flask involve ...``: letter delivery, the moderators' digest, the NGO's own content."""

import click
from flask.cli import AppGroup

from core.db import db

involve_cli = AppGroup("involve", help="Take Action letters, comments and content pages.")


@involve_cli.command("send-letters")
def send_letters_command():
    """Put the confirmed letters that are due in the outbox (each letter once)."""
    from involve.delivery import deliver_letters

    sent = deliver_letters()
    db.session.commit()
    click.echo(f"Letters queued: {sent}.")


@involve_cli.command("moderation-digest")
def moderation_digest_command():
    """Email the moderators the comments waiting since the last digest."""
    from involve.delivery import send_moderation_digest

    listed = send_moderation_digest()
    db.session.commit()
    click.echo(f"New comments in the digest: {listed}.")


@involve_cli.command("seed-content")
def seed_content_command():
    """Add the April 2020 Mali campaign and the France-Canada Roadmap page if missing."""
    from involve.content import seed_content

    seed_content()
    db.session.commit()
    click.echo("The Mali campaign and the Roadmap page are in place.")
