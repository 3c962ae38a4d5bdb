"""The admin's screen for accounts: names, roles, and whether an account may sign in."""

from flask_admin.contrib.sqla.filters import BooleanEqualFilter, EnumEqualFilter
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from core import audit
from core.accounts.models import Role, User
from core.accounts.services import revoke_all_sessions
from core.admin import StaffModelView

ROLE_LABELS = {
    Role.member: lazy_pgettext("role", "Member"),
    Role.moderator: lazy_pgettext("role", "Moderator"),
    Role.treasurer: lazy_pgettext("role", "Treasurer"),
    Role.admin: lazy_pgettext("role", "Administrator"),
}


class UserView(StaffModelView):
    can_create = False  # people register themselves; staff accounts: `flask users create`
    column_list = ("email", "name", "role", "active", "email_verified_at", "last_login_at")
    column_searchable_list = ("email", "name")
    column_filters = (
        EnumEqualFilter(
            User.role,
            _l("Role"),
            options=lambda: [(role.name, str(label)) for role, label in ROLE_LABELS.items()],
        ),
        BooleanEqualFilter(User.active, _l("May sign in")),
    )
    column_formatters = {"role": lambda view, context, model, name: ROLE_LABELS[model.role]}
    column_default_sort = ("id", True)
    form_columns = ("name", "role", "active")
    column_labels = {
        "email": _l("Email"),
        "name": _l("Name"),
        "role": _l("Role"),
        "active": _l("May sign in"),
        "email_verified_at": _l("Email confirmed"),
        "last_login_at": _l("Last sign-in"),
    }

    def on_model_change(self, form, model, is_created):
        changes = {
            name: {"from": str(field.object_data), "to": str(field.data)}
            for name, field in form._fields.items()
            if name in self.form_columns and field.object_data != field.data
        }
        if changes:
            audit.record("user.changed_by_admin", model, data=changes)
        if "active" in changes and not model.active:
            revoke_all_sessions(model)  # a blocked account is signed out everywhere
