"""Slots in shared pages (home, Get Involved, the account overview) that features fill.

``core`` and ``involve`` may not import the feature packages, so a feature registers a
function that renders its part; the page asks for every part of its slot.

A panel that shows the same to every visitor names the cache namespaces it reads
(``depends``): it is then drawn once per language until one of them changes, and the
pages around it may be kept whole for visitors who are not signed in.
"""

from flask import current_app
from markupsafe import Markup

from core import cache
from core.i18n import current_language


def register(app, slot, render, order=100, depends=None):
    """Add ``render`` to ``slot``; ``depends`` only if it shows nothing personal."""
    parts = app.extensions.setdefault("panels", {}).setdefault(slot, [])
    parts.append((order, render, None if depends is None else tuple(depends)))


def _parts(slot):
    return sorted(current_app.extensions.get("panels", {}).get(slot, []), key=lambda p: p[0])


def depends(slot):
    """What every panel of ``slot`` depends on, or None if one of them is personal."""
    names = set()
    for _, _, needs in _parts(slot):
        if needs is None:
            return None
        names.update(needs)
    return sorted(names)


def _render(slot, number, render, needs):
    if needs is None:
        return Markup(render() or "")
    key = ("panel", slot, number, current_language())
    return cache.fragment(key, needs, lambda: render() or "")


def render_slot(slot):
    return Markup("\n").join(
        _render(slot, n, render, needs) for n, (_, render, needs) in enumerate(_parts(slot))
    )
