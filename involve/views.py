"""Get Involved, Take Action, volunteering, content pages, comments and their moderation."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from core import clock
from core.accounts.access import has_role, role_required
from core.accounts.models import Role
from core.db import db
from core.errors import DomainError
from core.extensions import limiter
from core.i18n import current_language
from involve import bp, services
from involve.forms import CommentForm, SignForm, VolunteerForm
from involve.markup import render_markdown
from involve.models import CommentStatus

#: Per visitor address; a room of people signing on one wifi stays well under them.
LIMITS = {
    "INVOLVE_SIGN_LIMIT": "10 per 10 minutes;40 per day",
    "INVOLVE_COMMENT_LIMIT": "5 per 10 minutes;20 per day",
    "INVOLVE_VOLUNTEER_LIMIT": "5 per hour",
}


def _limit(name):
    return lambda: current_app.config.get(name, LIMITS[name])


@bp.context_processor
def _formatting():
    language = current_language()
    return {
        "format_day": lambda day: services.format_day(day, language),
        "local_day": lambda moment: services.format_day(clock.local_date(moment), language),
        "format_count": lambda number: services.format_count(number, language),
        "text_of": lambda obj, field: obj.text(field, language),
        "markdown": render_markdown,
    }


def _comment_form(**kwargs):
    # Prefixed: beside the signing form, its fields need ids of their own.
    return CommentForm(prefix="comment", **kwargs)


def _prefilled(form):
    """A signed-in member's name and email, filled in for them."""
    if current_user.is_authenticated:
        form.name.data = current_user.name
        form.email.data = current_user.email
    return form


def _see_other(endpoint, anchor="", **values):
    return redirect(url_for(endpoint, **values) + (f"#{anchor}" if anchor else ""), code=303)


# -- Get Involved and Take Action ------------------------------------------------------------


@bp.route("/get-involved")
def get_involved():
    return render_template("involve/get_involved.html", campaigns=services.open_campaigns())


@bp.route("/take-action")
def take_action():
    campaigns = services.listed_campaigns()
    today = clock.today()
    return render_template(
        "involve/take_action.html",
        groups=services.by_status(campaigns, today),
        today=today,
    )


def _campaign_page(campaign, sign_form, comment_form, status=200):
    return render_template(
        "involve/campaign.html",
        campaign=campaign,
        status=campaign.status(clock.today()),
        comments=services.approved_comments(campaign),
        form=sign_form,
        comment_form=comment_form,
    ), status


@bp.route("/take-action/<slug>", methods=["GET", "POST"])
@limiter.limit(_limit("INVOLVE_SIGN_LIMIT"), methods=["POST"])
def campaign(slug):
    campaign = services.campaign_by_slug(slug, preview=has_role(Role.admin))
    if request.method == "GET":
        return _campaign_page(
            campaign, _prefilled(SignForm(formdata=None)), _comment_form(formdata=None)
        )
    form = SignForm()
    if not form.validate():
        return _campaign_page(campaign, form, _comment_form(formdata=None), 400)
    if not form.is_robot:
        try:
            services.sign_campaign(
                campaign,
                services.SignRequest(
                    name=form.name.data,
                    email=form.email.data,
                    postal_code=form.postal_code.data,
                    personal_message=form.personal_message.data or "",
                    news_consent=form.news_consent.data,
                    language=current_language(),
                ),
            )
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
            return _campaign_page(campaign, form, _comment_form(formdata=None), error.status)
        db.session.commit()
    flash(
        _(
            "Almost done: we have sent a link to %(email)s. "
            "Your signature counts once you open it.",
            email=form.email.data.strip(),
        ),
        "success",
    )
    return _see_other("involve.campaign", "sign", slug=campaign.slug)


@bp.route("/take-action/<slug>/confirm/<token>", methods=["GET", "POST"])
def confirm(slug, token):
    """The link in the email; a button confirms, so that mail scanners opening it do not."""
    campaign = services.campaign_by_slug(slug)
    signature = services.signature_from_token(campaign, token)
    if request.method == "POST":
        if services.confirm_signature(signature):
            flash(_("Thank you: your signature is confirmed and counted."), "success")
        else:
            flash(_("Your signature was already confirmed. Thank you!"), "success")
        db.session.commit()
        return _see_other("involve.campaign", "progress", slug=campaign.slug)
    return render_template("involve/confirm.html", campaign=campaign, signature=signature)


# -- content pages ---------------------------------------------------------------------------


