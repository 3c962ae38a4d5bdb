"""Names, address lines and email addresses: one rule each, the same in forms and the API."""

import marshmallow as ma
import pytest
import sqlalchemy as sa
from flask_wtf import FlaskForm
from wtforms import StringField

from core.db import db
from core.errors import ValidationError
from core.mail.models import OutboxMessage
from core.mail.services import UnsafeHeader, queue_email
from core.validators import (
    MIXED_SCRIPT_MESSAGE,
    PLAIN_TEXT_MESSAGE,
    EmailAddress,
    InvalidEmail,
    InvalidText,
    PlainText,
    check_plain_text,
    clean_email,
    email_address,
    normalise_email,
    plain_text,
)

PLAIN = [
    "Dana Donor",
    "Zoë O'Brien-Smith",
    "José Nuñez & Fils, s.e.n.c.",
    "Ms. Ng (c/o Mondial), 12–14 Elgin St. #3",
    "李小龙",
    "Анна Каренина",
    "",
]
NOT_PLAIN = [
    "Dana\r\nBcc: victim@example.org",
    "Dana\nDonor",
    "Dana\rDonor",
    "Dana\x00Donor",
    "Dana\tDonor",
    "Dana\x1bDonor",
    "Dana\x7fDonor",
    "Dana\x85Donor",  # NEL, a C1 line break
    "Dana\x9bDonor",
    "Dana\u2028Donor",
    "<script>alert(1)</script>",
    "<b>Bold</b>",
    "Dana > Donor",
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_is_accepted_everywhere(app, text):
    assert check_plain_text(text) == text
    assert plain_text(text) is None
    with app.test_request_context(method="POST", data={"name": text}):
        assert NameForm(meta={"csrf": False}).validate()


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_control_characters_and_angle_brackets_are_refused_everywhere(app, text):
    with pytest.raises(InvalidText) as refused:
        check_plain_text(text, field="donor_name")
    assert refused.value.field == "donor_name" and isinstance(refused.value, ValidationError)
    with pytest.raises(ma.ValidationError, match="no line breaks"):
        plain_text(text)
    with app.test_request_context(method="POST", data={"name": text}):
        form = NameForm(meta={"csrf": False})
        assert not form.validate()
        assert form.name.errors == [str(PLAIN_TEXT_MESSAGE)]


def test_the_message_is_translated(app):
    with app.test_request_context("/?lang=fr"):
        assert str(PLAIN_TEXT_MESSAGE).startswith("Veuillez")
        assert str(MIXED_SCRIPT_MESSAGE).startswith("Cette adresse")


class NameForm(FlaskForm):
    name = StringField(validators=[PlainText()])


class NameSchema(ma.Schema):
    name = ma.fields.String(validate=plain_text)


def test_a_marshmallow_field_uses_the_same_rule(app):
    assert NameSchema().load({"name": "Dana Donor"}) == {"name": "Dana Donor"}
    with pytest.raises(ma.ValidationError) as refused:
        NameSchema().load({"name": "Dana\r\nBcc: x@example.org"})
    assert "name" in refused.value.messages


# -- email addresses --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ana@example.org", "ana@example.org"),
        ("  Ana@Example.ORG ", "ana@example.org"),
        ("ａｎａ@ｅｘａｍｐｌｅ.ｏｒｇ", "ana@example.org"),  # fullwidth, NFKC
        ("ﬁona@example.org", "fiona@example.org"),  # the "ﬁ" ligature, NFKC
        ("анна@пример.рф", "анна@пример.рф"),  # all Cyrillic: one script
        ("josé.nuñez@example.org", "josé.nuñez@example.org"),
        ("山田たろう@example.jp", "山田たろう@example.jp"),  # Han and Hiragana go together
        ("ana+mondial2026@example.org", "ana+mondial2026@example.org"),
    ],
)
def test_addresses_are_normalised(app, typed, stored):
    assert clean_email(typed) == stored
    assert normalise_email(typed) == stored


