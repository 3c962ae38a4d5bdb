"""Who may see what: the role check every staff view wears."""

from functools import wraps

from flask_login import current_user

from core.accounts.models import Role
from core.errors import Forbidden


def role_required(role):
    """Let through users with ``role`` or a higher one; everyone else gets a 403."""
    if isinstance(role, str):
        role = Role.parse(role)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated or not current_user.has_role(role):
                raise Forbidden()
            return view(*args, **kwargs)

        wrapped.required_role = role
        return wrapped

    return decorator


def has_role(role):
    return current_user.is_authenticated and current_user.has_role(role)
