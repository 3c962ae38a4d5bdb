"""The one module that talks to Stripe.

One ``StripeClient`` per app, built from config: the API version pinned to the installed
SDK's, a request timeout, a bounded number of network retries (the SDK re-sends the same
``Idempotency-Key``), and Stripe's errors turned into our own ``DomainError``s. Objects
come back as plain dicts so that nothing outside this module depends on the SDK.
"""

import logging

import stripe
from flask import current_app
from flask_babel import lazy_gettext as _l

from core.errors import DomainError, ServiceUnavailable

log = logging.getLogger(__name__)

API_VERSION = stripe.api_version
WebhookSignatureError = stripe.SignatureVerificationError


class PaymentProviderUnavailable(ServiceUnavailable):
    """Stripe did not answer in time, or answered that it could not right now."""

    code = "payment_provider_unavailable"


class PaymentProviderError(DomainError):
    """Stripe refused a request we made; a bug or a configuration problem on our side."""

    status = 502
    code = "payment_provider_error"
    default_message = _l(
        "Our payment provider could not process this request. Nothing was charged. "
        "Please try again later; we have been told."
    )


class ObjectMissing(PaymentProviderError):
    """Stripe has no object with that id (deleted, another account, or never existed)."""

    code = "object_missing"


class CardDeclined(DomainError):
    status = 402
    code = "card_declined"
    default_message = _l("The card was declined.")


#: The most a try may spend connecting; the rest of its share is for the answer.
CONNECT_TIMEOUT = 2.0


def _backoff_seconds(retries):
    """The SDK's longest total sleep between ``retries`` retries (jitter at its top)."""
    delay = stripe.HTTPClient
    return sum(
        min(delay.INITIAL_DELAY * 2 ** (n - 1), delay.MAX_DELAY) for n in range(1, retries + 1)
    )


def call_limits(config):
    """``(connect, read)`` seconds per try, so that a whole call fits ``STRIPE_CALL_TIMEOUT``.

    A call is every try the SDK makes and its sleeps between them; each try gets an equal
    share of what the sleeps leave, and never more than ``STRIPE_TIMEOUT``.
    """
    retries = config["STRIPE_MAX_NETWORK_RETRIES"]
    share = (config["STRIPE_CALL_TIMEOUT"] - _backoff_seconds(retries)) / (retries + 1)
    per_try = min(config["STRIPE_TIMEOUT"], share)
    if per_try <= 0:
        raise ValueError("STRIPE_CALL_TIMEOUT leaves no time for a request to Stripe")
    connect = min(CONNECT_TIMEOUT, per_try / 3)
    return connect, per_try - connect


def longest_call_seconds(config):
    """How long one gateway call can take at most: every try timed out, every sleep slept.

    (The read timeout counts between bytes; Stripe's answers are small, sent at once.)
    """
    retries = config["STRIPE_MAX_NETWORK_RETRIES"]
    return (retries + 1) * sum(call_limits(config)) + _backoff_seconds(retries)


