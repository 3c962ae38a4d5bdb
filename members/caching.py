"""What the public membership pages show, in the namespaces of the page cache.

A tier's name, price, description or order changes ``tiers``; the grace period and the
other membership settings are ``settings``. The join form shows the dates of the term
it sells, which move with the calendar: the kept page is kept per day (see
:func:`core.cache.page`'s ``vary``).
"""

from flask import request, session

from core import cache
from members import dates
from members.models import Tier

TIERS = "tiers"
SETTINGS = "settings"

#: ``/join`` and ``/join/<tier>``: the tiers with their prices and what they include.
JOIN_PAGES = (TIERS, SETTINGS)

cache.watch(Tier, TIERS)


def join_form_depends():
    """What a join form depends on, or None while the form is this visitor's own.

    A visitor who created their account while joining is shown as themselves (their
    name, their membership) for a day, and one back from Stripe's Cancel sees what they
    typed: neither page is kept for the next visitor.
    """
    if session.get("joining") or request.args.get("cancelled"):
        return None
    return JOIN_PAGES


def today_key():
    """The organization's date, for pages that show the term's dates."""
    return dates.today().isoformat()
