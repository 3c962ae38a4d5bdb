"""``flask receipts annual``, the donation purpose, page panels and demo funds."""

import click
from flask import render_template
from flask.cli import AppGroup
from flask_babel import lazy_gettext as _l

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


def _fund_panel():
    from donations import services

    return render_template(
        "donations/_fund_panel.html",
        funds=services.active_funds(),
        raised=services.raised_by_fund(),
    )


def _account_panel():
    return render_template("donations/_account_panel.html")


def _treasurer_panel():
    from datetime import date

    from donations import services

    totals = services.year_totals(services.this_year())
    return render_template(
        "donations/staff/_dashboard_panel.html",
        totals=totals,
        year_start=date(totals.year, 1, 1).isoformat(),
    )


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


def _demo_goals():
    """Demo only: goals on two funds, so the progress bars show."""
    import sqlalchemy as sa

    from donations.models import Fund

    seed_funds()
    db.session.flush()
    for slug, goal in (("mondial", 1_500_000), ("peacekeeping", 2_500_000)):
        fund = db.session.scalar(sa.select(Fund).where(Fund.slug == slug))
        if fund.goal is None:
            fund.goal = goal


def register(app):
    from core import panels, seed
    from core.admin import add_view
    from core.cli import add_command
    from core.mail.services import register_attachment
    from donations import receipts
    from donations.admin import FundView
    from donations.caching import FUND_PAGES
    from donations.models import Fund
    from donations.services import purpose
    from payments.purposes import register_purpose

    register_purpose(app, purpose())
    add_view(app, FundView(Fund, db, name=_l("Funds"), category=_l("Donations")))
    add_command(app, receipts_cli)
    register_attachment(app, receipts.PDF_RENDERER, receipts.pdf_as_issued)
    panels.register(app, "home", _fund_panel, order=10, depends=FUND_PAGES)
    panels.register(app, "get_involved", _fund_panel, order=10, depends=FUND_PAGES)
    panels.register(app, "account", _account_panel, order=10)
    panels.register(app, "treasurer_dashboard", _treasurer_panel, order=10)
    seed.register(app, "funds", _demo_goals, order=10)
