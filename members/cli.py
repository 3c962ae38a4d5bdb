"""``flask members …``: the daily lifecycle, importing members, and the starting tiers."""

from datetime import date, timedelta
from pathlib import Path

import click
from flask.cli import AppGroup

from core.db import db

members_cli = AppGroup("members", help="Memberships.")

# The tiers every installation starts with; migration 0009 inserts a frozen copy.
# (slug, English, French, price, lifetime, adults, advantage)
TIERS = [
    ("individual", "Individual", "Individuelle", 5000, False, 1, 2000),
    ("student", "Student", "Étudiant", 2500, False, 1, 2000),
    ("senior", "Senior", "Aîné", 2500, False, 1, 2000),
    ("low-income", "Low income", "Faible revenu", 2500, False, 1, 2000),
    ("family", "Family", "Famille", 7500, False, 2, 2000),
    ("life", "Life", "À vie", 100000, True, 1, 20000),
]

DESCRIPTIONS = {
    False: (
        "Mondial in print or digital for the issues published during your year, a vote at our "
        "annual general meeting, and news of our campaigns.",
        "Mondial en version imprimée ou numérique pour les numéros parus pendant votre année, "
        "un vote à notre assemblée générale annuelle et des nouvelles de nos campagnes.",
    ),
    "family": (
        "For a household: two adults, each with their own sign-in and vote, and one copy of "
        "Mondial for the issues published during your year.",
        "Pour un foyer : deux adultes, chacun avec son propre compte et son vote, et un "
        "exemplaire de Mondial pour les numéros parus pendant votre année.",
    ),
    True: (
        "Paid once: every issue of Mondial from now on, and a vote at every annual general "
        "meeting.",
        "Payée une fois : tous les numéros de Mondial à partir de maintenant, et un vote à "
        "chaque assemblée générale annuelle.",
    ),
}
ADVANTAGE = (
    "Mondial, two issues a year (fair market value)",
    "Mondial, deux numéros par an (juste valeur marchande)",
)


def tier_rows():
    """The starting tiers as rows for :class:`~members.models.Tier` (and the migration)."""
    rows = []
    for position, (slug, en, fr, price, lifetime, adults, advantage) in enumerate(TIERS):
        den, dfr = DESCRIPTIONS["family" if slug == "family" else lifetime]
        rows.append(
            {
                "slug": slug,
                "name_en": en,
                "name_fr": fr,
                "description_en": den,
                "description_fr": dfr,
                "price": price,
                "lifetime": lifetime,
                "adults": adults,
                "mondial_print": True,
                "mondial_digital": True,
                "advantage": advantage,
                "advantage_description_en": ADVANTAGE[0],
                "advantage_description_fr": ADVANTAGE[1],
                "taxable": False,
                "active": True,
                "position": position,
            }
        )
    return rows


def seed_tiers():
    """The tiers the migration creates, again, after a test empties the tables."""
    import sqlalchemy as sa

    from members.models import Tier

    for row in tier_rows():
        if db.session.scalar(sa.select(Tier.id).where(Tier.slug == row["slug"])) is None:
            db.session.add(Tier(**row))
    db.session.flush()


@members_cli.command("lifecycle")
@click.option("--date", "on", default=None, help="Act as if today were this date (YYYY-MM-DD).")
def lifecycle_command(on):
    """Move memberships whose dates have passed and send the reminders that are due.

    Safe to run as often as you like: nothing moves or is sent twice.
    """
    from members import dates, lifecycle

    today = date.fromisoformat(on) if on else dates.today()
    ids = lifecycle.due_ids(today)
    counts = {"checked": 0, "moved": 0, "reminded": 0}
    with click.progressbar(length=len(ids), label=f"Memberships on {today}", show_pos=True) as bar:
        for membership_id in ids:
            moves, kind = lifecycle.handle(membership_id, today)
            counts["checked"] += 1
            counts["moved"] += len(moves)
            counts["reminded"] += kind is not None
            db.session.commit()
            bar.update(1)
    click.echo(
        f"Checked {counts['checked']} memberships: {counts['moved']} moves, "
        f"{counts['reminded']} reminders queued."
    )


@members_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--check-only", is_flag=True, help="Check every row and write nothing.")
def import_command(path, check_only):
    """Import members from a CSV file: every row is checked first; any bad row imports none."""
    from members import imports

    data = path.read_bytes()
    with click.progressbar(length=1, label="Checking", show_pos=False) as bar:
        checked = imports.check(data)
        bar.update(1)
    if checked.problems:
        db.session.rollback()
        for problem in checked.problems:
            where = f" ({problem.field})" if problem.field else ""
            click.echo(f"Line {problem.line}{where}: {problem.message}", err=True)
        raise click.ClickException(
            f"Nothing was imported: {len(checked.problems)} problems in {path.name}."
        )
    if check_only:
        click.echo(f"{len(checked.rows)} rows are ready to import; nothing was written.")
        return

    def bar_over(rows):
        with click.progressbar(rows, label="Importing", show_pos=True) as bar:
            yield from bar

    count, new_accounts = imports.apply(checked, progress=bar_over)
    db.session.commit()
    click.echo(
        f"Imported {count} members ({new_accounts} new accounts, each emailed a link to choose "
        "a password)."
    )


def run_lifecycle_task():
    """The worker's daily run (it commits when this returns)."""
    from members import lifecycle

    lifecycle.run()


def register(app):
    from core.cli import add_command
    from core.worker import register_task

    add_command(app, members_cli)
    register_task(app, "members.lifecycle", timedelta(days=1), run_lifecycle_task)
