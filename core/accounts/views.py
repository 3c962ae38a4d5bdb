from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from core import throttle
from core.accounts import bp, services
from core.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    LoginForm,
    RegisterForm,
    ResendVerificationForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from core.db import db
from core.errors import DomainError
from core.i18n import current_language
from core.security import is_safe_redirect
from core.tokens import InvalidLink


def _sign_in(user, remember=False):
    # A new session on every sign-in: nothing from the anonymous cookie is carried over.
    # Features that give a visitor's data to the account (a cart) name their keys; they
    # read them from ``g.before_sign_in`` when ``user_logged_in`` is sent.
    wanted = current_app.extensions.get("kept_at_sign_in", ())
    g.before_sign_in = {key: session[key] for key in wanted if key in session}
    session.clear()
    services.start_session(user, request.user_agent.string)
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegisterForm()
    if request.method == "GET":
        form.language.data = current_language()
    if form.validate_on_submit():
        throttle.refuse_if_exhausted("register", form.email.data)
        throttle.count_attempt("register", form.email.data)
        try:
            services.register(
                form.email.data,
                form.password.data,
                name=form.name.data.strip(),
                language=form.language.data,
            )
        except DomainError as error:
            db.session.rollback()
            field = getattr(form, error.field or "", None) or form.password
            field.errors.append(str(error.message))
        else:
            db.session.commit()
            return render_template("accounts/check_email.html", email=form.email.data)
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/verify-email/<token>")
def verify_email(token):
    services.verify_email(token)
    db.session.commit()
    flash(_("Thank you, your email address is confirmed. You can sign in now."), "success")
    if current_user.is_authenticated:
        return redirect(url_for("accounts.overview"))
    return redirect(url_for("accounts.login"))


@bp.route("/verify-email/resend", methods=["POST"])
def resend_verification():
    """The sign-in page's button for an account whose address is not confirmed yet."""
    form = ResendVerificationForm()
    if not form.validate_on_submit():
        raise InvalidLink()
    try:
        user = services.resend_verification(form.token.data)
    except services.TooManyEmails as error:
        db.session.rollback()
        return render_template("accounts/check_email.html", email=None, wait=error.message), 429
    db.session.commit()
    if user.is_verified:
        flash(_("Your email address is already confirmed. You can sign in."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/check_email.html", email=user.email)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    next_url = request.args.get("next")
    resend_token = None
    if form.validate_on_submit():
        throttle.refuse_if_exhausted("login", form.email.data)
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            throttle.count_attempt("login", form.email.data)
            db.session.rollback()
            form.password.errors.append(_("Wrong email or password."))
            g.login_failed = True
        elif not user.is_verified:
            # Nothing is sent from here: a resend is one click away, and counted.
            db.session.commit()
            resend_token = services.resend_token(user)
        else:
            _sign_in(user, remember=form.remember.data)
            db.session.commit()
            flash(_("You are signed in."), "success")
            if is_safe_redirect(next_url):
                return redirect(next_url)
            return redirect(url_for("accounts.overview"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form, resend_token=resend_token), status


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated and current_user.current_session:
        services.end_session(current_user.current_session.token)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "success")
    return redirect(url_for("core.home"))


@bp.route("/reset-password", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        throttle.refuse_if_exhausted("reset", form.email.data)
        throttle.count_attempt("reset", form.email.data)
        services.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("accounts/reset_sent.html", email=form.email.data)
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token):
    services.user_for_reset(token)  # a used or expired link says so before the form
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(token, form.password.data)
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        session.clear()
        flash(_("Your password is changed. Please sign in with it."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/account")
@login_required
def overview():
    return render_template("accounts/overview.html")


@bp.route("/account/settings")
@login_required
def settings():
    return render_template(
        "accounts/settings.html",
        password_form=ChangePasswordForm(prefix="pw"),
        email_form=ChangeEmailForm(prefix="em"),
    )


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            user = services.change_password(
                current_user, form.current_password.data, form.password.data
            )
        except DomainError as error:
            form.current_password.errors.append(str(error.message))
        else:
            _sign_in(user)
            db.session.commit()
            flash(_("Your password is changed. Other devices are signed out."), "success")
            return redirect(url_for("accounts.settings"))
    db.session.rollback()
    return render_template(
        "accounts/settings.html", password_form=form, email_form=ChangeEmailForm(prefix="em")
    ), 400


@bp.route("/account/email", methods=["POST"])
@login_required
def change_email():
    form = ChangeEmailForm(prefix="em")
    if form.validate_on_submit():
        try:
            services.request_email_change(current_user, form.password.data, form.email.data)
        except DomainError as error:
            (form.password if error.field == "password" else form.email).errors.append(
                str(error.message)
            )
        else:
            db.session.commit()
            flash(_("We have sent a confirmation link to your new address."), "success")
            return redirect(url_for("accounts.settings"))
    db.session.rollback()
    return render_template(
        "accounts/settings.html", password_form=ChangePasswordForm(prefix="pw"), email_form=form
    ), 400


@bp.route("/account/confirm-email/<token>")
def confirm_email(token):
    services.confirm_email_change(token)
    db.session.commit()
    flash(_("Your email address is changed."), "success")
    target = "accounts.settings" if current_user.is_authenticated else "accounts.login"
    return redirect(url_for(target))
