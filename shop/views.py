"""The catalogue, the cart, checkout, the buyer's order page and downloads."""

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import cache
from core.db import db
from core.errors import DomainError
from core.extensions import limiter
from core.i18n import current_language
from core.urls import parse_id
from shop import bp, cart, downloads, invoices, services
from shop.caching import CATALOGUE
from shop.forms import (
    AddToCartForm,
    CancelOrderForm,
    CheckoutForm,
    ExtrasForm,
    UpdateCartForm,
)


def _user():
    return current_user if current_user.is_authenticated else None


@bp.route("/shop")
@cache.page(depends=CATALOGUE)
def catalogue():
    return render_template(
        "shop/catalogue.html", products=services.catalogue(), form=AddToCartForm(formdata=None)
    )


@bp.route("/shop/<slug>")
@cache.page(depends=CATALOGUE)
def product(slug):
    return render_template(
        "shop/product.html",
        product=services.product_by_slug(slug),
        form=AddToCartForm(formdata=None),
    )


def _cart_page(status=200, forms=None):
    items = cart.items(_user())
    response = make_response(
        render_template(
            "shop/cart.html",
            items=items,
            extras=cart.extras(),
            subtotal=sum(p.price * q for p, q in items),
            forms=forms or {},
            blank=UpdateCartForm(formdata=None),
        ),
        status,
    )
    return response


def _empty_cart_depends():
    """An empty cart is the same page for every visitor who has none, and is kept whole
    like the catalogue; a cart with anything in it, or a return from Stripe, is personal."""
    if request.args or cart.has_anything():
        return None
    return CATALOGUE


@bp.route("/cart")
@cache.page(depends=_empty_cart_depends)
def cart_page():
    token = request.args.get("cancelled")
    if token:
        # Back from Stripe's page through Cancel: close that checkout so its copies go back,
        # unless it was paid a moment ago, in which case the order page says so.
        try:
            order = services.order_by_token(token)
        except DomainError:
            return redirect(url_for("shop.cart_page"))
        if not services.abandon_checkout(order):
            db.session.commit()
            return redirect(url_for("shop.order_page", token=order.token))
        db.session.commit()
        return redirect(url_for("shop.cart_page"))
    return _cart_page()


@bp.route("/cart/add", methods=["POST"])
@limiter.limit("120 per minute")
def cart_add():
    form = AddToCartForm()
    product_id = parse_id(form.product_id.data)
    if product_id is None:
        abort(404)
    if not form.validate():
        flash(" ".join(str(e) for e in form.quantity.errors), "error")
        return redirect(url_for("shop.cart_page"), code=303)
    try:
        product = cart.add(_user(), product_id, form.quantity.data)
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        flash(str(error.message), "error")
        return redirect(url_for("shop.cart_page"), code=303)
    db.session.commit()
    flash(_("%(title)s is in your cart.", title=product.title(current_language())), "success")
    return redirect(url_for("shop.cart_page"), code=303)


@bp.route("/cart/update", methods=["POST"])
@limiter.limit("120 per minute")
def cart_update():
    form = UpdateCartForm()
    product_id = parse_id(form.product_id.data)
    if product_id is None:
        abort(404)
    if not form.validate():
        return _cart_page(400, {product_id: form})
    try:
        cart.update(_user(), product_id, form.quantity.data)
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        flash(str(error.message), "error")
    else:
        db.session.commit()
    return redirect(url_for("shop.cart_page"), code=303)


