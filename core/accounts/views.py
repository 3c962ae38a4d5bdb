from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from core import clock, throttle
from core.accounts import bp, services, totp
from core.accounts.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    LoginForm,
    RegisterForm,
    ResendVerificationForm,
    ResetPasswordForm,
    ResetRequestForm,
    SecondFactorForm,
    SecondFactorSetupForm,
)
from core.accounts.models import User
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
        elif totp.required(user):
            # The password was right; the second factor decides. Nothing is signed in yet.
            db.session.commit()
            session.clear()
            session[PENDING] = {
                "user": user.id,
                "next": next_url if is_safe_redirect(next_url) else None,
                "remember": bool(form.remember.data),
                "at": int(clock.now().timestamp()),
            }
            step = "second_factor" if totp.enrolled(user) else "second_factor_setup"
            return redirect(url_for(f"accounts.{step}"))
        else:
            _sign_in(user, remember=form.remember.data)
            db.session.commit()
            flash(_("You are signed in."), "success")
            if is_safe_redirect(next_url):
                return redirect(next_url)
            return redirect(url_for("accounts.overview"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form, resend_token=resend_token), status


#: The session key of a sign-in waiting for its second factor.
PENDING = "second_factor"
#: How long the second factor may take after the password (seconds).
PENDING_SECONDS = 600


def _pending_user():
    """The account whose password was just given, if the second factor is still awaited."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if int(clock.now().timestamp()) - int(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None
    user = db.session.get(User, pending.get("user"))
    if user is None or not user.active or not totp.required(user):
        return None
    return user


def _finish_sign_in(user):
    pending = session.get(PENDING) or {}
    _sign_in(user, remember=pending.get("remember", False))
    db.session.commit()
    flash(_("You are signed in."), "success")
    return pending.get("next") or url_for("accounts.overview")


def _restart():
    flash(_("Please sign in again."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/login/two-factor", methods=["GET", "POST"])
def second_factor():
    """The code from the authenticator app, or a recovery code."""
    user = _pending_user()
    if user is None:
        return _restart()
    if not totp.enrolled(user):
        return redirect(url_for("accounts.second_factor_setup"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        throttle.refuse_if_exhausted("login", user.email)
        code = form.code.data or ""
        if totp.verify(user, code) or totp.use_recovery_code(user, code):
            return redirect(_finish_sign_in(user))
        throttle.count_attempt("login", user.email)
        db.session.rollback()
        form.code.errors.append(_("That code is not right. Please try the current one."))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/second_factor.html", form=form), status


@bp.route("/login/two-factor/setup", methods=["GET", "POST"])
def second_factor_setup():
    """First sign-in of a treasurer or admin: enrol an authenticator app."""
    user = _pending_user()
    if user is None:
        return _restart()
    if totp.enrolled(user):
        return redirect(url_for("accounts.second_factor"))
    form = SecondFactorSetupForm()
    secret = session.get(PENDING, {}).get("secret")
    if not secret:
        secret = totp.new_secret()
        session[PENDING] = {**session[PENDING], "secret": secret}
    if form.validate_on_submit():
        throttle.refuse_if_exhausted("login", user.email)
        codes = totp.enrol(user, secret, form.code.data)
        if codes is not None:
            next_url = _finish_sign_in(user)
            return render_template("accounts/recovery_codes.html", codes=codes, next_url=next_url)
        throttle.count_attempt("login", user.email)
        db.session.rollback()
        form.code.errors.append(_("That code is not right. Please try the current one."))
    uri = totp.provisioning_uri(user, secret)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "accounts/second_factor_setup.html",
        form=form,
        secret=secret,
        qr=totp.qr_svg(uri),
    ), status


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
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/reset_request.html", form=form), status


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
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/reset_password.html", form=form), status


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
