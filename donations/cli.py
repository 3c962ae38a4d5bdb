"""``flask receipts annual`` and the funds every installation starts with."""

import click
from flask.cli import AppGroup

from core.db import db

receipts_cli = AppGroup("receipts", help="Donation receipts.")

# The funds every installation starts with. Migration 0003 inserts a frozen copy of these.
FUNDS = [
    (
        "general",
        "General fund",
        "Fonds général",
        "Where the need is greatest: our advocacy for a stronger United Nations.",
        "Là où le besoin est le plus grand : notre travail pour des Nations Unies plus fortes.",
    ),
    (
        "mondial",
        "Mondial publication",
        "Publication Mondial",
        "Our biannual magazine, written by members and experts and sent across Canada.",
        "Notre magazine semestriel, écrit par des membres et des spécialistes et diffusé partout "
        "au Canada.",
    ),
    (
        "peacekeeping",
        "Canadians for UN Peacekeeping",
        "Canadiens pour le maintien de la paix de l'ONU",
        "Tracking Canada's peacekeeping commitments and calling for steady support.",
        "Suivre les engagements du Canada envers le maintien de la paix et réclamer un appui "
        "constant.",
    ),
    (
        "take-action",
        "Take Action",
        "Passez à l'action",
        "Letters to the Prime Minister and the campaigns that carry them.",
        "Les lettres au premier ministre et les campagnes qui les portent.",
    ),
]


@receipts_cli.command("annual")
@click.option("--year", type=int, required=True, help="The tax year, e.g. 2026.")
def annual_command(year):
    """Issue one receipt per monthly donor for YEAR (only gifts not yet receipted)."""
    from donations.receipts import annual_donors, issue_annual_for

    donors = annual_donors(year)
    issued = 0
    with click.progressbar(donors, label=f"Annual receipts {year}", show_pos=True) as bar:
        for monthly_gift_id in bar:
            # One donor per transaction: the serial-number lock is never held for long.
            issued += issue_annual_for(monthly_gift_id, year) is not None
            db.session.commit()
    click.echo(f"Issued {issued} annual receipts for {year} ({len(donors)} donors with new gifts).")


def seed_funds():
    """The funds the migration creates, again, after a test empties the tables."""
    import sqlalchemy as sa

    from donations.models import Fund

    for position, (slug, en, fr, den, dfr) in enumerate(FUNDS):
        if db.session.scalar(sa.select(Fund.id).where(Fund.slug == slug)) is None:
            db.session.add(
                Fund(
                    slug=slug,
                    name_en=en,
                    name_fr=fr,
                    description_en=den,
                    description_fr=dfr,
                    position=position,
                )
            )


def demo_goals():
    """Demo only: goals on two funds, so the progress bars show."""
    import sqlalchemy as sa

    from donations.models import Fund

    seed_funds()
    db.session.flush()
    for slug, goal in (("mondial", 1_500_000), ("peacekeeping", 2_500_000)):
        fund = db.session.scalar(sa.select(Fund).where(Fund.slug == slug))
        if fund.goal is None:
            fund.goal = goal
