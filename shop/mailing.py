"""The mailing list of an issue of Mondial: everyone entitled to it on its publication date.

Members come from the members service (their terms, grace and households are its rules);
subscription buyers are entitled to the issues published in the year after they paid.
A person is on the list once, in the form they chose: the printer gets a CSV of the print
copies, and the digital copies go out by email through the outbox, once per person.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.db import db
from core.errors import NotFound
from core.mail.services import queue_email
from core.tokens import make_token, read_token
from core.urls import absolute_url
from members import entitlement
from members.dates import add_years
from shop.models import (
    IssueSend,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    ProductFormat,
    ProductKind,
)

SALT = "shop-issue"
#: Orders whose subscription still counts.
KEPT = (
    OrderStatus.paid,
    OrderStatus.fulfilled,
    OrderStatus.shipped,
    OrderStatus.partially_refunded,
)

CSV_HEADER = [
    "name",
    "address_line1",
    "address_line2",
    "city",
    "province",
    "postal_code",
    "country",
    "language",
]


@dataclass(frozen=True)
class Copy:
    format: str
    name: str
    email: str
    language: str
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    province: str = ""
    postal_code: str = ""
    country: str = ""
    source: str = "member"


def issues():
    """``[(number, published_on)]`` of the issues in the catalogue, newest first."""
    rows = db.session.execute(
        sa.select(Product.issue_number, sa.func.min(Product.published_on))
        .where(Product.issue_number.is_not(None), Product.published_on.is_not(None))
        .group_by(Product.issue_number)
        .order_by(Product.issue_number.desc())
    ).all()
    return [(number, published) for number, published in rows]


def published_on(number):
    found = db.session.scalar(
        sa.select(sa.func.min(Product.published_on)).where(Product.issue_number == number)
    )
    if found is None:
        raise NotFound()
    return found


def _subscribers(on):
    """Subscription buyers whose year covers ``on`` (paid on or before it, less than a year)."""
    rows = db.session.execute(
        sa.select(Order, OrderLine)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            OrderLine.kind == ProductKind.subscription.value,
            OrderLine.refunded_quantity < OrderLine.quantity,
            Order.status.in_(KEPT),
            Order.paid_at.is_not(None),
        )
        .order_by(Order.paid_at, Order.id)
    ).all()
    found = []
    for order, line in rows:
        start = clock.local(order.paid_at).date()
        if start <= on < add_years(start):
            found.append(
                Copy(
                    format=line.format,
                    name=order.name or order.email,
                    email=order.email,
                    language=order.language,
                    address_line1=order.address_line1,
                    address_line2=order.address_line2,
                    city=order.city,
                    province=order.province,
                    postal_code=order.postal_code,
                    country=order.country,
                    source="subscription",
                )
            )
    return found


def copies(on, fmt=None):
    """Everyone entitled to the issue published ``on`` (a date): one copy per person."""
    if not isinstance(on, date):
        raise TypeError("on must be a date")
    found, seen = [], set()
    members = [
        Copy(
            format=r.format,
            name=r.name,
            email=r.email,
            language=r.language,
            address_line1=r.address_line1,
            address_line2=r.address_line2,
            city=r.city,
            province=r.province,
            postal_code=r.postal_code,
            country=r.country,
        )
        for r in entitlement.recipients(on)
    ]
    for copy in members + _subscribers(on):
        key = copy.email.strip().lower()
        if key in seen:
            continue
        seen.add(key)
        found.append(copy)
    return [c for c in found if fmt is None or c.format == fmt]


def csv_rows(number):
    """The printer's rows for an issue: print copies with their addresses."""
    for copy in copies(published_on(number), "print"):
        yield [
            copy.name,
            copy.address_line1,
            copy.address_line2,
            copy.city,
            copy.province,
            copy.postal_code,
            copy.country,
            copy.language,
        ]


def _digital_product(number, language):
    rows = db.session.scalars(
        sa.select(Product)
        .where(Product.issue_number == number, Product.format == ProductFormat.digital)
        .order_by(Product.id)
    ).all()
    for product in rows:
        if product.edition == language:
            return product
    return rows[0] if rows else None


def send_digital(number):
    """Email the digital copies of an issue, once per person; returns how many were queued."""
    on = published_on(number)
    queued = 0
    for copy in copies(on, "digital"):
        product = _digital_product(number, copy.language)
        if product is None:
            raise NotFound(_l("This issue has no PDF to send."))
        email = copy.email.strip().lower()
        exists = db.session.scalar(
            sa.select(IssueSend.id).where(
                IssueSend.product_id == product.id, IssueSend.email == email
            )
        )
        if exists:
            continue
        sent = IssueSend(product_id=product.id, email=email, sent_at=clock.now())
        db.session.add(sent)
        db.session.flush()
        queue_email(
            email,
            "shop/issue",
            subject=_l("The new issue of Mondial: %(title)s", title=product.title(copy.language)),
            language=copy.language,
            context={
                "name": copy.name,
                "title": product.title(copy.language),
                "url": absolute_url("shop.issue_download", token=make_token(SALT, sent.token)),
            },
        )
        queued += 1
    audit.record("mailing_list.sent", data={"issue": number, "emails": queued})
    return queued


def take_issue_download(token):
    """The file an issue link serves, counting the download (limits as for orders)."""
    from shop.downloads import files_dir
    from shop.services import setting

    key = read_token(SALT, token, max_age=setting("shop.download_days") * 86_400)
    sent = db.session.scalar(sa.select(IssueSend).where(IssueSend.token == key).with_for_update())
    if sent is None:
        raise NotFound()
    if sent.downloads >= setting("shop.download_limit"):
        from shop.downloads import limit_reached

        raise limit_reached()
    path = (files_dir() / (sent.product.file_name or "")).resolve()
    if not sent.product.file_name or not path.is_file():
        raise NotFound()
    sent.downloads += 1
    return sent.product, path
