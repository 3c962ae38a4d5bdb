"""Absolute links for emails and Stripe, always built on ``BASE_URL``, never the Host header."""

from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import IntegerConverter

#: The largest id a table holds: our primary keys are 32-bit database integers.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a number no row can have is a 404, not a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)


def parse_id(value):
    """An id typed into a query string (``?id=``), or None when no row could have it."""
    try:
        number = int(str(value).strip()) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and 0 < number <= MAX_ID else None


def absolute_url(endpoint, **values):
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
