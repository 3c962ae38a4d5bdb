"""Staff screens for the catalogue, tax rates and shipping rates (admin role)."""

from flask_babel import lazy_gettext as _l

from core.admin import StaffModelView
from core.forms import MoneyField
from core.money import format_money


def _money(view, context, model, name):
    value = getattr(model, name)
    return format_money(value) if value is not None else ""


class ProductView(StaffModelView):
    column_list = ("position", "slug", "title_en", "format", "price", "stock", "active")
    column_default_sort = ("position", False)
    column_filters = ("format", "kind", "active")
    column_labels = {
        "slug": _l("Address name (in /shop/…)"),
        "title_en": _l("Title (English)"),
        "title_fr": _l("Title (French)"),
        "contents_en": _l("Contents (English)"),
        "contents_fr": _l("Contents (French)"),
        "issue_number": _l("Issue number"),
        "published_on": _l("Publication date"),
        "edition": _l("Edition language (en or fr)"),
        "cover_image": _l("Cover image (file name)"),
        "price": _l("Price"),
        "stock": _l("Copies in stock"),
        "weight_grams": _l("Weight (grams)"),
        "tax_category": _l("Tax category"),
        "file_name": _l("PDF file (name in the private folder)"),
        "active": _l("On sale"),
        "position": _l("Order"),
    }
    column_formatters = {"price": _money}
    form_columns = (
        "slug",
        "kind",
        "format",
        "title_en",
        "title_fr",
        "issue_number",
        "season",
        "year",
        "published_on",
        "edition",
        "contents_en",
        "contents_fr",
        "cover_image",
        "price",
        "stock",
        "weight_grams",
        "tax_category",
        "file_name",
        "active",
        "position",
    )
    form_overrides = {"price": MoneyField}
    form_args = {"price": {"description": _l("In dollars, before tax")}}


class TaxRateView(StaffModelView):
    can_create = False
    column_list = ("province", "federal", "provincial", "printed_rebate")
    column_default_sort = ("province", False)
    column_labels = {
        "province": _l("Province or territory"),
        "federal": _l("GST (hundredths of a percent)"),
        "provincial": _l("Provincial part of HST (hundredths of a percent)"),
        "printed_rebate": _l("Provincial part rebated on printed publications"),
    }
    form_columns = ("federal", "provincial", "printed_rebate")


class ShippingRateView(StaffModelView):
    column_list = ("zone", "up_to_grams", "price")
    column_default_sort = ("zone", False)
    column_labels = {
        "zone": _l("Zone (CA, US or INTL)"),
        "up_to_grams": _l("Up to (grams)"),
        "price": _l("Price"),
    }
    column_formatters = {"price": _money}
    form_columns = ("zone", "up_to_grams", "price")
    form_overrides = {"price": MoneyField}
