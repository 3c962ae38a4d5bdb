"""Joining and renewing, the member's own area, and household invitations."""

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from core import cache, clock, throttle
from core.accounts.services import start_session
from core.db import db
from core.errors import DomainError
from core.extensions import limiter
from core.i18n import current_language
from core.urls import absolute_url
from members import autorenew, bp, dates, household, imports, pricing, receipting, services
from members.caching import JOIN_PAGES, join_form_depends, today_key
from members.forms import (
    FORMAT_LABELS,
    STATUS_LABELS,
    ActionForm,
    InviteForm,
    JoinForm,
    LanguageForm,
    MailingForm,
    SetPasswordForm,
)
from members.models import DuesStatus
from payments.services import CheckoutUnavailable

#: How long the way back from Stripe's Cancel remembers a visitor's new account.
JOINING_SECONDS = 24 * 3600


def _add_error(form, name, message):
    field = getattr(form, name or "", None)
    if field is None or not hasattr(field, "errors"):
        flash(str(message), "error")
        return
    field.errors = [*field.errors, str(message)]


def _joining_user():
    """The account a visitor created in this browser when they started joining, if recent."""
    joining = session.get("joining")
    if not joining or clock.timestamp() - joining.get("at", 0) > JOINING_SECONDS:
        return None
    from core.accounts.models import User

    return db.session.get(User, joining.get("user"))


def _viewer():
    if current_user.is_authenticated:
        return current_user
    return _joining_user()


@bp.route("/join")
@cache.page(depends=JOIN_PAGES)
def join():
    membership = services.membership_of(current_user) if current_user.is_authenticated else None
    return render_template(
        "members/join.html",
        tiers=services.active_tiers(),
        membership=membership,
        status_labels=STATUS_LABELS,
    )


def _prefill(form, membership, user):
    if membership is not None:
        form.fill_mailing(membership)
    if user is not None:
        form.mailing_name.data = form.mailing_name.data or user.name
    form.setup_mailing(form.tier)


