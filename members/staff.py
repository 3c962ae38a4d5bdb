"""The treasurer's member screens, under /treasurer/members."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core.accounts.access import role_required
from core.csv import stream_csv
from core.db import db
from core.errors import DomainError, ValidationError
from core.i18n import current_language
from members import bp, dates, imports, management, reports, services
from members.forms import (
    DUES_STATUS_LABELS,
    FORMAT_LABELS,
    METHOD_LABELS,
    STATUS_LABELS,
    ActionForm,
    GraceForm,
    GrantForm,
    ImportForm,
    MemberFilterForm,
    OfflineDuesForm,
    ReasonForm,
    RecordDateForm,
)

#: A file of 20 000 members is about 3 MB.
IMPORT_MAX_BYTES = 8 * 1024 * 1024

LABELS = {
    "status": STATUS_LABELS,
    "dues": DUES_STATUS_LABELS,
    "method": METHOD_LABELS,
    "format": FORMAT_LABELS,
}


def _render(template, status=200, **context):
    return render_template(
        template, labels=LABELS, local_date=dates.local_date, today=dates.today(), **context
    ), status


def _add_error(form, name, message):
    field = getattr(form, name or "", None)
    if field is None or not hasattr(field, "errors"):
        flash(str(message), "error")
        return
    field.errors = [*field.errors, str(message)]


def _filter_form():
    return MemberFilterForm(
        formdata=request.args, tiers=services.all_tiers(), language=current_language()
    )


@bp.route("/treasurer/members")
@role_required("treasurer")
def staff_members():
    form = _filter_form()
    if form.validate():
        try:
            results = reports.search_members(form.filters(), page=form.page_number)
        except ValidationError as error:
            _add_error(form, error.field, error.message)
        else:
            return _render(
                "members/staff/list.html",
                form=form,
                results=results,
                args=form.query_args(),
                counts=reports.status_counts(),
            )
    return _render("members/staff/list.html", 400, form=form, results=None, args={}, counts={})


@bp.route("/treasurer/members.csv")
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
    rows = reports.export_rows(form.filters())
    return stream_csv(reports.export_header(), rows, f"members-{dates.today().isoformat()}.csv")


@bp.route("/treasurer/members/<int:membership_id>")
@role_required("treasurer")
def staff_member(membership_id):
    return _render(
        "members/staff/detail.html",
        detail=reports.member_detail(membership_id),
        reason_form=ReasonForm(),
        grace_ends_on=dates.grace_ends_on,
    )


@bp.route(
    "/treasurer/members/<int:membership_id>/<any(cancel, reinstate):action>", methods=["POST"]
)
@role_required("treasurer")
def staff_member_action(membership_id, action):
    membership = services.lock_membership(membership_id)
    if membership is None:
        abort(404)
    form = ReasonForm()
    if not form.validate():
        for errors in form.errors.values():
            flash(str(errors[0]), "error")
        return redirect(url_for("members.staff_member", membership_id=membership_id), code=303)
    try:
        if action == "cancel":
            management.cancel(membership, form.reason.data)
        else:
            management.reinstate(membership, form.reason.data)
    except DomainError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    else:
        db.session.commit()
        flash(
            _("The membership is now %(status)s.", status=STATUS_LABELS[membership.status.value]),
            "success",
        )
    return redirect(url_for("members.staff_member", membership_id=membership_id), code=303)


@bp.route("/treasurer/members/offline", methods=["GET", "POST"])
@role_required("treasurer")
def staff_offline():
    tiers = services.active_tiers()
    form = OfflineDuesForm(tiers=tiers, language=current_language())
    if request.method == "GET":
        form = OfflineDuesForm(formdata=None, tiers=tiers, language=current_language())
        form.received_on.data = dates.today()
        email = request.args.get("email", "")
        if email:
            form.email.data = email
    elif form.validate():
        try:
            user, _created = management.person_for_staff(
                email=form.email.data, name=form.name.data, language=form.language.data
            )
            tier = services.tier_by_slug(form.tier.data)
            membership = management.membership_for(user, tier)
            if not membership.address_line1 or form.address_line1.data:
                services.update_mailing(membership, **form.mailing())
            dues = management.record_offline_dues(
                user,
                tier,
                amount=form.amount_cents,
                method=form.method.data,
                received_on=form.received_on.data,
                reference=form.reference.data or "",
                recorded_by=current_user,
            )
        except DomainError as error:
            db.session.rollback()
            _add_error(form, error.field, error.message)
        else:
            db.session.commit()
            flash(_offline_message(dues), "success")
            return redirect(
                url_for("members.staff_member", membership_id=dues.membership_id), code=303
            )
    status = 400 if request.method == "POST" else 200
    return _render("members/staff/offline.html", status, form=form)


def _offline_message(dues):
    from members.receipting import receipt_of

    receipt = receipt_of(dues)
    if receipt is not None:
        return _(
            "The dues are recorded. Receipt No. %(number)s was emailed to %(email)s.",
            number=receipt.number,
            email=receipt.email,
        )
    return _(
        "The dues are recorded. An acknowledgement was emailed to %(email)s.",
        email=dues.membership.user.email,
    )


@bp.route("/treasurer/members/grant", methods=["GET", "POST"])
@role_required("treasurer")
def staff_grant():
    tiers = services.active_tiers()
    form = GrantForm(tiers=tiers, language=current_language())
    if request.method == "GET":
        form = GrantForm(formdata=None, tiers=tiers, language=current_language())
    elif form.validate():
        try:
            user, _created = management.person_for_staff(
                email=form.email.data, name=form.name.data, language=form.language.data
            )
            dues = management.grant(
                user,
                services.tier_by_slug(form.tier.data),
                honorary=form.kind.data == "honorary",
                ends_on=form.ends_on.data,
                note=form.note.data,
                granted_by=current_user,
            )
        except DomainError as error:
            db.session.rollback()
            _add_error(form, error.field, error.message)
        else:
            db.session.commit()
            flash(_("The membership is granted and recorded in the audit log."), "success")
            return redirect(
                url_for("members.staff_member", membership_id=dues.membership_id), code=303
            )
    status = 400 if request.method == "POST" else 200
    return _render("members/staff/grant.html", status, form=form)


@bp.route("/treasurer/members/import", methods=["GET", "POST"])
@role_required("treasurer")
def staff_import():
    form = ImportForm()
    if request.method == "GET":
        return _render("members/staff/import.html", form=form, problems=[], columns=imports.COLUMNS)
    request.max_content_length = IMPORT_MAX_BYTES
    if not form.validate_on_submit():
        abort(400)
    upload = form.file.data
    if upload is None or not upload.filename:
        _add_error(form, "file", _("Please choose a CSV file."))
        return _render(
            "members/staff/import.html", 400, form=form, problems=[], columns=imports.COLUMNS
        )
    checked = imports.check(upload.read())
    if not checked.ok:
        db.session.rollback()
        return _render(
            "members/staff/import.html",
            400,
            form=form,
            problems=checked.problems,
            columns=imports.COLUMNS,
        )
    count, new_accounts = imports.apply(checked, imported_by=current_user)
    db.session.commit()
    flash(
        _(
            "%(count)s members are imported; %(new)s new accounts were emailed a link to "
            "choose a password.",
            count=count,
            new=new_accounts,
        ),
        "success",
    )
    return redirect(url_for("members.staff_members"), code=303)


@bp.route("/treasurer/members/good-standing")
@role_required("treasurer")
def staff_good_standing():
    asked = "record_date" in request.args
    form = RecordDateForm(formdata=request.args if asked else None)
    if not asked:
        form.record_date.data = dates.today()
        return _render("members/staff/good_standing.html", form=form, rows=None)
    if not form.validate():
        return _render("members/staff/good_standing.html", 400, form=form, rows=None)
    rows = reports.good_standing_rows(form.record_date.data)
    if request.args.get("format") == "csv":
        day = form.record_date.data.isoformat()
        return stream_csv(
            reports.good_standing_header(), rows, f"members-in-good-standing-{day}.csv"
        )
    return _render("members/staff/good_standing.html", form=form, rows=rows)


@bp.route("/treasurer/members/settings", methods=["GET", "POST"])
@role_required("treasurer")
def staff_settings():
    from members.receipting import receipts

    tiers = services.all_tiers()
    reprice = {t.id: len(management.auto_renewals_to_reprice(t)) for t in tiers}
    form = GraceForm()
    if request.method == "GET":
        form = GraceForm(formdata=None)
        form.grace_days.data = str(dates.grace_days())
        form.receipt_dues.data = "yes" if services.setting("members.receipt_dues") else "no"
    elif form.validate():
        management.save_settings(
            grace_days=int(form.grace_days.data), receipt_dues=form.receipt_dues.data == "yes"
        )
        db.session.commit()
        flash(_("The membership settings are saved."), "success")
        return redirect(url_for("members.staff_settings"), code=303)
    status = 400 if request.method == "POST" else 200
    return _render(
        "members/staff/settings.html",
        status,
        form=form,
        tiers=tiers,
        reprice=reprice,
        action=ActionForm(),
        official=receipts.official(),
    )


@bp.route("/treasurer/members/tiers/<slug>/apply-price", methods=["POST"])
@role_required("treasurer")
def staff_apply_price(slug):
    if not ActionForm().validate_on_submit():
        abort(400)
    tier = services.tier_by_slug(slug, active_only=False)
    changed = management.apply_price_to_auto_renewals(tier)
    db.session.commit()
    flash(
        _(
            "%(count)s auto-renewals will charge the new price from their next renewal; "
            "each member was emailed.",
            count=changed,
        ),
        "success",
    )
    return redirect(url_for("members.staff_settings"), code=303)
