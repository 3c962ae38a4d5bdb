"""Staff screens for plain records (Flask-Admin), behind the role checks.

Anything that moves money or changes a state machine has its own purpose-built view;
these screens are for records such as funds, pages and users. Each feature adds its own
with :func:`add_view`.

The screens are drawn by our own templates (``templates/admin/staff/``) on top of
Flask-Admin's: the site's header and language toggle, a ``lang`` attribute, no script at
all (menus, filters and pages are plain links, so nothing needs an inline handler or a
``javascript:`` link that the CSP would block), and times where the organization is.
"""

from datetime import date, datetime

from flask import request
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.model import typefmt
from flask_admin.theme import Bootstrap4Theme
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto

from core.accounts.access import has_role, refuse
from core.accounts.models import Role
from core.i18n import format_org_time
from core.urls import MAX_ID, parse_id


class StaffOnly:
    """Admin views are for the admin role; everyone else is refused like on other staff pages."""

    required_role = Role.admin

    def is_accessible(self):
        return has_role(self.required_role)

    def inaccessible_callback(self, name, **kwargs):
        return refuse()


class IndexView(StaffOnly, AdminIndexView):
    @expose("/")
    def index(self):
        return self.render("admin/staff/index.html")


class StaffForm(FlaskForm):
    """Flask-Admin's forms with our CSRF token.

    Flask-Admin's uniqueness check skips the record being edited by looking at the form's
    ``_obj``, which only its own form class sets: without it, saving any record with a
    unique column (a fund's address name) says "Already exists." about the record itself.
    """

    def __init__(self, formdata=_Auto, obj=None, prefix="", **kwargs):
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


def _yes_no(view, value, name):
    return _("Yes") if value else _("No")


def _when(view, value, name):
    return format_org_time(value)


def _day(view, value, name):
    return format_date(value, "medium")


#: Text a screen reader can say, times to the minute where the organization is.
FORMATTERS = {
    **typefmt.BASE_FORMATTERS,
    bool: _yes_no,
    datetime: _when,
    date: _day,
}


class StaffModelView(StaffOnly, ModelView):
    """Edits with the CSRF token of every other form; nothing is deleted, records retire."""

    form_base_class = StaffForm
    can_delete = False
    page_size = 50
    list_template = "admin/staff/list.html"
    create_template = "admin/staff/create.html"
    edit_template = "admin/staff/edit.html"
    details_template = "admin/staff/details.html"
    column_type_formatters = FORMATTERS
    column_type_formatters_detail = FORMATTERS

    def render(self, template, **kwargs):
        """A form sent back with what to fix answers 400, as every other form does."""
        page = super().render(template, **kwargs)
        form = kwargs.get("form")
        if request.method == "POST" and form is not None and form.errors:
            return page, 400
        return page

    def get_one(self, id):
        # ``?id=`` is typed by anyone: an id no row can have is "not found", not a database error.
        number = parse_id(id)
        return None if number is None else super().get_one(str(number))

    def _get_list_extra_args(self):
        view_args = super()._get_list_extra_args()
        last_page = MAX_ID // (self.page_size or 1)
        view_args.page = min(max(view_args.page or 0, 0), last_page)
        return view_args

    def quick_filters(self):
        """The "equals" filters with a fixed set of choices, as links (no script needed).

        Returns ``[(label, [(choice, url, chosen), ...]), ...]``; the first choice of each
        ("All") removes that filter and keeps the others.
        """
        view_args = self._get_list_extra_args()
        active = view_args.filters or []
        groups = []
        for index, flt in enumerate(self._filters or ()):
            options = flt.get_options(self) if isinstance(flt, FilterEqual) else None
            if not options:
                continue
            others = [f for f in active if f[0] != index]
            chosen = {str(f[2]) for f in active if f[0] == index}

            def url(filters):
                return self._get_list_url(view_args.clone(filters=filters, page=0))

            links = [(_("All"), url(others), not chosen)]
            links += [
                (label, url([*others, (index, flt.name, value)]), str(value) in chosen)
                for value, label in options
            ]
            groups.append((flt.name, links))
        return groups


def staff_menu(current_view):
    """Flask-Admin's menu as ``[(category or None, [(name, url, active)])]``, for plain links."""
    admin = current_view.admin
    sections = []
    for item in admin.menu():
        children = item.get_children() if item.is_category() else [item]
        links = [
            (child.name, child.get_url(), child.is_active(current_view))
            for child in children
            if not child.is_category()
            and getattr(child, "_view", None) is not admin.index_view
            and child.is_accessible()
            and child.is_visible()
        ]
        if links:
            sections.append((item.name if item.is_category() else None, links))
    return sections


def init_admin(app):
    admin = Admin(
        app,
        name="Mondial",
        url="/admin",
        index_view=IndexView(url="/admin", name=_l("Staff screens")),
        theme=Bootstrap4Theme(base_template="admin/staff/base.html"),
    )
    app.extensions["mondial_admin"] = admin
    app.jinja_env.globals["staff_menu"] = staff_menu
    return admin


def add_view(app, view):
    app.extensions["mondial_admin"].add_view(view)
