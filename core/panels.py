"""Slots in shared pages (home, Get Involved, the account overview) that features fill.

``core`` and ``involve`` may not import the feature packages, so a feature registers a
function that renders its part; the page asks for every part of its slot.
"""

from flask import current_app
from markupsafe import Markup


def register(app, slot, render, order=100):
    app.extensions.setdefault("panels", {}).setdefault(slot, []).append((order, render))


def render_slot(slot):
    parts = sorted(current_app.extensions.get("panels", {}).get(slot, []), key=lambda p: p[0])
    return Markup("\n").join(Markup(r() or "") for _, r in parts)
