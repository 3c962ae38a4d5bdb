"""The receipt register and the GST/HST report against the scenario's own rows."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from core import clock
from core.db import db
from tests.helpers import post_form


def cents(text):
    return int(Decimal(re.sub(r"[^\d.]", "", text)) * 100)


def test_the_receipt_register_totals_the_receipts_standing(app, month_of_money, signed_in):
    from donations.models import Receipt

    month_of_money()
    with app.app_context():
        receipts = db.session.scalars(sa.select(Receipt)).all()
        years = {r.year for r in receipts}
        assert any(r.is_void for r in receipts), "the refund and the lost dispute void receipts"
        expected = {
            year: sum(r.eligible_amount for r in receipts if r.year == year and not r.is_void)
            for year in years
        }
        voided = {year: sum(1 for r in receipts if r.year == year and r.is_void) for year in years}
    client = signed_in("treasurer")
    for year, total in expected.items():
        html = client.get(f"/treasurer/reports/receipts?year={year}").get_data(as_text=True)
        shown = re.search(r'id="eligible-total">([^<]+)<', html).group(1)
        assert cents(shown) == total
        assert re.search(r'id="voided">(\d+)<', html).group(1) == str(voided[year])
        export = client.get(f"/treasurer/reports/receipts.csv?year={year}")
        rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
        standing = [r for r in rows if r["state"] == "issued"]
        assert sum(int(Decimal(r["eligible_amount"]) * 100) for r in standing) == total


def test_the_gst_report_is_the_tax_collected_less_credit_notes(app, month_of_money, signed_in):
    scenario = month_of_money()
    client = signed_in("treasurer")
    path = f"/treasurer/payments/{scenario.order_payment_id}"
    # Half of the first order back: 19.21 $ of 38.42 $, whose 4.42 $ of tax goes back pro rata.
    assert (
        post_form(client, f"{path}/refund", {"amount": "19.21", "reason": "duplicate"}).status_code
        == 303
    )
    start = (clock.now().date() - timedelta(days=90)).isoformat()
    end = (clock.now().date() + timedelta(days=1)).isoformat()
    html = client.get(f"/treasurer/reports/gst-hst?date_from={start}&date_to={end}").get_data(
        as_text=True
    )
    collected = cents(re.search(r'id="gst-collected">([^<]+)<', html).group(1))
    credited = cents(re.search(r'id="gst-credited">([^<]+)<', html).group(1))
    net = cents(re.search(r'id="gst-net">([^<]+)<', html).group(1))
    assert collected == 442 + 247  # the two orders' tax; gifts and untaxed dues carry none
    assert credited == 1921 * 442 // 3842
    assert net == collected - credited
    export = client.get(f"/treasurer/reports/gst-hst.csv?date_from={start}&date_to={end}")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[-1][1:] == ["total", "6.89", "2.21", "4.68"]


def test_the_gst_report_puts_shop_orders_under_their_province_of_delivery(
    app, client, products, stripe_sim, signed_in, monkeypatch
):
    from tests.shop_fixtures import add_to_cart, check_out, order_rows

    monkeypatch.setitem(app.config, "GST_HST_NUMBER", "123456789 RT0001")
    for province, postal_code in (("ON", "K1P 5W1"), ("AB", "T5J 0N3")):
        add_to_cart(client, products["issue-42"], 1)
        _, session_id = check_out(client, province=province, postal_code=postal_code)
        stripe_sim.pay(session_id)
    ontario, alberta = order_rows(app)
    assert (ontario.province, alberta.province) == ("ON", "AB")
    assert ontario.tax > 0 and alberta.tax > 0
    start = (clock.now().date() - timedelta(days=1)).isoformat()
    end = (clock.now().date() + timedelta(days=1)).isoformat()
    export = signed_in("treasurer").get(
        f"/treasurer/reports/gst-hst.csv?date_from={start}&date_to={end}"
    )
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    by_province = {(r[0], r[1]): r[2] for r in rows[1:-1]}
    assert by_province == {
        ("AB", "order"): str(Decimal(alberta.tax) / 100),
        ("ON", "order"): str(Decimal(ontario.tax) / 100),
    }


def test_the_gst_report_keeps_dues_under_the_province_they_were_taxed_in(
    app, join, stripe_sim, signed_in, monkeypatch
):
    """A member who moves after paying does not move a return already filed."""
    from members.models import Membership, Tier
    from tests.member_fixtures import dues_rows

    monkeypatch.setitem(app.config, "GST_HST_NUMBER", "123456789 RT0001")
    with app.app_context():
        db.session.execute(sa.update(Tier).where(Tier.slug == "individual").values(taxable=True))
        db.session.commit()
    response, session_id = join(province="ON", postal_code="K1P 5W1")
    assert response.status_code == 303
    stripe_sim.pay(session_id)
    [dues] = dues_rows(app)
    assert dues.tax > 0 and dues.tax_province == "ON"

    start = (clock.now().date() - timedelta(days=1)).isoformat()
    end = (clock.now().date() + timedelta(days=1)).isoformat()
    treasurer = signed_in("treasurer")

    def by_province():
        export = treasurer.get(f"/treasurer/reports/gst-hst.csv?date_from={start}&date_to={end}")
        rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
        return {(r[0], r[1]): r[2] for r in rows[1:-1]}

    taxed = {("ON", "membership"): str(Decimal(dues.tax).scaleb(-2))}
    assert by_province() == taxed
    with app.app_context():  # the member moves to Calgary
        db.session.execute(
            sa.update(Membership).values(province="AB", postal_code="T2P 1J9", city="Calgary")
        )
        db.session.commit()
    assert by_province() == taxed
