"""Staff screens for Get Involved (admin role): signatures, letters, volunteers, the news list."""

from flask import make_response, render_template, request

from core.accounts.access import role_required
from core.accounts.models import Role
from core.csv import stream_csv
from core.db import db
from core.errors import NotFound, ValidationError
from core.i18n import current_language
from involve import bp, reports
from involve.forms import AVAILABILITY, INTERESTS, LANGUAGES
from involve.letters_pdf import render_letters_pdf
from involve.models import Campaign
from involve.staff_forms import VolunteerFilterForm

CHOICE_LABELS = {choice.value: choice.label for choice in LANGUAGES + INTERESTS + AVAILABILITY}


def _campaign(campaign_id):
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound()
    return campaign


@bp.route("/admin/take-action")
@role_required(Role.admin)
def staff_campaigns():
    return render_template("involve/staff/campaigns.html", campaigns=reports.campaigns_with_stats())


@bp.route("/admin/take-action/<int:campaign_id>")
@role_required(Role.admin)
def staff_campaign(campaign_id):
    campaign = _campaign(campaign_id)
    return render_template(
        "involve/staff/campaign.html",
        campaign=campaign,
        stats=reports.campaign_stats(campaign.id),
    )


@bp.route("/admin/take-action/<int:campaign_id>/signatures.csv")
@role_required(Role.admin)
def staff_signatures_csv(campaign_id):
    campaign = _campaign(campaign_id)
    return stream_csv(
        reports.SIGNATURE_HEADER,
        reports.signature_rows(campaign.id),
        f"signatures-{campaign.slug}-{reports.export_stamp()}.csv",
    )


@bp.route("/admin/take-action/<int:campaign_id>/letters.pdf")
@role_required(Role.admin)
def staff_letters_pdf(campaign_id):
    campaign = _campaign(campaign_id)
    pdf = render_letters_pdf(reports.letters_document(campaign, current_language()))
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="letters-{campaign.slug}-{reports.export_stamp()}.pdf"'
    )
    return response


def _volunteer_filters():
    form = VolunteerFilterForm(request.args)
    return form, form.validate()


@bp.route("/admin/volunteers")
@role_required(Role.admin)
def staff_volunteers():
    form, valid = _volunteer_filters()
    volunteers = reports.search_volunteers(form.filters()) if valid else []
    return render_template(
        "involve/staff/volunteers.html",
        form=form,
        volunteers=volunteers,
        labels=CHOICE_LABELS,
        args=form.query_args() if valid else {},
    ), (200 if valid else 400)


@bp.route("/admin/volunteers.csv")
@role_required(Role.admin)
def staff_volunteers_csv():
    form, valid = _volunteer_filters()
    if not valid:
        raise ValidationError()
    return stream_csv(
        reports.VOLUNTEER_HEADER,
        reports.volunteer_rows(form.filters()),
        f"volunteers-{reports.export_stamp()}.csv",
    )


@bp.route("/admin/news-consent")
@role_required(Role.admin)
def staff_news_consent():
    return render_template(
        "involve/staff/news_consent.html",
        people=reports.news_subscribers(limit=500),
        total=reports.news_subscriber_count(),
    )


@bp.route("/admin/news-consent.csv")
@role_required(Role.admin)
def staff_news_consent_csv():
    return stream_csv(
        reports.NEWS_HEADER, reports.news_rows(), f"news-consent-{reports.export_stamp()}.csv"
    )
