"""The treasurer's pages under /treasurer: thin views over reports, reconcile and exports."""

from datetime import datetime, time, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from core import clock
from core.accounts.access import role_required
from core.csv import stream_csv
from core.db import db
from core.errors import DomainError, NotFound, ServiceUnavailable, ValidationError
from core.i18n import format_org_time
from payments.models import Payment, Refund, StripeEvent
from treasurer import bp, exports, reconcile, reports, taxes
from treasurer.chart import monthly_chart
from treasurer.forms import (
    LINE_KIND_FILTERS,
    OUTCOME_LABELS,
    PAYOUT_STATE_LABELS,
    REFUND_REASONS,
    ActionForm,
    AuditFilterForm,
    DateRangeForm,
    EventFilterForm,
    LineFilterForm,
    NoteForm,
    NotPaidOutForm,
    PaymentSearchForm,
    PayoutFilterForm,
    ReconcileForm,
    RefundForm,
    YearForm,
)


def purpose_label(purpose):
    from treasurer import PURPOSES

    return PURPOSES.get(purpose, purpose)


def _render(template, status=200, **context):
    return render_template(
        template,
        when=format_org_time,
        purpose_label=purpose_label,
        kind_labels=reconcile.KIND_LABELS,
        check_labels=CHECK_LABELS,
        **context,
    ), status


CHECK_LABELS = {
    "pending": PAYOUT_STATE_LABELS["pending"],
    "balanced": PAYOUT_STATE_LABELS["balanced"],
    "unmatched": PAYOUT_STATE_LABELS["unmatched"],
    "mismatch": PAYOUT_STATE_LABELS["mismatch"],
}


def _refuse(form):
    raise ValidationError(
        "; ".join(
            f"{form[name].label.text}: {', '.join(map(str, errors))}"
            for name, errors in form.errors.items()
        )
    )


def _day_start(day):
    return datetime.combine(day, time(), tzinfo=reports.zone())


# -- the dashboard ---------------------------------------------------------------------------


@bp.route("/")
@role_required("treasurer")
def dashboard():
    board = reports.dashboard()
    labels = {p: str(purpose_label(p)) for p in board.series}
    chart = monthly_chart(
        board.months, board.series, labels, _("Net received by month and purpose")
    )
    return _render("treasurer/dashboard.html", board=board, chart=chart)


# -- payouts ---------------------------------------------------------------------------------


@bp.route("/payouts")
@role_required("treasurer")
def payouts():
    form = PayoutFilterForm(formdata=request.args)
    if not form.validate():
        return _render("treasurer/payouts.html", 400, form=form, results=None, args={})
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    results = reports.search_payouts(
        form.state.data or None,
        _day_start(form.date_from.data) if form.date_from.data else None,
        _day_start(form.date_to.data + timedelta(days=1)) if form.date_to.data else None,
        form.page_number,
    )
    return _render("treasurer/payouts.html", form=form, results=results, args=args)


@bp.route("/payouts/<int:payout_id>")
@role_required("treasurer")
def payout(payout_id):
    found = reconcile.payout_or_404(payout_id)
    form = LineFilterForm(formdata=request.args)
    if not form.validate():
        _refuse(form)
    review = reconcile.review_of(found)
    stale = review.checked_at is None or (
        found.synced_at is not None and review.checked_at < found.synced_at
    )
    if not review.is_reconciled and stale:
        review = reconcile.check_payout(found)
        db.session.commit()
    kind = form.kind.data or None
    lines = reports.payout_lines(
        found,
        form.page_number,
        kind=None if kind == "unmatched" else kind,
        unmatched_only=kind == "unmatched",
    )
    return _render(
        "treasurer/payout.html",
        payout=found,
        review=review,
        reason=reconcile.reason(review),
        unmatched=reconcile.unmatched_lines(found) if review.unmatched_count else [],
        counts=reports.line_counts(found),
        lines=lines,
        form=form,
        kinds=LINE_KIND_FILTERS,
        reconcile_form=ReconcileForm(),
        note_form=NoteForm(note=review.note),
        action_form=ActionForm(),
        args={"kind": kind} if kind else {},
    )


