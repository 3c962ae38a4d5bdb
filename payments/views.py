"""The Stripe webhook, the generic return pages, and retrying a Checkout Stripe did not open."""

import json
import logging
import time

from flask import abort, current_app, jsonify, redirect, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from core import logs, security
from core.errors import error_response, wants_json
from core.extensions import csrf, limiter
from payments import bp, inbox, services
from payments.gateway import WebhookSignatureError, gateway

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/stripe/webhook"
WEBHOOK_MAX_BYTES = 5 * 1024 * 1024


def ingest(body, signature):
    """Check the signature, store the event by its id; ``(status, answer)`` for Stripe.

    The worker handles the stored event (:mod:`payments.inbox`).
    """
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError:
        return _refusal("malformed", "The body is not UTF-8.")
    try:
        gateway().verify_signature(payload, signature)
    except WebhookSignatureError:
        return _refusal("bad_signature", "Signature check failed.")
    try:
        event = json.loads(payload)
        checked = inbox.check_event(event)
    except (ValueError, RecursionError, inbox.MalformedEvent):
        return _refusal("malformed", "Not a Stripe event.")
    new = inbox.receive(event, checked)
    return 200, {"received": True, "duplicate": not new}


def _refusal(code, message):
    return 400, {"error": {"code": code, "message": message}}


@bp.route(WEBHOOK_PATH, methods=["POST"])
@csrf.exempt
@limiter.exempt
def webhook():
    """The webhook as a Flask view; :class:`WebhookFastPath` answers it first when installed."""
    request.max_content_length = WEBHOOK_MAX_BYTES
    status, answer = ingest(request.get_data(), request.headers.get("Stripe-Signature"))
    return jsonify(answer), status


webhook.skip_input_check = True  # signed by Stripe; stored exactly as sent


class WebhookFastPath:
    """WSGI middleware: a POST to the webhook is stored and answered before Flask's request
    machinery (sessions, sign-in, CSRF, rate limits, page caching) runs for it.

    A webhook is Stripe's machine talking to ours, and none of that concerns it: what is
    left is the signature check, one insert and the answer, so that a burst of deliveries
    is stored as fast as the database allows (``make bench``). Any other request, and any
    other method on this path, goes to Flask.
    """

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != WEBHOOK_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        started = time.perf_counter()
        incoming = Request(environ)
        incoming.max_content_length = WEBHOOK_MAX_BYTES
        try:
            with self.app.app_context():
                status, answer = ingest(
                    incoming.get_data(), incoming.headers.get("Stripe-Signature")
                )
        except RequestEntityTooLarge:
            status, answer = _refusal_too_large()
        except Exception:  # the database is down: Stripe tries again later
            log.exception("Webhook delivery not stored")
            status = 500
            answer = {"error": {"code": "not_stored", "message": "Not stored; send it again."}}
        response = Response(json.dumps(answer), status, mimetype="application/json")
        request_id = security.request_id(incoming.headers)
        response.headers["X-Request-Id"] = request_id
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
        logs.log_request("POST", WEBHOOK_PATH, "payments.webhook", status, started, request_id)
        return response(environ, start_response)


def _refusal_too_large():
    mebibytes = WEBHOOK_MAX_BYTES // (1024 * 1024)
    return 413, {"error": {"code": "too_large", "message": f"Over {mebibytes} MB."}}


@bp.route("/payments/return")
@limiter.limit(lambda: current_app.config["RETURN_PAGE_LIMIT"])
def checkout_return():
    """Where Stripe sends a payer back; features usually give their own success page."""
    session_id = request.args.get("session_id", "")
    if not session_id.startswith("cs_"):
        abort(404)
    payment = services.confirm_on_return(session_id)
    if payment is None:
        abort(404)
    return render_template("payments/return.html", payment=payment)


@bp.route("/payments/<token>/retry", methods=["POST"])
@limiter.limit("20 per hour")
def retry(token):
    """Send the same Checkout request again after Stripe did not answer."""
    payment = services.payment_by_token(token)
    if payment is None:
        abort(404)
    url = services.retry_checkout(payment)
    return redirect(url, code=303)


def checkout_unavailable(error):
    """Stripe did not open a checkout: say so, and offer to send the same request again.

    The request is already committed (see ``open_checkout``), so the retry is the same one.
    """
    if wants_json():
        return error_response(error.status, error.code, error.message)
    return render_template(
        "payments/unavailable.html", token=error.payment_token, message=error.message
    ), 503
