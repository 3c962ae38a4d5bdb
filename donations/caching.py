"""What the public donation pages show, in the namespaces of the page cache.

A fund's name, goal or order changes ``funds``; a gift that is paid, refunded or charged
back changes ``donations`` (what each fund has raised); the donate form's amounts and
fees are ``settings``.
"""

from core import cache
from donations.models import Donation, DonationStatus, Fund

FUNDS = "funds"
GIFTS = "donations"
SETTINGS = "settings"

#: The fund pages, the home panel and the funds API: names, goals and what was raised.
FUND_PAGES = (FUNDS, GIFTS)
#: The donate form: the funds to choose from, suggested amounts, limits and fees.
DONATE_FORM = (SETTINGS, FUNDS)

cache.watch(Fund, FUNDS)
cache.watch(
    Donation,
    GIFTS,
    # What ``raised_by_fund`` sums; a pending gift changes no total until it is paid.
    columns=("status", "amount", "fee_covered", "refunded", "fund_id"),
    when=lambda donation: donation.status == DonationStatus.paid,
)
