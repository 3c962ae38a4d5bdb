"""Parameter schemas: unknown, missing and malformed params answer like Stripe."""

from .encoding import path_of
from .errors import invalid, missing_parameter, unknown_parameter

#: Posting an empty ``metadata`` clears every key.
CLEAR = object()


class Spec:
    """Checks and converts one decoded value; ``path`` is a list of key parts."""

    def __call__(self, value, path):
        raise NotImplementedError


class Str(Spec):
    def __init__(self, max_length=5000):
        self.max_length = max_length

    def __call__(self, value, path):
        if not isinstance(value, str):
            raise invalid(f"Invalid string: {_show(value)}", path_of(path))
        if len(value) > self.max_length:
            raise invalid(
                f"Invalid string: must be at most {self.max_length} characters",
                path_of(path),
            )
        return value


class Int(Spec):
    def __init__(self, min=None, max=None):
        self.min, self.max = min, max

    def __call__(self, value, path):
        try:
            number = int(value) if isinstance(value, str) else None
        except ValueError:
            number = None
        if number is None:
            raise invalid(
                f"Invalid integer: {_show(value)}",
                path_of(path),
                code="parameter_invalid_integer",
            )
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise invalid(
                f"Invalid {path[-1]}: must be between {self.min} and {self.max}"
                if self.max is not None
                else f"Invalid {path[-1]}: must be at least {self.min}",
                path_of(path),
                code="parameter_invalid_integer",
            )
        return number


class Bool(Spec):
    def __call__(self, value, path):
        if value in ("true", "false"):
            return value == "true"
        raise invalid(f"Invalid boolean: {_show(value)}", path_of(path))


class Enum(Spec):
    def __init__(self, *choices):
        self.choices = choices

    def __call__(self, value, path):
        if value not in self.choices:
            *head, last = self.choices
            listed = ", ".join(head) + f", or {last}" if head else last
            raise invalid(f"Invalid {path[-1]}: must be one of {listed}", path_of(path))
        return value


class Anything(Spec):
    """A param Stripe accepts but the simulator ignores."""

    def __call__(self, value, path):
        return value


class Metadata(Spec):
    """Key/value strings; an empty value unsets a key, an empty ``metadata`` all keys."""

    def __call__(self, value, path):
        if value == "":
            return CLEAR
        if not isinstance(value, dict):
            raise invalid("Invalid hash", path_of(path))
        if len(value) > 50:
            raise invalid("Metadata can have at most 50 keys", path_of(path))
        result = {}
        for key, item in value.items():
            if not isinstance(item, str):
                raise invalid("Metadata values must be strings", path_of([*path, key]))
            if len(key) > 40 or len(item) > 500:
                raise invalid(
                    "Metadata keys are limited to 40 and values to 500 characters",
                    path_of([*path, key]),
                )
            result[key] = item if item != "" else None
        return result


class Obj(Spec):
    def __init__(self, fields, required=()):
        self.fields = fields
        self.required = required

    def __call__(self, value, path):
        if not isinstance(value, dict):
            raise invalid("Invalid object", path_of(path))
        result = {}
        for key, item in value.items():
            spec = self.fields.get(key)
            if spec is None:
                raise unknown_parameter(path_of([*path, key]))
            if item == "" and not isinstance(spec, (Metadata, List)):
                continue  # Stripe reads an empty value as "unset"
            result[key] = spec(item, [*path, key])
        for key in self.required:
            if result.get(key) is None:
                raise missing_parameter(path_of([*path, key]))
        return result


class List(Spec):
    def __init__(self, item, max_items=None):
        self.item = item
        self.max_items = max_items

    def __call__(self, value, path):
        if value == "":
            return []
        if not isinstance(value, dict) or not all(k.isdigit() for k in value):
            raise invalid("Invalid array", path_of(path))
        keys = sorted(value, key=int)
        if self.max_items is not None and len(keys) > self.max_items:
            raise invalid(
                f"You may only pass up to {self.max_items} elements in {path_of(path)}",
                path_of(path),
            )
        return [self.item(value[k], [*path, int(k)]) for k in keys]


class Range(Spec):
    """A timestamp filter: an integer or a ``gt``/``gte``/``lt``/``lte`` hash."""

    _hash = Obj({op: Int() for op in ("gt", "gte", "lt", "lte")})

    def __call__(self, value, path):
        if isinstance(value, dict):
            return self._hash(value, path)
        return {"eq": Int()(value, path)}


def in_range(number, bounds):
    """Whether ``number`` passes a :class:`Range` filter (``None`` passes all)."""
    if bounds is None:
        return True
    checks = {
        "eq": lambda b: number == b,
        "gt": lambda b: number > b,
        "gte": lambda b: number >= b,
        "lt": lambda b: number < b,
        "lte": lambda b: number <= b,
    }
    return all(checks[op](bound) for op, bound in bounds.items())


def clean_metadata(metadata):
    """Metadata for a new object: keys posted empty (unset markers) are left out."""
    if not isinstance(metadata, dict):
        return {}
    return {k: v for k, v in metadata.items() if v is not None}


def merge_metadata(current, update):
    """Apply a :class:`Metadata` update to a metadata dict."""
    if update is None:
        return dict(current)
    if update is CLEAR:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


EXPAND = List(Str(), max_items=30)
LIST_PARAMS = {
    "limit": Int(1, 100),
    "starting_after": Str(),
    "ending_before": Str(),
    "created": Range(),
    "expand": EXPAND,
}


def schema(fields=None, required=(), *, listing=False):
    """A top-level schema; every endpoint accepts ``expand``."""
    base = dict(LIST_PARAMS) if listing else {"expand": EXPAND}
    return Obj({**base, **(fields or {})}, required)


def validate(params, spec):
    return spec(params, [])


def _show(value):
    return value if isinstance(value, str) else "{...}"
