from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.db import db
from core.extensions import csrf
from core.i18n import current_language
from core.mail import bp
from core.mail.forms import PreferencesForm
from core.mail.services import (
    email_from_preferences_token,
    has_consent,
    record_consent,
)

NEWS_WORDING = _l(
    "Send me news by email: campaigns, new issues of Mondial and events. "
    "I can unsubscribe at any time."
)


@bp.route("/email-preferences/<token>", methods=["GET", "POST"])
def preferences(token):
    email = email_from_preferences_token(token)
    form = PreferencesForm()
    if form.validate_on_submit():
        record_consent(
            email,
            form.news.data,
            wording=NEWS_WORDING,
            language=current_language(),
            source="preferences page",
        )
        db.session.commit()
        flash(_("Your email preferences are saved."), "success")
        return redirect(url_for("mail.preferences", token=token))
    if request.method == "GET":
        form.news.data = has_consent(email)
    return render_template("mail/preferences.html", form=form, email=email, wording=NEWS_WORDING)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail clients POST here with no session (RFC 8058 one-click); the token is the proof
def unsubscribe(token):
    email = email_from_preferences_token(token)
    if request.method == "POST":
        if has_consent(email):
            record_consent(
                email,
                False,
                wording=_l("Unsubscribed with the link in an email."),
                language=current_language(),
                source="unsubscribe link",
            )
            db.session.commit()
        return render_template("mail/unsubscribed.html", email=email, token=token)
    return render_template("mail/unsubscribe.html", email=email, token=token)
