"""The simulator's WSGI application: routing, auth, idempotency and error handling."""

import logging
import time

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import api, control, pages
from .config import API_VERSION, SimConfig
from .delivery import Delivery
from .encoding import decode, fingerprint, json_response
from .errors import StripeError
from .store import Clock, IdempotencyRecord, Store, new_id

log = logging.getLogger(__name__)

_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


class Simulator:
    """An in-memory Stripe: the REST API subset, hosted pages, webhooks and ``/_sim`` controls.

    Serve :attr:`wsgi_app` (see :mod:`.server`); tests drive it with the real SDK.
    """

    def __init__(self, config=None):
        self.config = config or SimConfig()
        self.clock = Clock()
        self.store = Store(self.clock, self.config)
        self.delivery = Delivery(self.store)
        self._api = Map(
            [
                Rule(rule, methods=[method], endpoint=f"{method} {rule}")
                for method, rule, _ in api.ROUTES
            ]
        )
        self._api_handlers = {f"{m} {rule}": h for m, rule, h in api.ROUTES}
        web = control.ROUTES + pages.ROUTES
        self._web = Map([Rule(rule, methods=methods, endpoint=rule) for methods, rule, _ in web])
        self._web_handlers = {rule: handler for _, rule, handler in web}
        self.templates = pages.environment()

    def reset(self):
        """Forget every object, event and key, and return the clock to real time."""
        self.delivery.reset()
        moved = self.clock.offset != 0
        with self.store.lock:
            self.store.reset()
            self.clock.offset = 0
        if moved and self.config.on_clock_change is not None:
            self.config.on_clock_change(0)

    def __call__(self, environ, start_response):
        return self.wsgi_app(environ, start_response)

    def wsgi_app(self, environ, start_response):
        request = Request(environ)
        if request.path.startswith("/v1/") or request.path == "/v1":
            response = self._api_request(request)
        else:
            response = self._web_request(request)
        return response(environ, start_response)

    def act(self, action, *, before_delivery=None):
        """Run ``action(ctx)`` under the lock as an automatic action (no request id).

        Its events are delivered synchronously, before the caller answers.
        """
        ctx = self.store.ctx()
        try:
            with self.store.lock:
                ctx.now = self.clock.now()
                return action(ctx)
        finally:
            if before_delivery is not None:
                before_delivery()
            self.delivery.dispatch(ctx.events, sync=True)

    # The public API

    def _api_request(self, request):
        request_id = new_id("req_", 14)
        headers = {
            "Request-Id": request_id,
            "Stripe-Version": request.headers.get("Stripe-Version", API_VERSION),
        }
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        if key:
            headers["Idempotency-Key"] = key
        try:
            self._authenticate(request)
            handler, args = self._match_api(request)
            source = request.form if request.method == "POST" else request.args
            pairs = list(source.items(multi=True))
            params = decode(pairs)
        except StripeError as e:
            return json_response(e.status, e.body(request_id), headers)
        if status := self.store.take_failure():  # ``POST /_sim/fail``: before any endpoint
            error = StripeError(status, "An unknown error occurred.", type="api_error")
            return json_response(status, error.body(request_id), headers)
        ctx = self.store.ctx(request_id, key or None)
        if not key:
            if hang := self.store.take_hang():
                time.sleep(hang)
            status, body, _ = self._execute(handler, ctx, params, args)
            return json_response(status, body, headers)
        return self._idempotent(request, key, pairs, handler, ctx, params, args, headers)

    def _idempotent(self, request, key, pairs, handler, ctx, params, args, headers):
        store = self.store
        mark = fingerprint(request.method, request.path, pairs)
        with store.lock:
            store.prune_idempotency()
            record = store.idempotency.get(key)
            if record is None:
                record = IdempotencyRecord(mark, self.clock.now(), ctx.request_id)
                store.idempotency[key] = record
                conflict = None
            else:
                conflict = self._conflict(record, mark, key)
        if conflict is not None:
            return json_response(conflict.status, conflict.body(ctx.request_id), headers)
        if record.request_id != ctx.request_id:
            headers.update({"Idempotent-Replayed": "true", "Original-Request": record.request_id})
            return Response(
                record.body, status=record.status, headers=headers, content_type="application/json"
            )
        # A slow Stripe: the key is taken while we stall, so a retry sees 409.
        if hang := store.take_hang():
            time.sleep(hang)
        status, body, validation = self._execute(handler, ctx, params, args)
        response = json_response(status, body, headers)
        with store.lock:
            if store.idempotency.get(key) is record:
                if validation:
                    del store.idempotency[key]
                else:
                    record.done, record.status = True, status
                    record.body = response.get_data()
            store.settled.notify_all()
        return response

    @staticmethod
    def _conflict(record, mark, key):
        if record.fingerprint[:2] != mark[:2]:
            return StripeError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they "
                f"were first used for ('{record.fingerprint[1]}' vs '{mark[1]}'). Try using "
                f"a key other than '{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
        if record.fingerprint != mark:
            return StripeError(
                400,
                "Keys for idempotent requests can only be used with the same parameters "
                f"they were first used with. Try using a key other than '{key}' if you "
                "meant to execute a different request.",
                type="idempotency_error",
            )
        if not record.done:
            return StripeError(
                409,
                "There is currently another in-progress request using this Idempotent Key "
                "(that probably means you submitted twice, and the other request is still "
                f"going through): {key}. Please try again later.",
                type="idempotency_error",
                code="idempotency_key_in_use",
            )
        return None

    def _execute(self, handler, ctx, params, args):
        """Run an API handler: ``(status, body, was_a_validation_error)``."""
        try:
            with self.store.lock:
                ctx.now = self.clock.now()
                try:
                    return 200, handler(self.store, ctx, params, **args), False
                except StripeError as e:
                    return e.status, e.body(ctx.request_id), e.validation
                except Exception:
                    log.exception("Stripe simulator failed on %s", handler.__name__)
                    error = StripeError(
                        500, "An unknown error occurred in the simulator.", type="api_error"
                    )
                    return 500, error.body(ctx.request_id), False
        finally:
            self.delivery.dispatch(ctx.events, sync=False)

    def _authenticate(self, request):
        auth = request.headers.get("Authorization", "")
        key = auth[7:].strip() if auth.startswith("Bearer ") else None
        if key is None and request.authorization and request.authorization.type == "basic":
            key = request.authorization.username
        if not key:
            raise StripeError(401, _NO_KEY)
        if not key.startswith(self.config.api_key_prefix):
            shown = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:]
            raise StripeError(401, f"Invalid API Key provided: {shown}")

    def _match_api(self, request):
        try:
            endpoint, args = self._api.bind_to_environ(request.environ).match()
        except HTTPException:
            raise StripeError(
                404,
                f"Unrecognized request URL ({request.method}: {request.path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            ) from None
        return self._api_handlers[endpoint], args

    # Hosted pages and the control API

    def _web_request(self, request):
        try:
            endpoint, args = self._web.bind_to_environ(request.environ).match()
        except HTTPException as e:
            return e.get_response(request.environ)
        return self._web_handlers[endpoint](self, request, **args)
