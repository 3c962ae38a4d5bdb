"""Events: immutable snapshots of objects, with previous attributes on updates."""

from . import objects
from .config import API_VERSION
from .expand import render

#: Fields kept when an event is rendered in another API version: a pointer, not a copy.
_STALE_FIELDS = ("id", "object", "created", "livemode", "metadata")


def snapshot(store, obj):
    """The object as an event (or ``previous_attributes``) would show it now."""
    return render(store, obj)


def emit(store, ctx, type, obj, previous=None):
    """Record an event about ``obj`` and queue it for delivery after the call."""
    mode, api_version, late_by = store.plan.take()
    data = {"object": snapshot(store, obj)}
    if api_version != API_VERSION:
        # Another version's shape is not ours to guess; keep only what every version
        # shares, so a consumer has to re-retrieve the object.
        data["object"] = {k: data["object"][k] for k in _STALE_FIELDS if k in data["object"]}
    elif previous is not None:
        data["previous_attributes"] = previous
    # A "late" event is one Stripe created a while ago (an hour unless asked) and delivers
    # only now, as while it retries an endpoint that was down (for up to three days).
    created = ctx.now - late_by if mode == "late" else ctx.now
    event = objects.event(
        created,
        type,
        data,
        api_version=api_version,
        request_id=ctx.request_id,
        idempotency_key=ctx.idempotency_key,
        pending=1 if store.config.webhook_url else 0,
    )
    store.add(event, mode=mode, attempts=[], delivered=False)
    ctx.events.append(event["id"])
    return event


def emit_update(store, ctx, type, obj, before):
    """Emit ``type`` with the changed fields' old values, if anything changed."""
    previous = diff(before, snapshot(store, obj))
    if previous:
        return emit(store, ctx, type, obj, previous)
    return None


def diff(old, new):
    """Old values of the keys that changed; plain hashes are compared key by key."""
    changed = {}
    for key in old.keys() | new.keys():
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if _is_hash(before) and _is_hash(after):
            changed[key] = diff(before, after)
        else:
            changed[key] = before
    return changed


def _is_hash(value):
    return isinstance(value, dict) and "object" not in value
