"""Staff screens for plain records (Flask-Admin), behind the role checks.

Anything that moves money or changes a state machine has its own purpose-built view;
these screens are for records such as funds, pages and users. Each feature adds its own
with :func:`add_view`.
"""

import secrets

from flask import abort, g
from flask_admin import Admin, AdminIndexView
from flask_admin.contrib.sqla import ModelView
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto

from core.accounts.models import Role
from core.urls import MAX_ID, parse_id


class StaffOnly:
    """Admin views are for the admin role; everyone else gets a 403 like other staff pages."""

    required_role = Role.admin

    def is_accessible(self):
        return current_user.is_authenticated and current_user.has_role(self.required_role)

    def inaccessible_callback(self, name, **kwargs):
        abort(403)


class IndexView(StaffOnly, AdminIndexView):
    pass


class StaffForm(FlaskForm):
    """Flask-Admin's forms with our CSRF token.

    Flask-Admin's uniqueness check skips the record being edited by looking at the form's
    ``_obj``, which only its own form class sets: without it, saving any record with a
    unique column (a fund's address name) says "Already exists." about the record itself.
    """

    def __init__(self, formdata=_Auto, obj=None, prefix="", **kwargs):
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


class StaffModelView(StaffOnly, ModelView):
    """Edits with the CSRF token of every other form; nothing is deleted, records retire."""

    form_base_class = StaffForm
    can_delete = False
    page_size = 50

    def get_one(self, id):
        # ``?id=`` is typed by anyone: an id no row can have is "not found", not a database error.
        number = parse_id(id)
        return None if number is None else super().get_one(str(number))

    def _get_list_extra_args(self):
        view_args = super()._get_list_extra_args()
        last_page = MAX_ID // (self.page_size or 1)
        view_args.page = min(max(view_args.page or 0, 0), last_page)
        return view_args


def csp_nonce():
    """A nonce for Flask-Admin's own inline script and style, added to this page's CSP."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_admin(app):
    admin = Admin(
        app,
        name="Mondial",
        url="/admin",
        index_view=IndexView(url="/admin"),
        csp_nonce_generator=csp_nonce,
    )
    app.extensions["mondial_admin"] = admin
    return admin


def add_view(app, view):
    app.extensions["mondial_admin"].add_view(view)
