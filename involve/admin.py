"""Staff screens for campaigns and content pages (Flask-Admin, admin role)."""

import re

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import BooleanField
from wtforms.validators import ValidationError

from core import audit
from core.admin import StaffModelView
from core.db import db
from involve.models import DeliveryMethod

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LINK = re.compile(r"^(https?://[^\s]+|/[^\s/][^\s]*|/)$")

# Flask-Admin's templates show only plain-string errors, so messages are translated here,
# while the form is validated, rather than lazily.


def _slug(form, field):
    if not SLUG.match(field.data or ""):
        raise ValidationError(_("Use lower-case letters, digits and hyphens, e.g. mali-2020."))


def _link_url(form, field):
    if not LINK.match((field.data or "").strip()):
        raise ValidationError(_("Use a full web address (https://…) or a path on this site (/…)."))


def _markdown_hint():
    return _l("Markdown: a blank line between paragraphs, **bold**, [link](https://…), - lists.")


class CampaignView(StaffModelView):
    column_list = (
        "slug",
        "title_en",
        "starts_on",
        "ends_on",
        "signature_count",
        "goal",
        "delivery",
        "published",
        "signatures",
    )
    column_default_sort = ("starts_on", True)
    column_searchable_list = ("slug", "title_en", "title_fr")
    column_labels = {
        "slug": _l("Address name (in /take-action/…)"),
        "title_en": _l("Title (English)"),
        "title_fr": _l("Title (French)"),
        "summary_en": _l("Summary (English)"),
        "summary_fr": _l("Summary (French)"),
        "body_en": _l("Text (English)"),
        "body_fr": _l("Text (French)"),
        "letter_en": _l("Letter (English)"),
        "letter_fr": _l("Letter (French)"),
        "result_en": _l("Result, once closed (English)"),
        "result_fr": _l("Result, once closed (French)"),
        "recipient_name_en": _l("Recipient (English)"),
        "recipient_name_fr": _l("Recipient (French)"),
        "recipient_email": _l("Recipient's email"),
        "recipient_address": _l("Recipient's postal address"),
        "recipient_language": _l("Recipient's language (en or fr)"),
        "starts_on": _l("Opens on"),
        "ends_on": _l("Closes after"),
        "goal": _l("Signature goal"),
        "delivery": _l("Delivery"),
        "letters_per_hour": _l("Letters per hour (email delivery)"),
        "published": _l("Shown to visitors"),
        "comments_open": _l("Comments open"),
        "signature_count": _l("Confirmed signatures"),
        "signatures": _l("Signatures"),
    }
    column_formatters = {
        "signatures": lambda view, context, model, name: Markup(
            '<a href="{}">{}</a>'.format(
                url_for("involve.staff_campaign", campaign_id=model.id), _l("Signatures, exports")
            )
        ),
    }
    form_columns = (
        "slug",
        "title_en",
        "title_fr",
        "summary_en",
        "summary_fr",
        "body_en",
        "body_fr",
        "letter_en",
        "letter_fr",
        "result_en",
        "result_fr",
        "recipient_name_en",
        "recipient_name_fr",
        "recipient_email",
        "recipient_address",
        "recipient_language",
        "starts_on",
        "ends_on",
        "goal",
        "delivery",
        "letters_per_hour",
        "published",
        "comments_open",
    )
    form_args = {
        "slug": {"validators": [_slug]},
        "body_en": {"description": _markdown_hint()},
        "body_fr": {"description": _markdown_hint()},
        "result_en": {"description": _markdown_hint()},
        "result_fr": {"description": _markdown_hint()},
        "letter_en": {"description": _l("Plain text; the signer's name follows it.")},
        "goal": {"description": _l("Optional: the number of signatures hoped for")},
    }

    def on_model_change(self, form, model, is_created):
        if model.ends_on and model.starts_on and model.ends_on < model.starts_on:
            raise ValidationError(_("The campaign must close after it opens."))
        if model.goal is not None and model.goal <= 0:
            raise ValidationError(_("The goal must be a positive number of signatures."))
        if model.letters_per_hour is None or model.letters_per_hour <= 0:
            raise ValidationError(_("Letters per hour must be a positive number."))
        if model.recipient_language not in ("en", "fr"):
            raise ValidationError(_("The recipient's language is en or fr."))
        if model.delivery != DeliveryMethod.pdf and not (model.recipient_email or "").strip():
            raise ValidationError(
                _("Delivery by email needs the recipient's email; choose PDF otherwise.")
            )
        audit.record("campaign.created" if is_created else "campaign.changed", model)


class PageView(StaffModelView):
    column_list = ("slug", "title_en", "title_fr", "published", "comments_open", "updated_at")
    column_default_sort = ("slug", False)
    column_searchable_list = ("slug", "title_en", "title_fr")
    column_labels = {
        "slug": _l("Address name (in /pages/…)"),
        "title_en": _l("Title (English)"),
        "title_fr": _l("Title (French)"),
        "body_en": _l("Text (English)"),
        "body_fr": _l("Text (French)"),
        "published": _l("Shown to visitors"),
        "comments_open": _l("Comments open"),
        "updated_at": _l("Last changed"),
        "links": _l("Associated links"),
    }
    form_columns = (
        "slug",
        "title_en",
        "title_fr",
        "body_en",
        "body_fr",
        "published",
        "comments_open",
    )
    form_args = {
        "slug": {"validators": [_slug]},
        "body_en": {"description": _markdown_hint()},
        "body_fr": {"description": _markdown_hint()},
    }

    def on_model_change(self, form, model, is_created):
        audit.record("page.created" if is_created else "page.changed", model)


class PageLinkView(StaffModelView):
    """A page's associated links, on a screen of their own: Flask-Admin's inline rows need
    an inline script that our Content-Security-Policy refuses."""

    column_list = ("page", "position", "label_en", "label_fr", "href")
    column_default_sort = ("page_id", False)
    column_labels = {
        "page": _l("Page"),
        "position": _l("Order"),
        "label_en": _l("Label (English)"),
        "label_fr": _l("Label (French)"),
        "href": _l("Address"),
    }
    form_columns = ("page", "position", "label_en", "label_fr", "href")
    form_args = {"href": {"validators": [_link_url]}}

    def get_edit_form(self):
        # Flask-Admin's delete buttons confirm with an inline script that the CSP refuses;
        # a box on the edit form removes a link instead.
        class EditForm(super().get_edit_form()):
            remove = BooleanField(_l("Remove this link from the page"))

        return EditForm

    def update_model(self, form, model):
        if not form.remove.data:
            return super().update_model(form, model)
        audit.record("page_link.removed", model, data={"page": model.page_id, "href": model.href})
        db.session.delete(model)
        db.session.commit()
        return True

    def on_model_change(self, form, model, is_created):
        audit.record("page_link.created" if is_created else "page_link.changed", model)
