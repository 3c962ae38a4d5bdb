"""Demo products, and the seeded tax and shipping tables (``flask seed demo``)."""

from datetime import date

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from core.db import db
from shop import pricing
from shop.models import (
    Product,
    ProductFormat,
    ProductKind,
    ShippingRate,
    TaxCategory,
    TaxRate,
)

DEMO_ISSUES = [
    # number, season, year, published, title (en, fr), stock
    (
        42,
        "autumn",
        2026,
        date(2026, 10, 15),
        ("Mondial 42: Peacekeeping, a Canadian promise", "Mondial 42 : le maintien de la paix"),
        25,
    ),
    (
        41,
        "spring",
        2026,
        date(2026, 4, 15),
        ("Mondial 41: A parliament for the world", "Mondial 41 : un parlement mondial"),
        0,
    ),
    (
        40,
        "autumn",
        2025,
        date(2025, 10, 15),
        ("Mondial 40: Nuclear disarmament now", "Mondial 40 : le désarmement nucléaire"),
        8,
    ),
]

CONTENTS = (
    "Editorial; the France-Canada peacekeeping roadmap; letters to the Prime Minister; "
    "news from the World Federalist Movement.",
    "Éditorial ; la feuille de route franco-canadienne pour le maintien de la paix ; lettres "
    "au premier ministre ; nouvelles du Mouvement fédéraliste mondial.",
)


def seed_rates():
    """The current GST/HST and shipping tables, where they are missing."""
    for province, (federal, provincial, rebate) in pricing.SEED_RATES.items():
        if not db.session.scalar(sa.select(TaxRate.id).where(TaxRate.province == province)):
            db.session.add(
                TaxRate(
                    province=province,
                    federal=federal,
                    provincial=provincial,
                    printed_rebate=rebate,
                )
            )
    if not db.session.scalar(sa.select(ShippingRate.id).limit(1)):
        for zone, rows in pricing.SEED_SHIPPING.items():
            for grams, price in rows:
                db.session.add(ShippingRate(zone=zone, up_to_grams=grams, price=price))
    db.session.flush()


def demo_pdf(path, title):
    from fpdf import FPDF

    from donations.receipts_pdf import FONT_REGULAR

    pdf = FPDF()
    pdf.add_font("Sans", "", str(FONT_REGULAR))
    pdf.add_page()
    pdf.set_font("Sans", "", 18)
    pdf.multi_cell(0, 10, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(pdf.output()))


def seed_shop():
    """Three issues in print and PDF (one sold out in print) and a yearly subscription."""
    from shop.downloads import files_dir

    seed_rates()
    for position, (number, season, year, published, titles, stock) in enumerate(DEMO_ISSUES):
        for fmt in (ProductFormat.print, ProductFormat.digital):
            slug = f"mondial-{number}" + ("-pdf" if fmt == ProductFormat.digital else "")
            if db.session.scalar(sa.select(Product.id).where(Product.slug == slug)):
                continue
            file_name = f"mondial-{number}.pdf" if fmt == ProductFormat.digital else ""
            if file_name and not (files_dir() / file_name).exists():
                demo_pdf(files_dir() / file_name, titles[0])
            db.session.add(
                Product(
                    slug=slug,
                    kind=ProductKind.issue,
                    format=fmt,
                    title_en=titles[0],
                    title_fr=titles[1],
                    issue_number=number,
                    season=season,
                    year=year,
                    published_on=published,
                    edition="en",
                    contents_en=CONTENTS[0],
                    contents_fr=CONTENTS[1],
                    price=1200 if fmt == ProductFormat.print else 800,
                    stock=stock if fmt == ProductFormat.print else None,
                    weight_grams=180 if fmt == ProductFormat.print else 0,
                    tax_category=TaxCategory.printed
                    if fmt == ProductFormat.print
                    else TaxCategory.standard,
                    file_name=file_name,
                    position=position * 2 + (fmt == ProductFormat.digital),
                )
            )
    if not db.session.scalar(sa.select(Product.id).where(Product.slug == "subscription")):
        db.session.add(
            Product(
                slug="subscription",
                kind=ProductKind.subscription,
                format=ProductFormat.print,
                title_en="A year of Mondial (two issues, mailed)",
                title_fr="Un an de Mondial (deux numéros, par la poste)",
                contents_en="Both issues published in the year after you subscribe.",
                contents_fr="Les deux numéros publiés dans l'année qui suit l'abonnement.",
                price=2000,
                stock=None,
                weight_grams=0,
                tax_category=TaxCategory.printed,
                position=100,
            )
        )
    db.session.flush()


shop_cli = AppGroup("shop", help="The Mondial shop.")


@shop_cli.command("demo-catalogue")
@click.option("--products", default=50, show_default=True, help="How many products in all.")
def demo_catalogue(products):
    """The demo catalogue, grown to PRODUCTS back issues (for the pages bench)."""
    seed_shop()
    have = db.session.scalar(sa.select(sa.func.count()).select_from(Product))
    for number in range(1, max(products - have, 0) + 1):
        db.session.add(
            Product(
                slug=f"mondial-back-{number}",
                title_en=f"Mondial, back issue {number}",
                title_fr=f"Mondial, ancien numéro {number}",
                issue_number=number,
                season="spring" if number % 2 else "autumn",
                year=2000 + number // 2,
                published_on=date(2000 + number // 2, 4 if number % 2 else 10, 15),
                contents_en=CONTENTS[0],
                contents_fr=CONTENTS[1],
                price=800,
                stock=number % 7,
                weight_grams=180,
                position=200 + number,
            )
        )
    db.session.commit()
    click.echo(f"{max(products, have)} products")
