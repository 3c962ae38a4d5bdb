"""Form fields shared by features."""

import threading

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import DateField, StringField
from wtforms.fields.choices import Choice
from wtforms.validators import ValidationError
from wtforms.widgets import Select, html_params

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


class OptionsOnce(Select):
    """A select whose options are drawn once per list of choices, then only marked.

    For long lists that never change while the process runs (the 250 countries of a
    locale): the field's ``choices`` must be the same object from one request to the next.
    """

    MAX_LISTS = 16

    def __init__(self):
        super().__init__()
        self._drawn = {}
        self._lock = threading.Lock()

    def _draw(self, field):
        choices = field.choices
        with self._lock:
            drawn = self._drawn.get(id(choices))
            # Keeping ``choices`` in the entry keeps its id from being reused by another list.
            if drawn is not None and drawn[0] is choices:
                return drawn
        plain, marked, where = [], {}, {}
        for choice in field.choices:
            option = Choice(choice.value, choice.label, False, choice.render_kw)
            html = str(self.render_option(option))
            where[choice.value] = len(plain)
            plain.append(html)
            marked[choice.value] = str(self.render_option(option._replace(selected=True)))
        drawn = (choices, plain, marked, where)
        with self._lock:
            if len(self._drawn) >= self.MAX_LISTS:
                self._drawn.clear()
            self._drawn[id(choices)] = drawn
        return drawn

    def __call__(self, field, **kwargs):
        _, plain, marked, where = self._draw(field)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in self.validation_attrs:
            if name not in kwargs and getattr(flags, name, False):
                kwargs[name] = getattr(flags, name)
        options = plain
        selected = field.data  # choices' values are the data's type (a country code)
        if selected in where:
            options = list(plain)
            options[where[selected]] = marked[selected]
        return Markup(
            f"<select {html_params(name=field.name, **kwargs)}>{''.join(options)}</select>"
        )


#: Years a date typed on a staff screen may fall in; beyond them it is a typing slip.
YEARS = (2000, 2100)


class DayField(DateField):
    """A calendar date typed as YYYY-MM-DD (the browser's date picker sends that)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Please enter a date as YYYY-MM-DD.")) from None

    def pre_validate(self, form):
        if self.data is not None and not YEARS[0] <= self.data.year <= YEARS[1]:
            raise ValidationError(
                _l("Please enter a date between %(low)s and %(high)s.", low=YEARS[0], high=YEARS[1])
            )
