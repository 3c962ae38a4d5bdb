"""Who may see what: the role check every staff view wears.

One rule for every staff area (``/admin``, ``/treasurer``, ``/moderation``): a visitor
who is not signed in is sent to sign in, and comes back after; a signed-in person
without the role gets a 403.
"""

from functools import wraps

from flask import current_app
from flask_login import current_user

from core.accounts.models import Role
from core.errors import Forbidden


def refuse():
    """The answer to someone who may not see a staff page: sign in first, or 403."""
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    raise Forbidden()


def role_required(role):
    """Let through users with ``role`` or a higher one; see :func:`refuse` for the rest."""
    if isinstance(role, str):
        role = Role.parse(role)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated or not current_user.has_role(role):
                return refuse()
            return view(*args, **kwargs)

        wrapped.required_role = role
        return wrapped

    return decorator


def has_role(role):
    return current_user.is_authenticated and current_user.has_role(role)