def _content_page(page, comment_form, status=200):
    return render_template(
        "involve/page.html",
        page=page,
        comments=services.approved_comments(page),
        comment_form=comment_form,
    ), status


@bp.route("/pages/<slug>")
def page(slug):
    page = services.page_by_slug(slug, preview=has_role(Role.admin))
    return _content_page(page, _comment_form(formdata=None))


# -- comments --------------------------------------------------------------------------------


def _comment(target, endpoint, rerender):
    form = _comment_form()
    if not form.validate():
        return rerender(form)
    if not form.is_robot:  # a robot is thanked like anyone, and nothing is kept
        try:
            services.add_comment(
                target,
                services.CommentRequest(
                    name=form.name.data,
                    email=form.email.data,
                    body=form.body.data,
                    language=current_language(),
                ),
            )
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(str(error.message))
            return rerender(form, error.status)
        db.session.commit()
    flash(_("Thank you. Your comment will appear once a moderator approves it."), "success")
    return _see_other(endpoint, "comments", slug=target.slug)


@bp.route("/pages/<slug>/comments", methods=["POST"])
@limiter.limit(_limit("INVOLVE_COMMENT_LIMIT"))
def page_comment(slug):
    page = services.page_by_slug(slug)
    return _comment(
        page, "involve.page", lambda form, status=400: _content_page(page, form, status)
    )


@bp.route("/take-action/<slug>/comments", methods=["POST"])
@limiter.limit(_limit("INVOLVE_COMMENT_LIMIT"))
def campaign_comment(slug):
    campaign = services.campaign_by_slug(slug)
    return _comment(
        campaign,
        "involve.campaign",
        lambda form, status=400: _campaign_page(campaign, SignForm(formdata=None), form, status),
    )


# -- volunteering ----------------------------------------------------------------------------


@bp.route("/volunteer", methods=["GET", "POST"])
@limiter.limit(_limit("INVOLVE_VOLUNTEER_LIMIT"), methods=["POST"])
def volunteer():
    form = VolunteerForm()
    if request.method == "POST" and form.validate():
        if not form.is_robot:
            services.register_volunteer(
                services.VolunteerRequest(
                    name=form.name.data,
                    email=form.email.data,
                    phone=form.phone.data or "",
                    languages=tuple(form.languages.data),
                    interests=tuple(form.interests.data),
                    availability=tuple(form.availability.data),
                    message=form.message.data or "",
                    news_consent=form.news_consent.data,
                    language=current_language(),
                )
            )
            db.session.commit()
        return _see_other("involve.volunteer_thanks")
    if request.method == "GET":
        _prefilled(form)
    status = 400 if request.method == "POST" else 200
    return render_template("involve/volunteer.html", form=form), status


@bp.route("/volunteer/thanks")
def volunteer_thanks():
    return render_template("involve/volunteer_thanks.html")


# -- moderation ------------------------------------------------------------------------------


@bp.route("/moderation/comments", methods=["GET", "POST"])
@role_required(Role.moderator)
def moderation():
    shown = request.values.get("status", CommentStatus.pending.value)
    if shown not in CommentStatus.__members__:
        abort(404)
    if request.method == "POST":
        return _moderate(shown)
    return render_template(
        "involve/moderation.html",
        comments=services.comments_for_moderation(CommentStatus(shown)),
        counts=services.comment_counts(),
        shown=shown,
        statuses=list(CommentStatus),
    )


def _moderate(shown):
    # One button per comment ("approve:12") or the bulk buttons with the ticked boxes.
    action, _sep, one = request.form.get("one", "").partition(":")
    if one:
        ids = [int(one)] if one.isdigit() else []
    else:
        action = request.form.get("action", "")
        ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
    if action not in services.MODERATION_ACTIONS:
        abort(400)
    if not ids:
        flash(_("Please tick at least one comment."), "warning")
    else:
        changed = services.moderate_comments(ids, action, moderator_id=current_user.id)
        db.session.commit()
        flash(_("Comments changed: %(count)s.", count=changed), "success")
    return _see_other("involve.moderation", status=shown)


# -- panels on shared pages ------------------------------------------------------------------


def home_panel():
    """The open campaigns, on the home page."""
    campaigns = services.open_campaigns()
    if not campaigns:
        return ""
    return render_template("involve/_home_panel.html", campaigns=campaigns, **_formatting())


def moderation_panel():
    """On a moderator's account page: how many comments wait for them."""
    if not has_role(Role.moderator):
        return ""
    return render_template(
        "involve/_moderation_panel.html",
        waiting=services.comment_counts()[CommentStatus.pending],
        **_formatting(),
    )
