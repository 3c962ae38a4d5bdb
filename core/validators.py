"""Rules for what people type, shared by the HTML forms (WTForms) and the JSON API (marshmallow).

Each rule is one function that returns the cleaned value or raises a :class:`ValidationError`
from ``core.errors`` (so services may call it too); thin adapters let a WTForms field
(``validators=[PlainText()]``) or a marshmallow field (``validate=plain_text``) use it as is.
"""

import re
import unicodedata

import email_validator
import marshmallow as ma
from confusable_homoglyphs import categories
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError as FormError

from core.errors import ValidationError

# -- plain text: names, organizations, address lines -----------------------------------------

#: C0 controls (NUL, tab, CR, LF, …), DEL, C1 controls and the Unicode line and paragraph
#: separators: nothing a person means to type on one line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: The same, and the angle brackets of markup.
_NOT_PLAIN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029<>]")

PLAIN_TEXT_MESSAGE = _l("Please use plain text here: no line breaks, control characters, < or >.")


class InvalidText(ValidationError):
    code = "invalid_text"
    default_message = PLAIN_TEXT_MESSAGE


def has_control_characters(value):
    """True when ``value`` holds a line break or another control character."""
    return _CONTROL.search(value or "") is not None


def is_plain_text(value):
    """True when ``value`` holds no control character, line break or angle bracket."""
    return _NOT_PLAIN.search(value or "") is None


def check_plain_text(value, field=None):
    """Return ``value`` if it is plain text (a name, an organization, an address line).

    Raises :class:`InvalidText`. Such text ends up in email headers, on receipts and in
    HTML: a line break could add a header, and markup has no place in a name.
    """
    if not is_plain_text(value):
        raise InvalidText(field=field)
    return value


class PlainText:
    """WTForms validator for :func:`check_plain_text`."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        if field.data and not is_plain_text(field.data):
            # A str, not the lazy string: Flask-Babel's lazy strings count as safe HTML.
            raise FormError(str(self.message or PLAIN_TEXT_MESSAGE))


def plain_text(value):
    """marshmallow validator for :func:`check_plain_text`: ``Text(200, validate=plain_text)``."""
    if value and not is_plain_text(value):
        raise ma.ValidationError(str(PLAIN_TEXT_MESSAGE))


# -- email addresses ---------------------------------------------------------------------------

EMAIL_MESSAGE = _l("Please enter a valid email address.")
MIXED_SCRIPT_MESSAGE = _l(
    "This address mixes letters from different alphabets (for example a Cyrillic “е” "
    "among Latin letters). Please type it again using one alphabet."
)

#: Scripts that are written together (Unicode TS 39, "highly restrictive"); any other mix
#: in one part of an address is a look-alike waiting to happen.
_SCRIPT_FAMILIES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_NO_SCRIPT = frozenset({"COMMON", "INHERITED", "Unknown"})


class InvalidEmail(ValidationError):
    code = "invalid_email"
    default_message = EMAIL_MESSAGE


def normalise_email(address):
    """The form an address is stored and looked up in: trimmed, NFKC, lower case.

    It does not check the address; :func:`clean_email` does. Mail providers treat the
    local part without regard to case, and accounts have always been stored this way.
    """
    return unicodedata.normalize("NFKC", (address or "").strip()).lower()


def scripts_of(text):
    """The Unicode scripts of the letters in ``text`` (digits and punctuation have none)."""
    return {categories.alias(char) for char in text} - _NO_SCRIPT


def is_single_script(text):
    scripts = scripts_of(text)
    return len(scripts) <= 1 or any(scripts <= family for family in _SCRIPT_FAMILIES)


def clean_email(address, field="email"):
    """Return ``address`` checked and normalised, or raise :class:`InvalidEmail`.

    Refuses what is not an address, and an address whose local part or any domain label
    mixes alphabets, such as ``mеmber@example.org`` with a Cyrillic "е": it would look
    exactly like someone else's.
    """
    address = normalise_email(address)
    try:
        email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError:
        raise InvalidEmail(field=field) from None
    local, _, domain = address.rpartition("@")
    if not is_single_script(local) or not all(map(is_single_script, domain.split("."))):
        raise InvalidEmail(MIXED_SCRIPT_MESSAGE, field=field)
    return address


class EmailAddress:
    """WTForms validator for :func:`clean_email`; leaves the normalised address in the field."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        if not field.data:
            return
        try:
            field.data = clean_email(field.data)
        except InvalidEmail as error:
            mixed = error.message is MIXED_SCRIPT_MESSAGE
            message = error.message if mixed else self.message or error.message
            raise FormError(str(message)) from None


def email_address(value):
    """marshmallow validator for :func:`clean_email` (the API's ``Email`` field uses it)."""
    try:
        clean_email(value)
    except InvalidEmail as error:
        raise ma.ValidationError(str(error.message)) from None
