"""The treasurer's donation screens (under /treasurer)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import clock
from core.accounts.access import role_required
from core.csv import stream_csv
from core.db import db
from core.errors import DomainError, ValidationError
from core.i18n import current_language
from donations import bp, exports, gifts, queries, receipts, settings
from donations.staff_forms import (
    KIND_LABELS,
    METHOD_LABELS,
    MONTHLY_STATUS_LABELS,
    STATUS_LABELS,
    DonationFilterForm,
    DonationSettingsForm,
    OfflineGiftForm,
)

LABELS = {
    "kind": KIND_LABELS,
    "status": STATUS_LABELS,
    "monthly": MONTHLY_STATUS_LABELS,
    "method": METHOD_LABELS,
}


def _render(template, status=200, **context):
    return render_template(
        template,
        labels=LABELS,
        local_date=clock.local_date,
        local_time=clock.local,
        **context,
    ), status


def _filter_form():
    return DonationFilterForm(
        formdata=request.args, funds=queries.all_funds(), language=current_language()
    )


def _add_error(form, name, message):
    field = getattr(form, name or "", None)
    if field is None or not hasattr(field, "errors"):
        flash(str(message), "error")
        return
    field.errors = [*field.errors, str(message)]


@bp.route("/treasurer/donations")
@role_required("treasurer")
def staff_donations():
    form = _filter_form()
    if form.validate():
        try:
            results = queries.search_donations(form.filters(), page=form.page_number)
        except ValidationError as error:
            _add_error(form, error.field, error.message)
        else:
            return _render(
                "donations/staff/list.html", form=form, results=results, args=form.query_args()
            )
    return _render("donations/staff/list.html", 400, form=form, results=None, args={})


@bp.route("/treasurer/donations.csv")
@role_required("treasurer")
def staff_export():
    form = _filter_form()
    if not form.validate():
        raise ValidationError(
            "; ".join(
                f"{form[name].label.text}: {', '.join(map(str, errors))}"
                for name, errors in form.errors.items()
            )
        )
    rows = exports.export_rows(form.filters())
    today = clock.today().isoformat()
    return stream_csv(exports.export_header(), rows, f"donations-{today}.csv")


@bp.route("/treasurer/donations/<int:donation_id>")
@role_required("treasurer")
def staff_donation(donation_id):
    return _render("donations/staff/detail.html", detail=queries.donation_detail(donation_id))


@bp.route("/treasurer/donations/<int:donation_id>/resend-receipt", methods=["POST"])
@role_required("treasurer")
def staff_resend_receipt(donation_id):
    detail = queries.donation_detail(donation_id)
    try:
        receipt = gifts.resend_receipt(detail.donation)
    except DomainError as error:
        # Answered with a redirect, which the request would commit: undo what was begun.
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        flash(_("The receipt was sent again to %(email)s.", email=receipt.email), "success")
    return redirect(url_for("donations.staff_donation", donation_id=donation_id), code=303)


@bp.route("/treasurer/donors")
@role_required("treasurer")
def staff_donor():
    """One donor's gifts, found by email address; without one, the search form."""
    email = request.args.get("email", "").strip()
    if not email:
        return _render("donations/staff/donor.html", summary=None, email="", error=None)
    try:
        summary = queries.donor_summary(email)
    except ValidationError as error:
        return _render(
            "donations/staff/donor.html", 400, summary=None, email=email, error=error.message
        )
    return _render("donations/staff/donor.html", summary=summary, email=email, error=None)


@bp.route("/treasurer/donations/offline", methods=["GET", "POST"])
@role_required("treasurer")
def staff_offline_gift():
    form = OfflineGiftForm(funds=gifts.active_funds(), language=current_language())
    if request.method == "GET":
        form.received_on.data = clock.today()
    elif form.validate():
        try:
            donation, receipt = gifts.record_offline_gift(
                fund=gifts.fund_by_slug(form.fund.data),
                recorded_by=current_user,
                **form.gift(),
            )
        except DomainError as error:
            _add_error(form, error.field, error.message)
        else:
            flash(_offline_message(donation, receipt, form.issue_receipt.data), "success")
            return redirect(url_for("donations.staff_donation", donation_id=donation.id), code=303)
    status = 400 if request.method == "POST" else 200
    return _render(
        "donations/staff/offline.html", status, form=form, de_minimis=receipts.DE_MINIMIS_CAP
    )


def _offline_message(donation, receipt, asked):
    if receipt is not None and receipt.number:
        return _(
            "The gift is recorded. Receipt No. %(number)s was emailed to %(email)s.",
            number=receipt.number,
            email=receipt.email,
        )
    if receipt is not None:
        return _(
            "The gift is recorded. An acknowledgement was emailed to %(email)s.",
            email=receipt.email,
        )
    if not asked:
        return _("The gift is recorded. No receipt was issued, as asked.")
    return _(
        "The gift is recorded, but no receipt was issued: %(reason)s",
        reason=queries.why_no_receipt(donation),
    )


@bp.route("/treasurer/donations/settings", methods=["GET", "POST"])
@role_required("treasurer")
def staff_settings():
    language = current_language()
    if request.method == "GET":
        form = DonationSettingsForm.from_settings(settings.current_settings(), language)
        return _render("donations/staff/settings.html", form=form)
    form = DonationSettingsForm(language=language)
    if form.validate():
        try:
            settings.save_settings(form.values())
        except settings.InvalidSettings as error:
            for key, message in error.problems.items():
                _add_error(form, form.field_for(key).name, message)
        else:
            flash(_("The donation settings are saved."), "success")
            return redirect(url_for("donations.staff_settings"), code=303)
    return _render("donations/staff/settings.html", 400, form=form)
