"""Staff screens for funds (admin role)."""

from flask_babel import lazy_gettext as _l

from core.admin import StaffModelView
from core.forms import MoneyField
from core.money import format_money


class FundView(StaffModelView):
    column_list = ("position", "slug", "name_en", "name_fr", "goal", "active")
    column_default_sort = ("position", False)
    column_labels = {
        "slug": _l("Address name (in /funds/…)"),
        "name_en": _l("Name (English)"),
        "name_fr": _l("Name (French)"),
        "description_en": _l("Description (English)"),
        "description_fr": _l("Description (French)"),
        "goal": _l("Goal"),
        "active": _l("Shown to donors"),
        "position": _l("Order"),
    }
    column_formatters = {
        "goal": lambda view, context, model, name: (
            format_money(model.goal) if model.goal is not None else ""
        ),
    }
    form_columns = (
        "slug",
        "name_en",
        "name_fr",
        "description_en",
        "description_fr",
        "goal",
        "active",
        "position",
    )
    form_overrides = {"goal": MoneyField}
    form_args = {"goal": {"description": _l("Optional, in dollars")}}