def _back(payout_id):
    return redirect(url_for("treasurer.payout", payout_id=payout_id), code=303)


@bp.route("/payouts/<int:payout_id>/sync", methods=["POST"])
@role_required("treasurer")
def sync_payout(payout_id):
    found = reconcile.payout_or_404(payout_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        review = reconcile.sync(found)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _back(payout_id)
    db.session.commit()
    if review.discrepancy_at:
        flash(_("Fetched again, the lines differ from the reconciled ones."), "error")
    else:
        flash(_("The payout is up to date with Stripe."), "success")
    return _back(payout_id)


@bp.route("/payouts/<int:payout_id>/reconcile", methods=["POST"])
@role_required("treasurer")
def reconcile_payout(payout_id):
    found = reconcile.payout_or_404(payout_id)
    form = ReconcileForm()
    if not form.validate_on_submit():
        _refuse(form)
    try:
        reconcile.reconcile(found, current_user, (form.note.data or "").strip())
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return _back(payout_id)
    db.session.commit()
    flash(_("The payout is reconciled."), "success")
    return _back(payout_id)


@bp.route("/payouts/<int:payout_id>/note", methods=["POST"])
@role_required("treasurer")
def note_payout(payout_id):
    found = reconcile.payout_or_404(payout_id)
    form = NoteForm()
    if not form.validate_on_submit():
        _refuse(form)
    reconcile.add_note(found, (form.note.data or "").strip())
    db.session.commit()
    flash(_("The note is saved."), "success")
    return _back(payout_id)


@bp.route("/payouts/<int:payout_id>/journal.csv")
@role_required("treasurer")
def payout_journal(payout_id):
    found = reconcile.payout_or_404(payout_id)
    rows = exports.journal_rows(exports.line_batches(*exports.payout_conditions(found)))
    return stream_csv(exports.JOURNAL_HEADER, rows, f"journal-{found.stripe_payout_id}.csv")


@bp.route("/payouts/<int:payout_id>/lines.csv")
@role_required("treasurer")
def payout_lines_csv(payout_id):
    found = reconcile.payout_or_404(payout_id)
    rows = exports.lines_rows(exports.line_batches(*exports.payout_conditions(found)))
    return stream_csv(exports.LINES_HEADER, rows, f"lines-{found.stripe_payout_id}.csv")


@bp.route("/exports")
@role_required("treasurer")
def exports_page():
    today = clock.local(clock.now()).date()
    form = DateRangeForm(formdata=None, date_from=today.replace(day=1), date_to=today)
    return _render("treasurer/exports.html", form=form)


def _range():
    form = DateRangeForm(formdata=request.args)
    if not form.validate():
        _refuse(form)
    start = _day_start(form.date_from.data)
    end = _day_start(form.date_to.data + timedelta(days=1))
    return form, exports.range_conditions(start, end)


@bp.route("/journal.csv")
@role_required("treasurer")
def journal_range():
    form, conditions = _range()
    rows = exports.journal_rows(exports.line_batches(*conditions))
    name = f"journal-{form.date_from.data.isoformat()}-{form.date_to.data.isoformat()}.csv"
    return stream_csv(exports.JOURNAL_HEADER, rows, name)


@bp.route("/lines.csv")
@role_required("treasurer")
def lines_range():
    form, conditions = _range()
    rows = exports.lines_rows(exports.line_batches(*conditions))
    name = f"lines-{form.date_from.data.isoformat()}-{form.date_to.data.isoformat()}.csv"
    return stream_csv(exports.LINES_HEADER, rows, name)


@bp.route("/not-paid-out")
@role_required("treasurer")
def not_paid_out():
    form = NotPaidOutForm(formdata=request.args)
    if not form.validate():
        _refuse(form)
    results = reports.not_paid_out(form.page_number, within_days=form.within_days)
    args = {"days": form.within_days}
    return _render("treasurer/not_paid_out.html", results=results, form=form, args=args)


# -- payments and refunds --------------------------------------------------------------------


@bp.route("/payments")
@role_required("treasurer")
def payments():
    form = PaymentSearchForm(formdata=request.args)
    if not form.validate():
        return _render("treasurer/payments.html", 400, form=form, results=None, args={})
    results = reports.search_payments(form.q.data, form.page_number)
    args = {"q": form.q.data} if form.q.data else {}
    return _render("treasurer/payments.html", form=form, results=results, args=args)


def _payment_or_404(payment_id):
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise NotFound()
    return payment


@bp.route("/payments/<int:payment_id>")
@role_required("treasurer")
def payment(payment_id):
    found = _payment_or_404(payment_id)
    return _render(
        "treasurer/payment.html",
        payment=found,
        allocations=reports.allocations_by_payment({found.id}).get(found.id, []),
        refund_form=RefundForm(),
        reasons=REFUND_REASONS,
        action_form=ActionForm(),
    )


@bp.route("/payments/<int:payment_id>/refund", methods=["POST"])
@role_required("treasurer")
def refund_payment(payment_id):
    from payments import services as payments

    found = _payment_or_404(payment_id)
    form = RefundForm()
    if not form.validate_on_submit():
        _refuse(form)
    try:
        row = payments.refund(
            found,
            form.amount.data,
            reason=form.reason.data,
            note=(form.note.data or "").strip(),
        )
    except ServiceUnavailable:
        # The refund was stored before Stripe was asked, and Stripe may have made it.
        db.session.rollback()
        flash(
            _(
                "Stripe did not answer in time. The refund is kept as pending under Refunds: "
                "look it up there before sending it again."
            ),
            "error",
        )
        return redirect(url_for("treasurer.payment", payment_id=payment_id), code=303)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return redirect(url_for("treasurer.payment", payment_id=payment_id), code=303)
    db.session.commit()
    if row.status == "succeeded":
        flash(_("The refund is done."), "success")
    else:
        flash(_("The refund was asked of Stripe; it is %(status)s.", status=row.status), "info")
    return redirect(url_for("treasurer.payment", payment_id=payment_id), code=303)


@bp.route("/refunds")
@role_required("treasurer")
def refunds():
    form = PaymentSearchForm(formdata=request.args)
    if not form.validate():
        _refuse(form)
    return _render(
        "treasurer/refunds.html",
        results=reports.refunds(form.page_number),
        action_form=ActionForm(),
        reasons=REFUND_REASONS,
    )


def _refund_or_404(refund_id):
    row = db.session.get(Refund, refund_id)
    if row is None:
        raise NotFound()
    return row


@bp.route("/refunds/<int:refund_id>/look-up", methods=["POST"])
@role_required("treasurer")
def look_up_refund(refund_id):
    from payments.refunds import look_up_pending_refund

    row = _refund_or_404(refund_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        found = look_up_pending_refund(row)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        if found:
            flash(_("Stripe has this refund; it is now %(status)s.", status=row.status), "success")
        else:
            flash(
                _("Stripe does not have this refund. You may send it again or cancel it."), "info"
            )
    return redirect(url_for("treasurer.refunds"), code=303)


@bp.route("/refunds/<int:refund_id>/resend", methods=["POST"])
@role_required("treasurer")
def resend_refund(refund_id):
    from payments.refunds import resend_unsent_refund

    row = _refund_or_404(refund_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        sent = resend_unsent_refund(row)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()  # sent, or found at Stripe and brought to its state
        if sent:
            flash(
                _("The refund was sent again; it is now %(status)s.", status=row.status),
                "success",
            )
        else:
            flash(_("Stripe has this refund already; nothing was sent again."), "info")
    return redirect(url_for("treasurer.refunds"), code=303)


@bp.route("/refunds/<int:refund_id>/cancel", methods=["POST"])
@role_required("treasurer")
def cancel_refund(refund_id):
    from payments.refunds import cancel_unsent_refund

    row = _refund_or_404(refund_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        cancelled = cancel_unsent_refund(row)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()  # cancelled, or found at Stripe and brought to its state
        if cancelled:
            flash(_("The refund is cancelled."), "success")
        else:
            flash(_("Stripe has this refund already; it cannot be cancelled here."), "error")
    return redirect(url_for("treasurer.refunds"), code=303)


@bp.route("/disputes")
@role_required("treasurer")
def disputes():
    form = PaymentSearchForm(formdata=request.args)
    if not form.validate():
        _refuse(form)
    return _render("treasurer/disputes.html", results=reports.disputes(form.page_number))


# -- the webhook inbox and the audit log -----------------------------------------------------


@bp.route("/events")
@role_required("treasurer")
def events():
    form = EventFilterForm(formdata=request.args)
    form.type.choices = [SelectChoice("", _("Any"))] + [
        SelectChoice(t, t) for t in reports.event_types()
    ]
    if not form.validate():
        _refuse(form)
    results = reports.events(form.type.data or None, form.outcome.data or None, form.page_number)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return _render(
        "treasurer/events.html",
        form=form,
        results=results,
        args=args,
        outcomes=OUTCOME_LABELS,
        action_form=ActionForm(),
    )


def _event_or_404(event_id):
    if len(event_id) > 255:
        raise NotFound()
    event = db.session.get(StripeEvent, event_id)
    if event is None:
        raise NotFound()
    return event


@bp.route("/events/<event_id>")
@role_required("treasurer")
def event(event_id):
    import json

    found = _event_or_404(event_id)
    payload = json.dumps(found.payload, indent=2, sort_keys=True)
    return _render(
        "treasurer/event.html",
        event=found,
        payload=payload,
        outcomes=OUTCOME_LABELS,
        action_form=ActionForm(),
    )


@bp.route("/events/<event_id>/replay", methods=["POST"])
@role_required("treasurer")
def replay_event(event_id):
    from payments.inbox import replay

    _event_or_404(event_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        replay(event_id)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(_("The event will be handled again within moments."), "success")
    return redirect(url_for("treasurer.event", event_id=event_id), code=303)


@bp.route("/audit")
@role_required("treasurer")
def audit():
    form = AuditFilterForm(formdata=request.args)
    if not form.validate():
        _refuse(form)
    results = reports.audit_entries(form.action.data or None, form.page_number)
    args = {"action": form.action.data} if form.action.data else {}
    return _render("treasurer/audit.html", form=form, results=results, args=args)


# -- year-end and tax reports ----------------------------------------------------------------


@bp.route("/reports/receipts")
@role_required("treasurer")
def receipt_register():
    asked = "year" in request.args
    form = YearForm(formdata=request.args if asked else None)
    if not asked:
        form.year.data = str(clock.local(clock.now()).year)
    elif not form.validate():
        _refuse(form)
    register = taxes.receipt_register(int(form.year.data))
    return _render("treasurer/receipt_register.html", form=form, register=register)


@bp.route("/reports/receipts.csv")
@role_required("treasurer")
def receipt_register_csv():
    form = YearForm(formdata=request.args)
    if not form.validate():
        _refuse(form)
    year = int(form.year.data)
    return stream_csv(
        taxes.REGISTER_HEADER, taxes.register_rows(year), f"receipt-register-{year}.csv"
    )


@bp.route("/reports/gst-hst")
@role_required("treasurer")
def gst_report():
    today = clock.local(clock.now()).date()
    if "date_from" in request.args or "date_to" in request.args:
        form = DateRangeForm(formdata=request.args)
        if not form.validate():
            _refuse(form)
    else:
        form = DateRangeForm(formdata=None, date_from=today.replace(month=1, day=1), date_to=today)
    report = taxes.gst_report(
        _day_start(form.date_from.data), _day_start(form.date_to.data + timedelta(days=1))
    )
    return _render("treasurer/gst_report.html", form=form, report=report)


@bp.route("/reports/gst-hst.csv")
@role_required("treasurer")
def gst_report_csv():
    form = DateRangeForm(formdata=request.args)
    if not form.validate():
        _refuse(form)
    report = taxes.gst_report(
        _day_start(form.date_from.data), _day_start(form.date_to.data + timedelta(days=1))
    )
    name = f"gst-hst-{form.date_from.data.isoformat()}-{form.date_to.data.isoformat()}.csv"
    return stream_csv(taxes.GST_HEADER, taxes.gst_rows(report), name)
