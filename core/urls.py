"""Absolute links for emails and Stripe, always built on ``BASE_URL``, never the Host header."""

from urllib.parse import urlsplit

from flask import current_app


def absolute_url(endpoint, **values):
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
