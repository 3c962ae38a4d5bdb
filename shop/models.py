"""The shop's rows: products, tax rates, shipping rates, carts, orders and their lines."""

import enum
import secrets
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, UTCDateTime, db
from core.states import StateMachine


def _enum(cls, name):
    return sa.Enum(cls, native_enum=False, length=30, create_constraint=True, name=name)


def _token():
    return secrets.token_urlsafe(32)  # 256 random bits


class ProductKind(enum.StrEnum):
    issue = "issue"  # an issue of Mondial
    subscription = "subscription"  # a year of Mondial, for non-members


class ProductFormat(enum.StrEnum):
    print = "print"
    digital = "digital"


class TaxCategory(enum.StrEnum):
    standard = "standard"
    #: A qualifying printed publication: the provincial part of HST is rebated at the point
    #: of sale in the provinces that rebate it.
    printed = "printed"
    zero_rated = "zero_rated"


class Product(TimestampMixin, db.Model):
    """Something the shop sells: an issue of Mondial in print or PDF, or a subscription."""

    __tablename__ = "shop_product"
    __table_args__ = (
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        sa.CheckConstraint("weight_grams >= 0", name="weight_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    kind: Mapped[ProductKind] = mapped_column(
        _enum(ProductKind, "shop_product_kind"), default=ProductKind.issue
    )
    format: Mapped[ProductFormat] = mapped_column(
        _enum(ProductFormat, "shop_product_format"), default=ProductFormat.print
    )
    title_en: Mapped[str] = mapped_column(sa.String(200))
    title_fr: Mapped[str] = mapped_column(sa.String(200))
    #: The issue's number, season and year; None for a subscription.
    issue_number: Mapped[int | None] = mapped_column(index=True)
    season: Mapped[str] = mapped_column(sa.String(20), default="")  # "spring" or "autumn"
    year: Mapped[int | None]
    published_on: Mapped[date | None] = mapped_column(sa.Date)
    #: The language of the edition: "en" or "fr".
    edition: Mapped[str] = mapped_column(sa.String(2), default="en")
    contents_en: Mapped[str] = mapped_column(sa.Text, default="")
    contents_fr: Mapped[str] = mapped_column(sa.Text, default="")
    cover_image: Mapped[str] = mapped_column(sa.String(200), default="")
    price: Mapped[int]
    #: Copies left to sell; None for what never runs out (a PDF, a subscription).
    stock: Mapped[int | None]
    weight_grams: Mapped[int] = mapped_column(default=0)
    tax_category: Mapped[TaxCategory] = mapped_column(
        _enum(TaxCategory, "shop_tax_category"), default=TaxCategory.printed
    )
    #: The PDF of a digital issue, a file name under the app's private shop folder.
    file_name: Mapped[str] = mapped_column(sa.String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)

    def title(self, language="en"):
        return self.title_fr if language == "fr" and self.title_fr else self.title_en

    def contents(self, language="en"):
        return self.contents_fr if language == "fr" and self.contents_fr else self.contents_en

    @property
    def is_print(self):
        return self.format == ProductFormat.print

    @property
    def sold_out(self):
        return self.stock is not None and self.stock <= 0

    def __str__(self):
        return self.title_en


class TaxRate(db.Model):
    """GST/HST where goods are delivered, one row per province or territory (staff edit them).

    Rates are in hundredths of a percent (1300 is 13 %). ``provincial`` is the provincial
    part of HST (0 where only GST applies); ``printed_rebate`` says whether that part is
    rebated at the point of sale on qualifying printed publications.
    """

    __tablename__ = "shop_tax_rate"
    __table_args__ = (
        sa.CheckConstraint("federal >= 0 AND provincial >= 0", name="rates_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    province: Mapped[str] = mapped_column(sa.String(2), unique=True)
    federal: Mapped[int] = mapped_column(default=500)
    provincial: Mapped[int] = mapped_column(default=0)
    printed_rebate: Mapped[bool] = mapped_column(default=False)

    @property
    def is_hst(self):
        return self.provincial > 0


class ShippingRate(db.Model):
    """What shipping costs to a zone, by the parcel's weight (staff edit them).

    The rate for a parcel is the first row of its zone whose ``up_to_grams`` it does not
    exceed.
    """

    __tablename__ = "shop_shipping_rate"
    __table_args__ = (
        sa.UniqueConstraint("zone", "up_to_grams"),
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    zone: Mapped[str] = mapped_column(sa.String(10))  # "CA", "US" or "INTL"
    up_to_grams: Mapped[int]
    price: Mapped[int]


class CartLine(db.Model):
    """A signed-in buyer's cart, kept between visits and devices."""

    __tablename__ = "shop_cart_line"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "product_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_product.id", ondelete="CASCADE"))
    quantity: Mapped[int]


class OrderStatus(enum.StrEnum):
    pending = "pending"  # checkout open, stock reserved
    paid = "paid"
    fulfilled = "fulfilled"  # digital only: nothing to ship
    shipped = "shipped"
    cancelled = "cancelled"  # never paid, or cancelled and refunded before shipping
    partially_refunded = "partially_refunded"
    refunded = "refunded"


order_states = StateMachine(
    "order",
    {
        OrderStatus.pending: {OrderStatus.paid, OrderStatus.cancelled},
        OrderStatus.paid: {
            OrderStatus.fulfilled,
            OrderStatus.shipped,
            OrderStatus.cancelled,
            OrderStatus.partially_refunded,
            OrderStatus.refunded,
        },
        OrderStatus.fulfilled: {OrderStatus.partially_refunded, OrderStatus.refunded},
        OrderStatus.shipped: {OrderStatus.partially_refunded, OrderStatus.refunded},
        OrderStatus.partially_refunded: {
            OrderStatus.shipped,
            OrderStatus.fulfilled,
            OrderStatus.refunded,
            OrderStatus.cancelled,
        },
        # Stripe says a checkout we had given up on was paid after all.
        OrderStatus.cancelled: {OrderStatus.paid},
    },
)


class Order(TimestampMixin, db.Model):
    __tablename__ = "shop_order"
    __table_args__ = (
        sa.CheckConstraint(
            "subtotal >= 0 AND shipping >= 0 AND tax >= 0 AND total >= 0",
            name="amounts_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(43), unique=True, default=_token)
    status: Mapped[OrderStatus] = mapped_column(
        _enum(OrderStatus, "shop_order_status"), default=OrderStatus.pending, index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payment.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    language: Mapped[str] = mapped_column(sa.String(2), default="en")
    address_line1: Mapped[str] = mapped_column(sa.String(200), default="")
    address_line2: Mapped[str] = mapped_column(sa.String(200), default="")
    city: Mapped[str] = mapped_column(sa.String(100), default="")
    province: Mapped[str] = mapped_column(sa.String(50), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    country: Mapped[str] = mapped_column(sa.String(2), default="CA")
    subtotal: Mapped[int] = mapped_column(default=0)
    shipping: Mapped[int] = mapped_column(default=0)
    tax: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    #: [{"name": "GST", "percent": "5", "amount": 123}, ...] as charged; frozen with the order.
    tax_lines: Mapped[list] = mapped_column(sa.JSON, default=list)
    tax_number: Mapped[str] = mapped_column(sa.String(40), default="")
    refunded: Mapped[int] = mapped_column(default=0)
    reserved_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set once the reserved stock went back (expired or cancelled), so it goes back once.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tracking_number: Mapped[str] = mapped_column(sa.String(100), default="")
    cancel_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The API's Idempotency-Key, and a digest of the body it came with.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    request_digest: Mapped[str | None] = mapped_column(sa.String(64))

    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )

    @property
    def number(self):
        """The number the buyer and staff quote: M-000123."""
        return f"M-{self.id:06d}"

    @property
    def ships(self):
        return any(line.is_print for line in self.lines)

    @property
    def can_cancel(self):
        return self.status == OrderStatus.paid and self.ships and self.refunded == 0


class OrderLine(db.Model):
    __tablename__ = "shop_order_line"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0 AND tax >= 0", name="amounts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        sa.ForeignKey("shop_order.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_product.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    format: Mapped[str] = mapped_column(sa.String(10))
    kind: Mapped[str] = mapped_column(sa.String(20), default="issue")
    tax_category: Mapped[str] = mapped_column(sa.String(20))
    unit_price: Mapped[int]
    quantity: Mapped[int]
    #: Tax on this line (its share of shipping's tax is on the order).
    tax: Mapped[int] = mapped_column(default=0)
    #: Copies refunded and those of them put back on the shelf.
    refunded_quantity: Mapped[int] = mapped_column(default=0)
    restocked: Mapped[int] = mapped_column(default=0)
    reshipped: Mapped[int] = mapped_column(default=0)
    downloads: Mapped[int] = mapped_column(default=0)
    download_token: Mapped[str] = mapped_column(sa.String(43), unique=True, default=_token)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    @property
    def is_print(self):
        return self.format == ProductFormat.print.value

    @property
    def amount(self):
        return self.unit_price * self.quantity


class OrderRefund(db.Model):
    """What a refund of an order gives back: lines, copies and whether they go back on sale."""

    __tablename__ = "shop_order_refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_order.id"), index=True)
    refund_id: Mapped[int] = mapped_column(sa.ForeignKey("refund.id"), unique=True)
    #: {"<line id>": copies}
    quantities: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    restock: Mapped[bool] = mapped_column(default=False)
    cancel: Mapped[bool] = mapped_column(default=False)
    amount: Mapped[int] = mapped_column(default=0)
    tax: Mapped[int] = mapped_column(default=0)
    credit_note_number: Mapped[str] = mapped_column(sa.String(30), default="")
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IssueSend(db.Model):
    """A digital issue sent to someone on its mailing list: once per person, with its link."""

    __tablename__ = "shop_issue_send"
    __table_args__ = (sa.UniqueConstraint("product_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("shop_product.id"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    token: Mapped[str] = mapped_column(sa.String(43), unique=True, default=_token)
    downloads: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)

    product: Mapped[Product] = relationship()
