"""The page cache's parts: versions bumped on commit only, and a select drawn once."""

import pytest
import sqlalchemy as sa
from wtforms import Form, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select

from core import cache
from core.db import db
from core.forms import OptionsOnce
from core.settings import AppSetting, set_setting

CHOICES = (
    SelectChoice("CA", "Canada"),
    SelectChoice("FR", "France & <co>"),
    SelectChoice("ZA", "Z"),
)


class Plain(Form):
    country = SelectField(choices=CHOICES)


class Drawn(Form):
    country = SelectField(choices=CHOICES, widget=OptionsOnce())


@pytest.mark.parametrize("data", ["CA", "FR", "ZA", "XX", None])
def test_a_select_drawn_once_is_the_select_wtforms_draws(data):
    plain, drawn = Plain(data={"country": data}), Drawn(data={"country": data})
    drawn.country.choices = plain.country.choices = CHOICES
    for kwargs in ({}, {"autocomplete": "country", "class": "wide"}):
        assert str(drawn.country(**kwargs)) == str(Select()(plain.country, **kwargs))


def versions(app, name):
    with app.test_request_context():
        return cache.versions([name])


@pytest.mark.parametrize(
    ("commit", "bumped"),
    [(True, 1), (False, 0)],
)
def test_a_change_bumps_its_namespace_when_committed_only(app, commit, bumped):
    before = versions(app, "settings")[0]
    with app.app_context():
        set_setting("some.key", 1, audited=False)
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
    assert versions(app, "settings")[0] == before + bumped


def test_a_savepoint_rolled_back_keeps_the_change_made_before_it(app):
    before = versions(app, "settings")[0]
    with app.app_context():
        set_setting("some.key", 1, audited=False)
        try:
            with db.session.begin_nested():
                set_setting("other.key", 2, audited=False)
                raise LookupError
        except LookupError:
            pass
        db.session.commit()
    assert versions(app, "settings")[0] > before


def test_a_bulk_update_bumps_too(app):
    with app.app_context():
        set_setting("some.key", 1, audited=False)
        db.session.commit()
    before = versions(app, "settings")[0]
    with app.app_context():
        db.session.execute(sa.update(AppSetting).values(value={"v": 2}))
        db.session.commit()
    assert versions(app, "settings")[0] == before + 1


def test_a_setting_read_in_the_transaction_that_changed_it_is_the_new_value(app):
    from core.settings import get_setting

    with app.test_request_context():
        assert get_setting("some.key", "none") == "none"
        set_setting("some.key", "changed", audited=False)
        assert get_setting("some.key", "none") == "changed"
        db.session.rollback()
        assert get_setting("some.key", "none") == "none"
