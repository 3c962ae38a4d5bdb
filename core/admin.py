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

from core.accounts.models import Role


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
    """Flask-WTF's form (CSRF) that also keeps the record it edits, as Flask-Admin's does.

    Flask-Admin's uniqueness check compares a clashing row with ``form._obj``; without it,
    saving any record with a unique column (a fund's address name) failed as "Already exists".
    """

    def __init__(self, formdata=None, obj=None, prefix="", **kwargs):
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


class StaffModelView(StaffOnly, ModelView):
    """Edits with the CSRF token of every other form; nothing is deleted, records retire."""

    form_base_class = StaffForm
    can_delete = False
    page_size = 50


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
