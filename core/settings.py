"""Business settings that staff change, and small pieces of state the workers keep.

Values are JSON; each feature names its keys and defaults in one place (see ``DEFAULTS``
in the feature) so a fresh database works without any row here.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core import audit
from core.db import UTCDateTime, db, utcnow


class AppSetting(db.Model):
    __tablename__ = "app_setting"

    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    value: Mapped[dict] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def get_setting(key, default=None):
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