@pytest.mark.parametrize(
    ("typed", "mixed"),
    [
        ("m\u0435mber@example.org", True),  # Cyrillic е among Latin letters
        ("\u0430dmin@example.org", True),  # Cyrillic а
        ("p\u0430yp\u0430l@example.org", True),
        ("ana@ex\u0430mple.org", True),  # in the domain
        ("αlpha@example.org", True),  # Greek α
        ("not an address", False),
        ("ana@", False),
        ("@example.org", False),
        ("ana@example", False),
        ("ana@@example.org", False),
        ("ana@example.org\r\nBcc: x@example.org", False),
        ("", False),
    ],
)
def test_look_alike_and_invalid_addresses_are_refused(app, typed, mixed):
    with app.test_request_context():
        with pytest.raises(InvalidEmail) as refused:
            clean_email(typed)
        message = str(refused.value.message)
        if mixed:
            assert "mixes letters from different alphabets" in message
        else:
            assert message == "Please enter a valid email address."
        with pytest.raises(ma.ValidationError, match="alphabets" if mixed else "valid email"):
            email_address(typed)


class EmailForm(FlaskForm):
    email = StringField(validators=[EmailAddress()])


def test_the_form_validator_leaves_the_normalised_address(app):
    with app.test_request_context(method="POST", data={"email": " ＡＮＡ@Example.org"}):
        form = EmailForm(meta={"csrf": False})
        assert form.validate()
        assert form.email.data == "ana@example.org"
    with app.test_request_context(method="POST", data={"email": "m\u0435mber@example.org"}):
        form = EmailForm(meta={"csrf": False})
        assert not form.validate()
        assert "alphabets" in form.email.errors[0]


# -- the outbox refuses what could never be a header ------------------------------------------


def outbox_count():
    return db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))


@pytest.mark.parametrize(
    ("changes", "header"),
    [
        ({"subject": "In memory of Lester\r\nBcc: everyone@example.org"}, "Subject"),
        ({"subject": "Thank you\n"}, "Subject"),
        ({"subject": "Thank you\x00"}, "Subject"),
        ({"subject": "Thank you\u2028Bcc: x@example.org"}, "Subject"),
        ({"to": "dana@example.org\r\nBcc: everyone@example.org"}, "To"),
        ({"to": "dana@example.org, everyone@example.org"}, "To"),
        ({"to": "not an address"}, "To"),
        ({"reply_to": "Dana <dana@example.org>\r\nBcc: x@example.org"}, "Reply-To"),
        ({"attachments": [("receipt\r\n.pdf", "application/pdf", b"%PDF")]}, "attachment name"),
    ],
)
def test_the_outbox_refuses_a_header_with_a_line_break_at_queue_time(app_ctx, changes, header):
    message = {"subject": "Thank you", "to": "dana@example.org", **changes}
    with pytest.raises(UnsafeHeader) as refused:
        queue_email(
            message.pop("to"), "news", context={"body": "Thank you."}, language="en", **message
        )
    assert refused.value.field == header
    assert refused.value.status == 400
    assert outbox_count() == 0


def test_a_clean_message_with_a_reply_to_is_queued_and_sent(app, deliver):
    with app.app_context():
        queue_email(
            "dana@example.org",
            "news",
            subject="Thank you, Zoë",
            context={"body": "Thank you."},
            reply_to="Tess Treasurer <treasurer@example.org>",
        )
        db.session.commit()
    [sent] = deliver().to("dana@example.org")
    assert sent["Subject"] == "Thank you, Zoë"
    assert sent["Reply-To"] == "Tess Treasurer <treasurer@example.org>"


# -- everywhere an address is typed -------------------------------------------------------------

LOOK_ALIKE = "m\u0435mber@example.org"


def test_the_api_refuses_a_look_alike_address_and_normalises_the_rest(app, client, funds):
    from tests.donations.test_api import gift_body

    refused = client.post("/api/v1/donations", json=gift_body(**{"donor.email": LOOK_ALIKE}))
    assert refused.status_code == 422
    [message] = refused.get_json()["error"]["fields"]["donor.email"]
    assert "mixes letters from different alphabets" in message


def test_the_donate_form_refuses_a_look_alike_address(app, client, funds):
    from tests.donation_fixtures import gift_form
    from tests.helpers import post_form

    response = post_form(client, "/donate", gift_form(email=LOOK_ALIKE))
    assert response.status_code == 400
    assert "mixes letters from different alphabets" in response.get_data(as_text=True)
    tribute = post_form(
        client,
        "/donate",
        gift_form(tribute_kind="honour", tribute_name="Lester", tribute_notify_email=LOOK_ALIKE),
    )
    assert tribute.status_code == 400
    assert "mixes letters from different alphabets" in tribute.get_data(as_text=True)
