"""The dashboard's chart of monthly net by purpose, drawn on the server as SVG (no script)."""

from dataclasses import dataclass

from flask_babel import format_date
from markupsafe import Markup, escape

from core.money import format_money

#: Colours that keep a 3:1 contrast on white, in the order purposes are drawn.
COLOURS = ("#1f5f8b", "#b35806", "#4d7c0f", "#7b3294", "#9f1239")

WIDTH, HEIGHT = 720, 260
LEFT, BOTTOM, TOP = 80, 40, 16


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


def bars(months, series, labels):
    """Stacked bars (one per month; negative months stack below the axis), and the scale."""
    purposes = sorted(series)
    highs = [sum(max(series[p][n], 0) for p in purposes) for n in range(len(months))]
    lows = [sum(min(series[p][n], 0) for p in purposes) for n in range(len(months))]
    top = max(highs + [1])
    bottom = min(lows + [0])
    span = top - bottom
    plot = HEIGHT - BOTTOM - TOP
    zero = TOP + plot * top / span
    step = (WIDTH - LEFT - 10) / max(len(months), 1)
    drawn = []
    for n, month in enumerate(months):
        up, down = zero, zero
        for i, purpose in enumerate(purposes):
            value = series[purpose][n]
            if not value:
                continue
            h = plot * abs(value) / span
            if value > 0:
                up -= h
                y = up
            else:
                y = down
                down += h
            title = f"{format_date(month, 'MMMM yyyy')}: {labels.get(purpose, purpose)} "
            title += format_money(value)
            drawn.append(Bar(LEFT + n * step + 4, y, step - 8, h, COLOURS[i % len(COLOURS)], title))
    return drawn, zero, top, bottom, step


def monthly_chart(months, series, labels, title):
    """The SVG markup: bars, the zero line, the top value, month initials and a legend."""
    drawn, zero, top, bottom, step = bars(months, series, labels)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT + 24 * len(series)}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="chart-title">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<line x1="{LEFT}" y1="{zero:.1f}" x2="{WIDTH - 10}" y2="{zero:.1f}" stroke="#333"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end" font-size="12" fill="#333">'
        f"{escape(format_money(top))}</text>",
        f'<text x="{LEFT - 6}" y="{zero + 4:.1f}" text-anchor="end" font-size="12" '
        f'fill="#333">{escape(format_money(0))}</text>',
    ]
    if bottom < 0:
        parts.append(
            f'<text x="{LEFT - 6}" y="{HEIGHT - BOTTOM:.1f}" text-anchor="end" font-size="12" '
            f'fill="#333">{escape(format_money(bottom))}</text>'
        )
    for bar in drawn:
        parts.append(
            f'<rect x="{bar.x:.1f}" y="{bar.y:.1f}" width="{bar.width:.1f}" '
            f'height="{max(bar.height, 0.5):.1f}" fill="{bar.colour}">'
            f"<title>{escape(bar.title)}</title></rect>"
        )
    for n, month in enumerate(months):
        parts.append(
            f'<text x="{LEFT + n * step + step / 2:.1f}" y="{HEIGHT - BOTTOM + 18}" '
            f'text-anchor="middle" font-size="12" fill="#333">'
            f"{escape(format_date(month, 'MMM'))}</text>"
        )
    for i, purpose in enumerate(sorted(series)):
        y = HEIGHT + 24 * i
        parts.append(
            f'<rect x="{LEFT}" y="{y - 10}" width="14" height="14" '
            f'fill="{COLOURS[i % len(COLOURS)]}"/>'
            f'<text x="{LEFT + 20}" y="{y + 2}" font-size="13" fill="#111">'
            f"{escape(labels.get(purpose, purpose))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
