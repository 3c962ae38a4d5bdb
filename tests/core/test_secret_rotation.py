"""Rotating SECRET_KEY: links signed with a key in SECRET_KEY_FALLBACKS keep working."""

import pytest

from config import load_config
from core.tokens import InvalidLink, make_token, read_token

OLD = "old-key-0123456789abcdefghijklmnopqrstuvwxyz"
NEW = "new-key-9876543210zyxwvutsrqponmlkjihgfedcba"


def test_the_fallbacks_are_read_from_the_environment():
    settings = load_config({"APP_ENV": "testing", "SECRET_KEY_FALLBACKS": f" {OLD} , other ,"})
    assert settings["SECRET_KEY_FALLBACKS"] == [OLD, "other"]
    assert load_config({"APP_ENV": "testing"})["SECRET_KEY_FALLBACKS"] == []


@pytest.fixture
def keys(app):
    saved = app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"]

    def use(key, fallbacks=()):
        app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = key, list(fallbacks)

    with app.app_context():
        yield use
    app.config["SECRET_KEY"], app.config["SECRET_KEY_FALLBACKS"] = saved


def test_a_link_signed_with_the_old_key_is_read_while_it_is_a_fallback(keys):
    keys(OLD)
    old_link = make_token("monthly-gift", {"id": 7})
    keys(NEW, [OLD])
    assert read_token("monthly-gift", old_link) == {"id": 7}
    new_link = make_token("monthly-gift", {"id": 8})
    keys(NEW)  # the fallback removed: old links end, new ones still work
    with pytest.raises(InvalidLink):
        read_token("monthly-gift", old_link)
    assert read_token("monthly-gift", new_link) == {"id": 8}
    keys(OLD)  # new links were signed with the new key, not the fallback
    with pytest.raises(InvalidLink):
        read_token("monthly-gift", new_link)


def test_a_session_signed_with_the_old_key_survives_the_rotation(app, client, keys):
    keys(OLD)
    with client.session_transaction() as session:
        session["probe"] = "kept"
    keys(NEW, [OLD])
    with client.session_transaction() as session:
        assert session.get("probe") == "kept"
    keys(NEW)
    with client.session_transaction() as session:
        assert session.get("probe") is None
