from decimal import Decimal

import pytest

from core.money import (
    InvalidAmount,
    card_fee,
    format_money,
    gross_up,
    parse_amount,
    split_pro_rata,
)


@pytest.mark.parametrize(
    ("text", "locale", "cents"),
    [
        ("10", "en", 1000),
        ("10.50", "en", 1050),
        ("10,50", "en", 1050),
        ("10,50", "fr", 1050),
        ("10.5", "en", 1050),
        ("0.01", "en", 1),
        ("1", "en", 100),
        (" 25 ", "en", 2500),
        ("$25", "en", 2500),
        ("25 $", "fr", 2500),
        ("1,234.50", "en", 123450),
        ("1 234,50", "fr", 123450),
        ("1\u00a0234,50", "fr", 123450),
        ("1.234,50", "fr", 123450),
        ("1,000", "en", 100000),
        ("50000", "en", 5000000),
        (25, "en", 2500),
        (10.5, "en", 1050),
        (Decimal("10.50"), "en", 1050),
    ],
)
def test_accepts(text, locale, cents):
    assert parse_amount(text, locale=locale) == cents


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        None,
        "-5",
        "-500",
        "abc",
        "NaN",
        "nan",
        "inf",
        "Infinity",
        "1e9",
        "10.505",
        "10,505.1234",
        "1.2.3",
        "10..5",
        "0x10",
        "½",
        "١٠",  # Arabic-Indic digits
        "10 20",
        "1 23",
        "999999999999999",
        float("nan"),
        float("inf"),
        True,
        [],
    ],
)
def test_refuses(text):
    with pytest.raises(InvalidAmount):
        parse_amount(text)


def test_a_comma_group_is_thousands_in_english_but_too_many_decimals_in_french():
    assert parse_amount("1,000", locale="en") == 100000
    with pytest.raises(InvalidAmount, match="two decimals"):
        parse_amount("1,000", locale="fr")


def test_refuses_absurd_amounts():
    with pytest.raises(InvalidAmount, match="too large"):
        parse_amount("100000001")


def test_bounds_have_clear_messages():
    with pytest.raises(InvalidAmount, match="minimum") as small:
        parse_amount("0.50", min_cents=100)
    assert small.value.code == "amount_too_small"
    with pytest.raises(InvalidAmount, match="maximum") as large:
        parse_amount("50000.01", max_cents=5_000_000)
    assert large.value.code == "amount_too_large"


@pytest.mark.parametrize(
    ("cents", "locale", "expected"),
    [
        (123450, "en", "$1,234.50"),
        (123450, "fr", "1\u00a0234,50\u00a0$"),
        (5, "en", "$0.05"),
        (-2500, "en", "-$25.00"),
    ],
)
def test_format(cents, locale, expected):
    assert format_money(cents, "CAD", locale) == expected


@pytest.mark.parametrize(
    ("amount", "fee"),
    [(1000, 59), (2500, 103), (10000, 320), (100, 33), (1724, 80)],
)
def test_card_fee_is_percent_plus_fixed_rounded_half_up(amount, fee):
    assert card_fee(amount, "2.9", 30) == fee


@pytest.mark.parametrize("net", [100, 500, 1000, 2500, 5000, 10000, 25000, 12345, 5_000_000])
def test_gross_up_is_the_smallest_charge_that_nets_the_gift(net):
    gross = gross_up(net, "2.9", 30)
    assert gross - card_fee(gross, "2.9", 30) >= net
    assert (gross - 1) - card_fee(gross - 1, "2.9", 30) < net


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (103, [2500, 5000, 2500], [26, 51, 26]),
        (-59, [1000, 1000], [-30, -29]),
        (0, [5, 5], [0, 0]),
        (7, [0, 0], [7, 0]),
    ],
)
def test_split_pro_rata_sums_exactly(total, weights, shares):
    assert split_pro_rata(total, weights) == shares
    assert sum(split_pro_rata(total, weights)) == total