@bp.route("/join/<slug>", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
@cache.page(depends=join_form_depends, vary=today_key)
def join_tier(slug):
    tier = services.tier_by_slug(slug)
    viewer = _viewer()
    membership = services.held_membership(viewer) if viewer is not None else None
    form = JoinForm(tier=tier, needs_account=viewer is None)
    status = 200
    if request.method == "GET":
        form = JoinForm(formdata=None, tier=tier, needs_account=viewer is None)
        _prefill(form, membership, viewer)
        cancelled = request.args.get("cancelled")
        if cancelled:
            came_back = _came_back(cancelled, viewer, form)
            if came_back is not None:
                return came_back
    elif form.validate():
        try:
            return _start(form, tier, viewer)
        except CheckoutUnavailable:
            # Stored before Stripe was asked: the app-wide 503 page sends this very request
            # again; a second submit of the form would start a second checkout.
            raise
        except DomainError as error:
            db.session.rollback()
            _add_error(form, error.field, error.message)
    if request.method == "POST":
        status = 400
    viewer = _viewer()
    membership = services.held_membership(viewer) if viewer is not None else None
    refusal = None
    if viewer is not None:
        try:
            services.refuse_join(membership, viewer, tier, auto_renew=False)
        except DomainError as error:
            refusal = error.message
    priced = pricing.quote(
        tier,
        membership if membership is not None and membership.started_on else None,
        auto_renew=form.auto_renew,
        province=form.province.data or "",
        country=form.country.data or "CA",
    )
    return render_template(
        "members/join_tier.html",
        form=form,
        tier=tier,
        quote=priced,
        membership=membership,
        viewer=viewer,
        refusal=refusal,
        status_labels=STATUS_LABELS,
    ), status


def _came_back(token, viewer, form):
    """Back from Stripe through Cancel: close that checkout and show what was typed."""
    dues = services.pending_dues(token, viewer) if viewer is not None else None
    if dues is None:
        return None
    if dues.status == DuesStatus.paid:
        return redirect(
            url_for("members.account" if current_user.is_authenticated else "members.join")
        )
    closed = services.abandon_checkout(dues)
    db.session.commit()
    if not closed:
        flash(_("Your payment went through after all: your membership is recorded."), "success")
        return redirect(url_for("members.join"))
    form.fill_mailing(dues.membership)
    form.setup_mailing(form.tier)
    form.renewal.data = "auto" if dues.auto_renew else "once"
    flash(_("You cancelled the payment: nothing was charged. Your choices are kept below."), "info")
    return None


def _start(form, tier, viewer):
    user = viewer
    mailing = form.mailing()
    if user is None:
        services.check_join_address(
            services.JoinRequest(tier=tier, user=None, language=current_language(), **mailing)
        )
        # A wrong password for an address in use counts as a failed sign-in.
        throttle.refuse_if_exhausted("login", form.email.data)
        try:
            user, created = services.account_for_joining(
                email=form.email.data,
                password=form.password.data,
                name=form.name.data,
                language=current_language(),
            )
        except services.AddressInUse:
            throttle.count_attempt("login", form.email.data)
            raise
        if user.is_verified and not created:
            # They typed the password of their confirmed account: sign them in.
            session.clear()
            start_session(user, request.user_agent.string)
            login_user(user)
        session["joining"] = {"user": user.id, "at": clock.timestamp()}
    dues = services.start_join(
        services.JoinRequest(
            tier=tier,
            user=user,
            auto_renew=form.auto_renew,
            language=current_language(),
            **mailing,
        )
    )
    url = services.checkout_url(dues)
    db.session.commit()
    return redirect(url, code=303)


@bp.route("/join/welcome")
@limiter.limit(lambda: current_app.config["RETURN_PAGE_LIMIT"])
def welcome():
    session_id = request.args.get("session_id", "")
    if not session_id.startswith("cs_"):
        abort(404)
    dues = services.dues_for_return(session_id)
    if dues is None:
        abort(404)
    db.session.commit()
    return render_template(
        "members/welcome.html",
        dues=dues,
        membership=dues.membership,
        signed_in=current_user.is_authenticated,
        grace_days=dates.grace_days(),
    )


# -- the member's own area -------------------------------------------------------------------


def _mine():
    membership = services.membership_of(current_user)
    if membership is None:
        return None, False
    return membership, membership.user_id == current_user.id


@bp.route("/account/membership")
@login_required
def account():
    membership, holder = _mine()
    mailing = None
    invite = None
    if membership is not None and holder:
        mailing = MailingForm(formdata=None, tier=membership.tier)
        mailing.fill_mailing(membership)
        mailing.setup_mailing(membership.tier)
        if membership.tier.household:
            invite = InviteForm(formdata=None)
    language = LanguageForm(formdata=None)
    language.language.data = current_user.language
    return _account_page(membership, holder, mailing=mailing, invite=invite, language=language)


def _account_page(membership, holder, status=200, **forms):
    documents = receipting.member_documents(membership) if membership is not None else []
    pending = None
    if membership is not None:
        pending = next(
            (d for d in membership.dues if d.status == DuesStatus.pending and d.auto_renew),
            None,
        )
    return render_template(
        "members/account.html",
        membership=membership,
        holder=holder,
        documents=documents,
        pending_auto=pending,
        adults=household.members_of(membership) if membership is not None else [],
        seats_left=household.seats_left(membership) if membership is not None else 0,
        can_auto_renew=holder and autorenew.can_turn_auto_renew_on(membership),
        action=ActionForm(),
        status_labels=STATUS_LABELS,
        format_labels=FORMAT_LABELS,
        grace_ends_on=dates.grace_ends_on(membership.ends_on)
        if membership is not None and membership.ends_on
        else None,
        today=dates.today(),
        **forms,
    ), status


def _holding():
    membership, holder = _mine()
    if membership is None or not holder:
        abort(404)
    return membership


@bp.route("/account/membership/auto-renew", methods=["POST"])
@login_required
def auto_renew():
    membership = _holding()
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    wanted = request.form.get("on") == "1"
    if wanted:
        dues = autorenew.turn_auto_renew_on(membership, current_user)
        if dues is not None:
            url = services.checkout_url(dues)
            db.session.commit()
            return redirect(url, code=303)
        flash(_("Auto-renew is on again."), "success")
    else:
        autorenew.turn_auto_renew_off(membership)
        flash(
            _(
                "Auto-renew is off. Your membership stays current until %(date)s.",
                date=format_date(membership.ends_on, "long"),
            ),
            "success",
        )
    db.session.commit()
    return redirect(url_for("members.account"), code=303)


@bp.route("/account/membership/card", methods=["POST"])
@login_required
def update_card():
    membership = _holding()
    if not ActionForm().validate_on_submit():
        abort(400)
    url = autorenew.card_update_url(membership, absolute_url("members.account"))
    return redirect(url, code=303)


@bp.route("/account/membership/mailing", methods=["POST"])
@login_required
def update_mailing():
    membership = _holding()
    form = MailingForm(tier=membership.tier)
    if form.validate():
        try:
            services.update_mailing(membership, **form.mailing())
        except DomainError as error:
            db.session.rollback()
            _add_error(form, error.field, error.message)
        else:
            db.session.commit()
            flash(_("Your Mondial mailing details are saved."), "success")
            return redirect(url_for("members.account"), code=303)
    language = LanguageForm(formdata=None)
    language.language.data = current_user.language
    invite = InviteForm(formdata=None) if membership.tier.household else None
    return _account_page(membership, True, 400, mailing=form, invite=invite, language=language)


@bp.route("/account/membership/language", methods=["POST"])
@login_required
def update_language():
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    services.set_language(current_user, form.language.data)
    db.session.commit()
    flash(_("Your language is saved."), "success")
    return redirect(url_for("members.account", lang=form.language.data), code=303)


@bp.route("/account/membership/household", methods=["POST"])
@login_required
def invite():
    membership = _holding()
    if not membership.tier.household:
        abort(404)
    form = InviteForm()
    if form.validate():
        try:
            household.invite(
                membership, email=form.email.data, name=form.name.data, inviter=current_user
            )
        except DomainError as error:
            db.session.rollback()
            _add_error(form, error.field or "email", error.message)
        else:
            db.session.commit()
            flash(_("The invitation is sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("members.account"), code=303)
    mailing = MailingForm(formdata=None, tier=membership.tier)
    mailing.fill_mailing(membership)
    mailing.setup_mailing(membership.tier)
    language = LanguageForm(formdata=None)
    language.language.data = current_user.language
    return _account_page(membership, True, 400, mailing=mailing, invite=form, language=language)


@bp.route("/account/membership/household/<int:place_id>/remove", methods=["POST"])
@login_required
def remove_adult(place_id):
    membership = _holding()
    if not ActionForm().validate_on_submit():
        abort(400)
    household.remove(membership, place_id)
    db.session.commit()
    flash(_("They are no longer part of your household's membership."), "success")
    return redirect(url_for("members.account"), code=303)


@bp.route("/account/membership/household/leave", methods=["POST"])
@login_required
def leave_household():
    if not ActionForm().validate_on_submit():
        abort(400)
    household.leave(current_user)
    db.session.commit()
    flash(_("You have left the household's membership."), "success")
    return redirect(url_for("members.account"), code=303)


@bp.route("/join/household/<token>", methods=["GET", "POST"])
def household_accept(token):
    place = household.invitation(token)
    if not current_user.is_authenticated:
        return render_template("members/household_invitation.html", place=place, token=token)
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            household.accept(token, current_user)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            db.session.commit()
            flash(_("Welcome: you now share this membership."), "success")
            return redirect(url_for("members.account"), code=303)
    return render_template("members/household_invitation.html", place=place, token=token, form=form)


@bp.route("/account/membership/dues/<int:dues_id>")
@login_required
def dues_document(dues_id):
    """An acknowledgement of dues, printable (where no official receipt was issued)."""
    dues = receipting.dues_for_member(dues_id, current_user)
    if dues is None or dues.received_at is None:
        abort(404)
    return render_template(
        "members/acknowledgement.html",
        dues=dues,
        membership=dues.membership,
        receipt=receipting.receipt_of(dues),
        received_on=dates.local_date(dues.received_at),
    )


@bp.route("/account/set-password/<token>", methods=["GET", "POST"])
def set_password(token):
    """An imported member chooses their first password."""
    user = imports.account_for_set_password(token)
    form = SetPasswordForm()
    if form.validate_on_submit():
        imports.set_password(token, form.password.data)
        db.session.commit()
        flash(_("Your password is set. Please sign in with it."), "success")
        return redirect(url_for("accounts.login"), code=303)
    return render_template("members/set_password.html", form=form, user=user)
