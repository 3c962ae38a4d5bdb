"""The people screens under /treasurer/people: thin views over core.people."""

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import people
from core.accounts.access import role_required
from core.csv import csv_response
from core.errors import ValidationError
from core.i18n import format_org_time
from people import bp
from people.forms import EmailForm, EraseForm, MergeForm, MergeSearchForm, SearchForm

#: Who may see and change whole records: the treasurer (and the admin above).
STAFF = "treasurer"


def _render(template, status=200, **context):
    return render_template(template, when=format_org_time, **context), status


def _refuse(form):
    raise ValidationError(
        "; ".join(
            f"{form[name].label.text}: {', '.join(map(str, errors))}"
            for name, errors in form.errors.items()
        )
    )


def _email_from_query():
    form = EmailForm(formdata=request.args)
    if not form.validate():
        _refuse(form)
    return form.email.data


@bp.route("/")
@role_required(STAFF)
def search():
    form = SearchForm(formdata=request.args)
    if not form.q.data:
        return _render("people/search.html", form=form, found=None)
    if not form.validate():
        return _render("people/search.html", 400, form=form, found=None)
    try:
        found = people.search(form.q.data)
    except ValidationError as error:
        form.q.errors = [error.message]
        return _render("people/search.html", 400, form=form, found=None)
    return _render("people/search.html", form=form, found=found)


@bp.route("/record")
@role_required(STAFF)
def record():
    found = people.record_of(_email_from_query())
    merge_form = MergeSearchForm(formdata=None, into=found.person.email)
    return _render("people/record.html", record=found, merge_form=merge_form)


@bp.route("/record/export.json")
@role_required(STAFF)
def export_json():
    response = jsonify(people.exported(_email_from_query(), "json"))
    response.headers["Content-Disposition"] = 'attachment; filename="personal-data.json"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/record/export.csv")
@role_required(STAFF)
def export_csv():
    data = people.exported(_email_from_query(), "csv")
    return csv_response(people.EXPORT_HEADER, people.export_rows(data), "personal-data.csv")


@bp.route("/merge", methods=["GET", "POST"])
@role_required(STAFF)
def merge():
    if request.method == "POST":
        form = MergeForm()
        if form.validate():
            people.merge(
                form.source.data, form.into.data, reason=form.reason.data, by=current_user.id
            )
            flash(_("The records were merged."), "success")
            return redirect(url_for("people.record", email=form.into.data), 303)
        status = 400
    else:
        asked = MergeSearchForm(formdata=request.args)
        if not asked.validate():
            _refuse(asked)
        form = MergeForm(formdata=None, into=asked.into.data, source=asked.source.data)
        status = 200
    source, into = people.records_to_merge(form.source.data, form.into.data)
    return _render("people/merge.html", status, form=form, source=source, into=into)


@bp.route("/erase", methods=["GET", "POST"])
@role_required(STAFF)
def erase():
    if request.method == "POST":
        form = EraseForm()
        if form.validate():
            people.erase(form.email.data, reason=form.reason.data)
            flash(_("The record was erased; what the law requires us to keep remains."), "success")
            return redirect(url_for("people.search"), 303)
        status = 400
    else:
        form = EraseForm(formdata=None, email=_email_from_query())
        status = 200
    found, waiting = people.erasure_of(form.email.data)
    return _render("people/erase.html", status, form=form, record=found, waiting=waiting)