@bp.route("/cart/extras", methods=["GET", "POST"])
@limiter.limit("60 per hour", methods=["POST"])
def cart_extras():
    """A gift and a membership beside the issues, paid in the same checkout."""
    from donations import gifts as donations
    from members import services as members

    form = ExtrasForm(
        funds=donations.active_funds(), tiers=members.active_tiers(), language=current_language()
    )
    if request.method == "POST" and form.validate():
        try:
            if form.remove_gift.data:
                cart.set_extra("gift", None)
            elif form.remove_membership.data:
                cart.set_extra("membership", None)
            else:
                if form.gift_amount.data:
                    amount = form.gift_amount.data
                    donations.check_online_amount(amount)
                    cart.set_extra("gift", {"amount": amount, "fund": form.fund.data})
                if form.tier.data:
                    tier = members.tier_by_slug(form.tier.data)
                    cart.set_extra(
                        "membership",
                        {"slug": tier.slug, "name": tier.name(current_language())},
                    )
        except DomainError as error:
            target = getattr(form, error.field or "", None) or form.gift_amount
            target.errors = [*target.errors, str(error.message)]
        else:
            return redirect(url_for("shop.cart_page"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("shop/extras.html", form=form, extras=cart.extras()), status


def _prefill(form):
    if current_user.is_authenticated:
        form.email.data = current_user.email
        form.name.data = current_user.name


def _buyer(form):
    country = form.country.data or "CA"
    return services.Buyer(
        email=form.email.data or "",
        name=form.name.data or "",
        address_line1=form.address_line1.data or "",
        address_line2=form.address_line2.data or "",
        city=form.city.data or "",
        province=(form.province.data if country == "CA" else form.region.data) or "",
        postal_code=form.postal_code.data or "",
        country=country,
        language=current_language(),
        user_id=current_user.id if current_user.is_authenticated else None,
    )


def _member(form, buyer):
    """Who a membership in the cart is for: the signed-in buyer, or an account made now.

    As joining does: a new account is confirmed by the link it is emailed; someone who
    types the password of their own account joins with it (a wrong one counts as a failed
    sign-in).
    """
    if current_user.is_authenticated or not cart.extras().get("membership"):
        return _user()
    if not form.password.data:
        return None
    from core import throttle
    from members import services as members

    throttle.refuse_if_exhausted("login", buyer.email)
    try:
        user, _created = members.account_for_joining(
            email=buyer.email,
            password=form.password.data,
            name=buyer.name or buyer.email,
            language=buyer.language,
        )
    except members.AddressInUse:
        throttle.count_attempt("login", buyer.email)
        raise
    buyer.user_id = user.id
    return user


@bp.route("/checkout", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def checkout():
    items = cart.items(_user())
    if request.method == "GET":
        form = CheckoutForm(formdata=None)
        _prefill(form)
    else:
        form = CheckoutForm()
    # A gift's receipt needs the full address too.
    ships = any(p.is_print for p, _ in items) or bool(cart.extras().get("gift"))
    quote = None
    status = 200
    if not items:
        return render_template("shop/checkout.html", form=form, items=items, quote=None)
    if request.method == "POST":
        if not form.validate():
            status = 400
        else:
            buyer = _buyer(form)
            try:
                services.clean_buyer(buyer, ships=ships)
                quote = services.quote_for(items, buyer)
                if form.pay.data:
                    order = services.start_order(
                        items, buyer, extras=cart.extras(), user=_member(form, buyer)
                    )
                    url = services.open_checkout(order)
                    db.session.commit()
                    return redirect(url, code=303)
            except DomainError as error:
                db.session.rollback()
                status = error.status if error.status != 404 else 400
                target = getattr(form, error.field or "", None) or form.email
                if error.field in (None, "lines", "quantity"):
                    flash(str(error.message), "error")
                else:
                    target.errors = [*target.errors, str(error.message)]
                quote = None if status != 409 else quote
    return render_template(
        "shop/checkout.html",
        form=form,
        items=items,
        quote=quote,
        ships=ships,
        extras=cart.extras(),
    ), status


@bp.route("/shop/return")
@limiter.limit(lambda: current_app.config["RETURN_PAGE_LIMIT"])
def checkout_return():
    session_id = request.args.get("session_id", "")
    if not session_id.startswith("cs_"):
        abort(404)
    order, payment = services.order_for_return(session_id)
    if order is None:
        abort(404)
    if payment.is_paid:
        cart.empty(_user(), [line.product_id for line in order.lines])
    db.session.commit()
    return redirect(url_for("shop.order_page", token=order.token), code=303)


@bp.route("/orders/<token>")
def order_page(token):
    order = services.order_by_token(token)
    response = make_response(
        render_template("shop/order.html", order=order, cancel_form=CancelOrderForm())
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/orders/<token>/cancel", methods=["POST"])
@limiter.limit("10 per hour")
def cancel_order(token):
    order = services.order_by_token(token)
    form = CancelOrderForm()
    if not form.validate():
        abort(400)
    try:
        services.cancel_order(order)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("Your order is cancelled and refunded."), "success")
    return redirect(url_for("shop.order_page", token=token), code=303)


@bp.route("/orders/<token>/invoice.pdf")
def invoice(token):
    order = services.order_by_token(token)
    if order.paid_at is None:
        abort(404)
    response = make_response(invoices.invoice_pdf(order.id))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="invoice-{order.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/downloads/<token>")
@limiter.limit("30 per hour")
def download(token):
    line, path = downloads.take_download(token)
    db.session.commit()
    response = send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"mondial-{line.product.slug}.pdf",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/downloads/issue/<token>")
@limiter.limit("30 per hour")
def issue_download(token):
    from shop import mailing

    product, path = mailing.take_issue_download(token)
    db.session.commit()
    response = send_file(
        path, mimetype="application/pdf", as_attachment=True, download_name=f"{product.slug}.pdf"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/account/orders")
@login_required
def my_orders():
    return render_template("shop/my_orders.html", orders=services.orders_of(current_user))
