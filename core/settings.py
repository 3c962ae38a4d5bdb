"""Business settings that staff change, and small pieces of state the workers keep.

Values are JSON; each feature names its keys and defaults in one place (see ``DEFAULTS``
in the feature) so a fresh database works without any row here.
"""

import copy
from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context
from sqlalchemy.orm import Mapped, mapped_column

from core import audit, cache
from core.db import UTCDateTime, db, utcnow


class AppSetting(db.Model):
    __tablename__ = "app_setting"

    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    value: Mapped[dict] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


cache.watch(AppSetting, "settings")


def _all_settings():
    rows = db.session.scalars(sa.select(AppSetting))
    return {row.key: row.value["v"] for row in rows if "v" in (row.value or {})}


def get_setting(key, default=None):
    """A setting's value; in a request every setting is read at once and kept until one changes."""
    if has_request_context():
        values = cache.value("settings", ("settings",), _all_settings, fresh_copy=False)
        return copy.deepcopy(values[key]) if key in values else default
    row = db.session.get(AppSetting, key)
    return default if row is None else row.value.get("v", default)


def set_setting(key, value, *, audited=True):
    row = db.session.get(AppSetting, key)
    previous = None if row is None else row.value.get("v")
    if row is None:
        row = AppSetting(key=key, value={"v": value})
        db.session.add(row)
    else:
        row.value = {"v": value}
    if audited and previous != value:
        audit.record("setting.changed", data={"key": key, "from": previous, "to": value})
    db.session.flush()
    return row
