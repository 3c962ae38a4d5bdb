"""Decoding of Stripe's bracketed form encoding into nested values."""

import json
import re

from werkzeug.wrappers import Response

from .errors import invalid

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def split_key(key):
    """Split ``a[b][0][]`` into ``["a", "b", "0", ""]``."""
    match = _KEY.match(key)
    if match is None:
        raise invalid(f"Invalid parameter name: {key}", key)
    return [match.group(1), *_PART.findall(match.group(2))]


def decode(pairs):
    """Build nested dicts from ``(key, value)`` pairs in their original order.

    Lists stay dicts keyed by their index (``"0"``, ``"1"``); ``[]`` appends the next
    index. The parameter schema turns them into lists, because only it knows whether
    ``metadata[0]`` is a list element or a metadata key.
    """
    root = {}
    for key, value in pairs:
        parts = split_key(key)
        node = root
        for depth, part in enumerate(parts):
            if part == "":
                part = str(len(node))
            if depth == len(parts) - 1:
                if isinstance(node.get(part), dict):
                    raise invalid(f"Invalid hash: {key} was also sent as a hash", key)
                node[part] = value
                break
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise invalid(f"Invalid hash: {key} was also sent as a value", key)
            node = child
    return root


def fingerprint(method, path, pairs):
    """What must match for a request to replay an idempotent one."""
    return (method, path, tuple(sorted(pairs)))


def path_of(parts):
    """Render ``["line_items", 0, "price"]`` as ``line_items[0][price]``."""
    head, *rest = [str(p) for p in parts]
    return head + "".join(f"[{p}]" for p in rest)


def json_response(status, body, headers=None):
    """A JSON response, pretty-printed as Stripe's are; list pages compact (the C encoder)."""
    listing = isinstance(body, dict) and body.get("object") == "list"
    return Response(
        json.dumps(body, indent=None if listing else 2) + "\n",
        status=status,
        headers=headers,
        content_type="application/json",
    )
