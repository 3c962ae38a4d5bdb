"""The admin's screen for membership tiers (Flask-Admin).

Changing a price here changes what new members and renewals pay; auto-renewals keep
their price until staff apply the new one from the membership settings, with notice.
"""

from flask_babel import lazy_gettext as _l

from core import audit
from core.admin import StaffModelView
from core.forms import MoneyField
from core.money import format_money


def _money(view, context, model, name):
    return format_money(getattr(model, name))


class TierView(StaffModelView):
    column_list = (
        "position",
        "slug",
        "name_en",
        "name_fr",
        "price",
        "lifetime",
        "adults",
        "active",
    )
    column_default_sort = ("position", False)
    column_labels = {
        "slug": _l("Address name (in /join/…)"),
        "name_en": _l("Name (English)"),
        "name_fr": _l("Name (French)"),
        "description_en": _l("What it includes (English)"),
        "description_fr": _l("What it includes (French)"),
        "price": _l("Price"),
        "lifetime": _l("For life (paid once)"),
        "adults": _l("Adults"),
        "mondial_print": _l("Mondial in print"),
        "mondial_digital": _l("Mondial in digital form"),
        "advantage": _l("Fair market value of the benefits"),
        "advantage_description_en": _l("Benefits, as printed on receipts (English)"),
        "advantage_description_fr": _l("Benefits, as printed on receipts (French)"),
        "taxable": _l("GST/HST applies"),
        "active": _l("Offered"),
        "position": _l("Order"),
    }
    column_formatters = {"price": _money, "advantage": _money}
    form_columns = (
        "slug",
        "name_en",
        "name_fr",
        "description_en",
        "description_fr",
        "price",
        "lifetime",
        "adults",
        "mondial_print",
        "mondial_digital",
        "advantage",
        "advantage_description_en",
        "advantage_description_fr",
        "taxable",
        "active",
        "position",
    )
    form_overrides = {"price": MoneyField, "advantage": MoneyField}
    form_args = {
        "price": {"description": _l("In dollars, per year (or once, for life)")},
        "advantage": {"description": _l("In dollars; not more than the price")},
        "adults": {"description": _l("1, or 2 for a household")},
    }

    def on_model_change(self, form, model, is_created):
        from core.errors import ValidationError

        if model.price is None or model.price < 0:
            raise ValidationError(_l("Please give a price."))
        if model.advantage is None:
            model.advantage = 0
        if model.advantage > model.price:
            raise ValidationError(_l("The benefits cannot be worth more than the price."))
        if model.adults not in (1, 2):
            raise ValidationError(_l("A tier counts 1 or 2 adults."))
        changes = {
            name: {"from": str(field.object_data), "to": str(field.data)}
            for name, field in form._fields.items()
            if name in self.form_columns and field.object_data != field.data
        }
        audit.record("tier.created" if is_created else "tier.changed", model, data=changes)