class Gateway:
    def __init__(self, config):
        self.limits = call_limits(config)
        base = config.get("STRIPE_API_BASE")
        self.client = stripe.StripeClient(
            config["STRIPE_SECRET_KEY"],
            stripe_version=API_VERSION,
            base_addresses={"api": base} if base else None,
            max_network_retries=config["STRIPE_MAX_NETWORK_RETRIES"],
            http_client=stripe.RequestsClient(timeout=self.limits),
        )
        self.webhook_secrets = tuple(config.get("STRIPE_WEBHOOK_SECRETS") or ())

    # -- calling ---------------------------------------------------------------------------

    def _call(self, method, *args, **kwargs):
        try:
            result = method(*args, **kwargs)
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            log.warning("Stripe unavailable: %s", error)
            raise PaymentProviderUnavailable() from error
        except stripe.CardError as error:
            raise CardDeclined(error.user_message or None) from error
        except stripe.APIError as error:
            log.warning("Stripe API error: %s", error)
            raise PaymentProviderUnavailable() from error
        except stripe.IdempotencyError as error:
            # Same key, other parameters: we never change a stored attempt, so this is a bug.
            log.error("Stripe idempotency error: %s", error)
            raise PaymentProviderError() from error
        except stripe.InvalidRequestError as error:
            if error.code == "resource_missing":
                raise ObjectMissing() from error
            log.error("Stripe refused a request: %s", error)
            raise PaymentProviderError() from error
        except stripe.StripeError as error:
            log.error("Stripe refused a request: %s", error)
            raise PaymentProviderError() from error
        return _plain(result)

    @staticmethod
    def _options(idempotency_key=None):
        return {"idempotency_key": idempotency_key} if idempotency_key else None

    # -- Checkout --------------------------------------------------------------------------

    def create_checkout_session(self, params, idempotency_key):
        return self._call(
            self.client.v1.checkout.sessions.create,
            params=params,
            options=self._options(idempotency_key),
        )

    def retrieve_checkout_session(self, session_id, expand=()):
        return self._call(
            self.client.v1.checkout.sessions.retrieve,
            session_id,
            params={"expand": list(expand)} if expand else None,
        )

    def expire_checkout_session(self, session_id, idempotency_key=None):
        return self._call(
            self.client.v1.checkout.sessions.expire,
            session_id,
            options=self._options(idempotency_key),
        )

    # -- payments --------------------------------------------------------------------------

    def retrieve_payment_intent(self, payment_intent_id, expand=()):
        return self._call(
            self.client.v1.payment_intents.retrieve,
            payment_intent_id,
            params={"expand": list(expand)} if expand else None,
        )

    def retrieve_charge(self, charge_id, expand=()):
        return self._call(
            self.client.v1.charges.retrieve,
            charge_id,
            params={"expand": list(expand)} if expand else None,
        )

    def retrieve_invoice(self, invoice_id, expand=()):
        return self._call(
            self.client.v1.invoices.retrieve,
            invoice_id,
            params={"expand": list(expand)} if expand else None,
        )

    def invoice_for_payment_intent(self, payment_intent_id):
        """The invoice a PaymentIntent paid, if any (invoices list payments, not the reverse)."""
        result = self._call(
            self.client.v1.invoice_payments.list,
            params={"payment": {"type": "payment_intent", "payment_intent": payment_intent_id}},
        )
        data = result.get("data") or []
        return data[0]["invoice"] if data else None

    def retrieve_balance_transaction(self, txn_id):
        return self._call(self.client.v1.balance_transactions.retrieve, txn_id)

    # -- refunds and disputes --------------------------------------------------------------

    def create_refund(self, params, idempotency_key):
        return self._call(
            self.client.v1.refunds.create, params=params, options=self._options(idempotency_key)
        )

    def retrieve_refund(self, refund_id):
        return self._call(self.client.v1.refunds.retrieve, refund_id)

    def list_refunds(self, charge_id):
        result = self._call(self.client.v1.refunds.list, params={"charge": charge_id, "limit": 100})
        return result.get("data") or []

    def retrieve_dispute(self, dispute_id):
        return self._call(self.client.v1.disputes.retrieve, dispute_id)

    # -- customers and subscriptions -------------------------------------------------------

    def retrieve_subscription(self, subscription_id):
        return self._call(self.client.v1.subscriptions.retrieve, subscription_id)

    def update_subscription(self, subscription_id, params, idempotency_key):
        return self._call(
            self.client.v1.subscriptions.update,
            subscription_id,
            params=params,
            options=self._options(idempotency_key),
        )

    def update_product(self, product_id, params, idempotency_key):
        return self._call(
            self.client.v1.products.update,
            product_id,
            params=params,
            options=self._options(idempotency_key),
        )

    def create_portal_session(self, customer_id, return_url, locale=None):
        params = {"customer": customer_id, "return_url": return_url}
        if locale:
            params["locale"] = locale
        return self._call(self.client.v1.billing_portal.sessions.create, params=params)

    # -- payouts and events ----------------------------------------------------------------

    def retrieve_payout(self, payout_id):
        return self._call(self.client.v1.payouts.retrieve, payout_id)

    def payout_transactions(self, payout_id):
        """Every balance transaction settled in an automatic payout, its own included."""
        return self._iterate(
            self.client.v1.balance_transactions.list, {"payout": payout_id, "limit": 100}
        )

    def payout_transaction_pages(self, payout_id, limit=100):
        """The same transactions as :meth:`payout_transactions`, a page (a list) at a time.

        Read as raw JSON: building the SDK's objects for 100 000 transactions costs
        seconds that the payout's sync has no use for.
        """
        params = {"payout": payout_id, "limit": limit}
        while True:
            body = self._call(self.client.raw_request, "get", "/v1/balance_transactions", **params)
            data = body.data.get("data") or []
            if data:
                yield data
            if not data or not body.data.get("has_more"):
                return
            params["starting_after"] = data[-1]["id"]

    def events_since(self, created_gte):
        """Events created at or after ``created_gte`` (Unix time), newest first, all pages."""
        return self._iterate(
            self.client.v1.events.list, {"created": {"gte": int(created_gte)}, "limit": 100}
        )

    def _iterate(self, method, params):
        try:
            page = method(params=params)
            for item in page.auto_paging_iter():
                yield _plain(item)
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as error:
            raise PaymentProviderUnavailable() from error
        except stripe.StripeError as error:
            log.error("Stripe refused a list request: %s", error)
            raise PaymentProviderError() from error

    # -- webhooks --------------------------------------------------------------------------

    def verify_signature(self, payload, header, tolerance=300):
        """Check ``Stripe-Signature`` against every configured secret (two while rotating)."""
        if not header or not self.webhook_secrets:
            raise WebhookSignatureError("missing signature", header, payload)
        last_error = None
        for secret in self.webhook_secrets:
            try:
                stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
            except WebhookSignatureError as error:
                last_error = error
            else:
                return True
        raise last_error


def _plain(obj):
    """A StripeObject as plain dicts and lists (the SDK's own conversion)."""
    if isinstance(obj, stripe.StripeObject):
        return obj.to_dict(for_json=True)
    return obj


def gateway():
    """The app's gateway, built on first use."""
    existing = current_app.extensions.get("stripe_gateway")
    if existing is None:
        existing = current_app.extensions["stripe_gateway"] = Gateway(current_app.config)
    return existing
