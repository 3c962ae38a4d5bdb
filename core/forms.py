"""Form fields shared by features."""

from flask_babel import get_locale
from wtforms import StringField

from core.errors import ValidationError as DomainValidationError
from core.money import parse_amount, to_decimal


class MoneyField(StringField):
    """Dollars as typed by staff ("1 500", "1500.00"), held as integer cents; empty is None."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(to_decimal(self.data))

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = None
            return
        locale = get_locale()
        try:
            self.data = parse_amount(text, locale=locale.language if locale else "en")
        except DomainValidationError as error:
            self.data = None
            raise ValueError(str(error.message)) from None
