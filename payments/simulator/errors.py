"""Stripe-shaped API errors."""

DOCS = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """An API error rendered as Stripe's ``{"error": {...}}`` body.

    ``validation`` marks errors found while checking parameters: Stripe does not save
    those under an idempotency key, because the endpoint never started executing.
    """

    def __init__(
        self,
        status,
        message,
        *,
        type="invalid_request_error",
        code=None,
        param=None,
        decline_code=None,
        validation=False,
        doc_url=None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.validation = validation
        self.doc_url = doc_url or (DOCS + code.replace("_", "-") if code else None)

    def body(self, request_id=None):
        error = {"type": self.type, "message": self.message}
        for key in ("code", "param", "decline_code", "doc_url"):
            value = getattr(self, key)
            if value is not None:
                error[key] = value
        if request_id:
            error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}?t=0"
        return {"error": error}


def invalid(message, param=None, *, code=None, validation=True, status=400):
    """A 400 ``invalid_request_error`` about the request's parameters."""
    return StripeError(status, message, param=param, code=code, validation=validation)


def unknown_parameter(path):
    return invalid(f"Received unknown parameter: {path}", path, code="parameter_unknown")


def missing_parameter(path):
    return invalid(f"Missing required param: {path}.", path, code="parameter_missing")


def no_such(kind, id, param="id"):
    """Stripe's "No such <kind>: '<id>'": 404 for the URL's id, 400 for a body param."""
    return StripeError(
        404 if param == "id" else 400,
        f"No such {kind}: '{id}'",
        code="resource_missing",
        param=param,
        validation=param != "id",
    )


def state_error(message, param=None, code=None):
    """A 400 about the objects' state; saved under an idempotency key like any result."""
    return invalid(message, param, code=code, validation=False)
