"""Forms of the staff screens."""

from flask_babel import lazy_gettext as _l
from wtforms import Form, SearchField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from involve.forms import AVAILABILITY, INTERESTS, LANGUAGES
from involve.reports import VolunteerFilters

ANY = [SelectChoice("", _l("Any"))]


class VolunteerFilterForm(Form):
    """Filters read from the query string (a GET form: no CSRF token to carry around)."""

    interest = SelectField(_l("Interest"), choices=ANY + INTERESTS, validators=[Optional()])
    language = SelectField(_l("Language"), choices=ANY + LANGUAGES, validators=[Optional()])
    availability = SelectField(
        _l("Availability"), choices=ANY + AVAILABILITY, validators=[Optional()]
    )
    search = SearchField(_l("Name or email"), validators=[Optional(), Length(max=100)])

    def filters(self):
        return VolunteerFilters(
            interest=self.interest.data or "",
            language=self.language.data or "",
            availability=self.availability.data or "",
            search=(self.search.data or "").strip(),
        )

    def query_args(self):
        return {k: v for k, v in self.data.items() if v}
