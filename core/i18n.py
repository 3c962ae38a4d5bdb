"""Language choice (``?lang=``, then the ``lang`` cookie, then ``Accept-Language``), and
times as read where the organization is."""

from urllib.parse import urlencode

from flask import current_app, g, has_request_context, request
from flask_babel import get_locale

from core import clock


def select_locale():
    """Pick the visitor's language for this request."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # the CLI and the worker speak the default language
        return languages[0]
    wanted = request.args.get("lang")
    if wanted in languages:
        g.set_language_cookie = wanted
        return wanted
    cookie = request.cookies.get(current_app.config["LANGUAGE_COOKIE"])
    if cookie in languages:
        return cookie
    return request.accept_languages.best_match(languages) or languages[0]


def remember_language(response):
    """Keep a language chosen with ``?lang=`` for the next visits."""
    chosen = g.pop("set_language_cookie", None)
    if chosen:
        response.set_cookie(
            current_app.config["LANGUAGE_COOKIE"],
            chosen,
            max_age=60 * 60 * 24 * 365,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
    return response


def language_switch_url(language):
    """This page's address in ``language`` (the toggle in every page's header)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", language))
    return request.path + "?" + urlencode(args)


def current_language():
    """The language of the page being drawn (``en`` or ``fr``); ``en`` outside a request."""
    try:
        locale = get_locale()
    except Exception:  # outside an application context: no locale to ask for
        locale = None
    return locale.language if locale else "en"


def other_language():
    return "en" if current_language() == "fr" else "fr"


def format_org_time(moment):
    """A moment as staff read it: local date and time to the minute, and the zone."""
    if moment is None:
        return ""
    return clock.local(moment).strftime("%Y-%m-%d %H:%M %Z")
