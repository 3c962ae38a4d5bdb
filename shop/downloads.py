"""Digital issues: a signed, expiring link per order line, served through the app.

The link carries the line's own random token, signed with the time it was made; it works
for ``shop.download_days`` days and ``shop.download_limit`` downloads (staff settings).
Files live in a private folder (``SHOP_FILES_DIR``), never under a public path.
"""

from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from core import audit
from core.db import locked
from core.errors import Conflict, NotFound
from core.tokens import make_token, read_token
from core.urls import absolute_url
from shop.models import OrderLine, OrderStatus

SALT = "shop-download"
SERVED = (
    OrderStatus.paid,
    OrderStatus.fulfilled,
    OrderStatus.shipped,
    OrderStatus.partially_refunded,
)


def files_dir():
    configured = current_app.config.get("SHOP_FILES_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "shop-files"


def download_url(line):
    return absolute_url("shop.download", token=make_token(SALT, line.download_token))


def limit_reached():
    return Conflict(
        _l("This link has been used as many times as it allows. Please ask us for a new one."),
        code="download_limit",
    )


def take_download(token):
    """The line and file a link serves, counting this download; refuses spent or old links."""
    from shop.services import setting

    days = setting("shop.download_days")
    key = read_token(SALT, token, max_age=days * 86_400)
    line = locked(sa.select(OrderLine).where(OrderLine.download_token == key)).first()
    if line is None or line.is_print or line.order.status not in SERVED:
        raise NotFound()
    if line.downloads >= setting("shop.download_limit"):
        raise limit_reached()
    path = (files_dir() / (line.product.file_name or "")).resolve()
    if (
        not line.product.file_name
        or not path.is_file()
        or files_dir().resolve() not in path.parents
    ):
        raise NotFound()
    line.downloads += 1
    audit.record("order.downloaded", line.order, data={"line": line.id, "count": line.downloads})
    return line, path


def resend(order):
    """Staff send the download links again (a fresh signature, the count kept)."""
    from shop.handlers import confirm

    confirm(order)
    audit.record("order.links_resent", order)
