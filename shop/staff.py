"""The shop's staff screens under /treasurer: fulfilment, refunds, mailing lists, settings."""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.accounts.access import role_required
from core.csv import stream_csv
from core.db import db
from core.errors import DomainError
from shop import bp, downloads, fulfilment, invoices, mailing, services
from shop.models import Order, OrderStatus
from shop.staff_forms import (
    RefundForm,
    ResendForm,
    ReshipForm,
    SendIssueForm,
    ShipForm,
    ShopSettingsForm,
)


def _order(order_id):
    order = db.session.get(Order, order_id)
    if order is None:
        abort(404)
    return order


def _done(order, message):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("shop.staff_order", order_id=order.id), code=303)


def _refused(error):
    db.session.rollback()
    flash(str(error.message), "error")


@bp.route("/treasurer/orders")
@role_required("treasurer")
def staff_orders():
    status = request.args.get("status") or None
    if status is not None and status not in OrderStatus.__members__:
        status = None
    return render_template(
        "shop/staff/orders.html",
        to_ship=fulfilment.orders_to_ship(),
        orders=fulfilment.recent_orders(status),
        status=status,
        statuses=[s.value for s in OrderStatus if s != OrderStatus.pending],
    )


@bp.route("/treasurer/orders/<int:order_id>")
@role_required("treasurer")
def staff_order(order_id):
    order = _order(order_id)
    return render_template(
        "shop/staff/order.html",
        order=order,
        ship_form=ShipForm(),
        reship_form=ReshipForm(),
        refund_form=RefundForm(),
        resend_form=ResendForm(),
    )


@bp.route("/treasurer/orders/<int:order_id>/ship", methods=["POST"])
@role_required("treasurer")
def staff_ship(order_id):
    order = _order(order_id)
    form = ShipForm()
    if form.validate():
        try:
            fulfilment.mark_shipped(order, form.tracking_number.data)
        except DomainError as error:
            _refused(error)
        else:
            return _done(order, _("Marked shipped; the buyer is told."))
    return redirect(url_for("shop.staff_order", order_id=order.id), code=303)


@bp.route("/treasurer/orders/<int:order_id>/reship", methods=["POST"])
@role_required("treasurer")
def staff_reship(order_id):
    order = _order(order_id)
    form = ReshipForm()
    if form.validate():
        try:
            fulfilment.reship(order, form.line.data, form.copies.data)
        except DomainError as error:
            _refused(error)
        else:
            return _done(order, _("A copy is on its way again, at no charge."))
    return redirect(url_for("shop.staff_order", order_id=order.id), code=303)


@bp.route("/treasurer/orders/<int:order_id>/refund", methods=["POST"])
@role_required("treasurer")
def staff_refund(order_id):
    order = _order(order_id)
    form = RefundForm()
    if not form.validate():
        abort(400)
    quantities = {}
    for line in order.lines:
        raw = request.form.get(f"line-{line.id}", "0").strip() or "0"
        if not raw.isdigit() or len(raw) > 3:
            flash(_("Please enter a number of copies."), "error")
            return redirect(url_for("shop.staff_order", order_id=order.id), code=303)
        quantities[line.id] = int(raw)
    try:
        services.refund_lines(order, quantities, restock=form.restock.data)
    except DomainError as error:
        _refused(error)
    else:
        return _done(order, _("Refunded."))
    return redirect(url_for("shop.staff_order", order_id=order.id), code=303)


@bp.route("/treasurer/orders/<int:order_id>/resend", methods=["POST"])
@role_required("treasurer")
def staff_resend(order_id):
    order = _order(order_id)
    if not ResendForm().validate():
        abort(400)
    downloads.resend(order)
    return _done(order, _("The download links are sent again."))


@bp.route("/treasurer/orders/<int:order_id>/packing-slip.pdf")
@role_required("treasurer")
def staff_packing_slip(order_id):
    order = _order(order_id)
    response = make_response(invoices.packing_slip_pdf(order))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="slip-{order.number}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/treasurer/mailing-lists")
@role_required("treasurer")
def staff_mailing_lists():
    rows = []
    for number, published in mailing.issues():
        found = mailing.copies(published)
        rows.append(
            (
                number,
                published,
                sum(1 for c in found if c.format == "print"),
                sum(1 for c in found if c.format == "digital"),
            )
        )
    return render_template("shop/staff/mailing_lists.html", rows=rows, form=SendIssueForm())


@bp.route("/treasurer/mailing-lists/<int:number>.csv")
@role_required("treasurer")
def staff_mailing_csv(number):
    mailing.published_on(number)  # 404 for an issue we do not have
    return stream_csv(mailing.CSV_HEADER, mailing.csv_rows(number), f"mondial-{number}-print.csv")


@bp.route("/treasurer/mailing-lists/<int:number>/send", methods=["POST"])
@role_required("treasurer")
def staff_mailing_send(number):
    if not SendIssueForm().validate():
        abort(400)
    try:
        queued = mailing.send_digital(number)
    except DomainError as error:
        _refused(error)
    else:
        db.session.commit()
        flash(_("%(count)s emails are on their way.", count=queued), "success")
    return redirect(url_for("shop.staff_mailing_lists"), code=303)


@bp.route("/treasurer/shop/settings", methods=["GET", "POST"])
@role_required("treasurer")
def staff_settings():
    form = ShopSettingsForm()
    if request.method == "GET":
        form.checkout_minutes.data = services.setting("shop.checkout_minutes")
        form.download_days.data = services.setting("shop.download_days")
        form.download_limit.data = services.setting("shop.download_limit")
    elif form.validate():
        try:
            services.save_settings(
                checkout_minutes=form.checkout_minutes.data,
                download_days=form.download_days.data,
                download_limit=form.download_limit.data,
            )
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("shop.staff_settings"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("shop/staff/settings.html", form=form), status
