"""What a name or an address line may hold, for the join form, the API and the import alike.

The Canadian address rule is :func:`core.address.address_problems`.

Names end up in emails, on receipts and on mailing labels: control characters (a line
break could add an email header) and angle brackets (markup) are refused with a message
that says so, never silently dropped.
"""

import re
import unicodedata

from flask_babel import lazy_gettext as _l

_MARKUP = re.compile(r"[<>]")

CONTROL_MESSAGE = _l("Please use a single line without special characters.")
MARKUP_MESSAGE = _l("Please do not use angle brackets (< or >).")


def text_problem(value):
    """Why ``value`` cannot be a name or address line, or None when it is fine."""
    for char in value or "":
        # Cc: the C0 and C1 controls (CR, LF, NUL, …); Zl and Zp: the Unicode line and
        # paragraph separators, which break a line just as well.
        if unicodedata.category(char) in {"Cc", "Zl", "Zp"}:
            return CONTROL_MESSAGE
    if _MARKUP.search(value or ""):
        return MARKUP_MESSAGE
    return None
