"""The Stripe webhook, the generic return pages, and retrying a Checkout Stripe did not open."""

import json

from flask import abort, current_app, jsonify, redirect, render_template, request

from core.errors import error_response, wants_json
from core.extensions import csrf, limiter
from payments import bp, inbox, services
from payments.gateway import WebhookSignatureError, gateway

WEBHOOK_MAX_BYTES = 5 * 1024 * 1024


@bp.route("/stripe/webhook", methods=["POST"])
@csrf.exempt
@limiter.exempt
def webhook():
    """Check the signature, store the event by its id, answer 200; the worker handles it."""
    request.max_content_length = WEBHOOK_MAX_BYTES
    try:
        payload = request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        return _refuse("malformed", "The body is not UTF-8.")
    try:
        gateway().verify_signature(payload, request.headers.get("Stripe-Signature"))
    except WebhookSignatureError:
        return _refuse("bad_signature", "Signature check failed.")
    try:
        event = json.loads(payload)
        inbox.check_event(event)
    except (ValueError, RecursionError, inbox.MalformedEvent):
        return _refuse("malformed", "Not a Stripe event.")
    new = inbox.receive(event)
    return jsonify(received=True, duplicate=not new)


def _refuse(code, message):
    return jsonify(error={"code": code, "message": message}), 400


webhook.skip_input_check = True  # signed by Stripe; stored exactly as sent


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
