"""What donations adds to shared pages: home, Get Involved, the account, the treasurer."""

from flask import render_template


def fund_panel():
    from donations import gifts

    return render_template(
        "donations/_fund_panel.html",
        funds=gifts.active_funds(),
        raised=gifts.raised_by_fund(),
    )


def account_panel():
    return render_template("donations/_account_panel.html")


def treasurer_panel():
    from datetime import date

    from core import clock
    from donations import queries

    totals = queries.year_totals(clock.this_year())
    return render_template(
        "donations/staff/_dashboard_panel.html",
        totals=totals,
        year_start=date(totals.year, 1, 1).isoformat(),
    )
