"""The simulator's in-memory state: objects, ids, the clock, and bookkeeping."""

import secrets
import string
import threading
import time
from dataclasses import dataclass, field

from .config import API_VERSION
from .errors import no_such

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix, length=24):
    """A Stripe-looking id such as ``ch_3Pq...``."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


class Clock:
    """Real time plus an offset that tests move forward."""

    def __init__(self):
        self.offset = 0

    def now(self):
        return int(time.time()) + self.offset


@dataclass
class Ctx:
    """What one triggering call (API request, control call, page) carries along.

    ``now`` is the moment objects and events are stamped with; renewals move it to each
    period boundary. ``events`` collects the ids emitted, to deliver afterwards.
    """

    now: int
    request_id: str | None = None
    idempotency_key: str | None = None
    events: list = field(default_factory=list)


#: A "late" event was created an hour before it is delivered, unless asked otherwise.
LATE_BY = 3600


@dataclass
class DeliveryPlan:
    """How the next events are delivered (``POST /_sim/delivery``)."""

    mode: str = "normal"
    remaining: int | None = None
    api_version: str | None = None
    #: How long before its delivery a "late" event was created, in seconds.
    late_by: int = LATE_BY

    def take(self):
        """The mode, API version and lateness for one new event, counting it down."""
        taken = (self.mode, self.api_version or API_VERSION, self.late_by)
        if self.remaining is not None:
            self.remaining -= 1
            if self.remaining <= 0:
                self.mode, self.remaining, self.api_version = "normal", None, None
                self.late_by = LATE_BY
        return taken


@dataclass
class IdempotencyRecord:
    fingerprint: tuple
    created: int
    request_id: str
    done: bool = False
    status: int = 0
    body: bytes = b""


class Store:
    """Every object by id, in insertion order, guarded by one re-entrant lock.

    Objects are kept as the JSON dicts the API returns, with ids in expandable fields.
    What Stripe would not show (a subscription's test card, which payout settled a
    transaction) lives in :attr:`extra`.
    """

    def __init__(self, clock, config):
        self.clock = clock
        self.config = config
        self.lock = threading.RLock()
        # Notified whenever an idempotent request finishes (``/_sim/wait-idle``).
        self.settled = threading.Condition(self.lock)
        self.reset()

    def reset(self):
        with self.lock:
            self.objects = {}
            self.order = {}
            self.extra = {}
            # Per automatic payout, its transactions newest first and where each one is, so
            # that a page of ``?payout=`` is a slice, not a sort of every transaction.
            self.payout_txns = {}
            self.payout_positions = {}
            self.idempotency = {}
            self.plan = DeliveryPlan()
            self.hang = {"seconds": 0.0, "count": 0}
            self.failing = {"status": 500, "count": 0}
            self._counter = 0

    def add(self, obj, **extra):
        """Store a new object; keyword arguments become its private extra data."""
        with self.lock:
            self._counter += 1
            self.objects[obj["id"]] = obj
            self.order[obj["id"]] = self._counter
            self.extra[obj["id"]] = extra
            return obj

    def get(self, id, kind=None):
        """The object with ``id`` (of ``object`` type ``kind``), or ``None``."""
        obj = self.objects.get(id) if isinstance(id, str) else None
        if obj is None or (kind is not None and obj["object"] != kind):
            return None
        return obj

    def require(self, id, kind, param="id"):
        """The object, or Stripe's "No such <kind>" error naming ``param``."""
        obj = self.get(id, kind)
        if obj is None:
            raise no_such(kind, id, param)
        return obj

    def all(self, kind, where=None):
        """Objects of one type, oldest first; ``where`` filters on (obj, extra)."""
        return [
            obj
            for obj in self.objects.values()
            if obj["object"] == kind and (where is None or where(obj, self.extra[obj["id"]]))
        ]

    def index_payout(self, payout_id, txns):
        """Remember the transactions a payout settled, in list order (newest first)."""
        ordered = sorted(txns, key=self.sort_key, reverse=True)
        self.payout_txns[payout_id] = [t["id"] for t in ordered]
        self.payout_positions[payout_id] = {t["id"]: n for n, t in enumerate(ordered)}

    def sort_key(self, obj):
        """Lists are newest first: by ``created``, then by insertion."""
        return (obj.get("created") or 0, self.order[obj["id"]])

    def ctx(self, request_id=None, idempotency_key=None):
        return Ctx(self.clock.now(), request_id, idempotency_key)

    def prune_idempotency(self):
        """Forget keys older than 24 hours of simulated time."""
        horizon = self.clock.now() - 24 * 3600
        for key in [k for k, r in self.idempotency.items() if r.created < horizon and r.done]:
            del self.idempotency[key]

    def take_hang(self):
        """Seconds the next API request should stall (``POST /_sim/hang``)."""
        with self.lock:
            if self.hang["count"] <= 0:
                return 0.0
            self.hang["count"] -= 1
            return self.hang["seconds"]

    def take_failure(self):
        """The status the next API request should fail with (``POST /_sim/fail``), or 0."""
        with self.lock:
            if self.failing["count"] <= 0:
                return 0
            self.failing["count"] -= 1
            return self.failing["status"]
