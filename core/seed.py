"""Demo data: staff accounts here; each feature adds its own part through :func:`register`."""

import sqlalchemy as sa
from flask import current_app

from core.accounts.models import Role, User
from core.accounts.services import create_user
from core.db import db

DEMO_STAFF = [
    ("admin@example.org", "demo-admin-pass", Role.admin, "Ada Admin"),
    ("treasurer@example.org", "demo-treasurer-pass", Role.treasurer, "Tess Treasurer"),
    ("moderator@example.org", "demo-moderator-pass", Role.moderator, "Moe Moderator"),
    ("member@example.org", "demo-member-pass", Role.member, "Mia Member"),
]


def register(app, name, run, order=100):
    """Add a feature's demo data; ``run()`` must be idempotent."""
    app.extensions.setdefault("seeds", []).append((order, name, run))


def seed_demo():
    """Create what is missing; return the staff logins to print."""
    logins = []
    for email, password, role, name in DEMO_STAFF:
        exists = db.session.scalar(sa.select(User.id).where(User.email == email))
        if not exists:
            create_user(email, password, name=name, role=role, verified=True)
        logins.append((email, password, role.name))
    for _, _, run in sorted(current_app.extensions.get("seeds", []), key=lambda s: s[0]):
        run()
        db.session.flush()
    return logins
