"""Signing and delivering events to the webhook endpoint, in the modes tests ask for."""

import hashlib
import hmac
import json
import queue
import threading
import time

import requests

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def sign(payload, secrets, timestamp):
    """The ``Stripe-Signature`` header: ``t=...`` then one ``v1=...`` per secret."""
    parts = [f"t={timestamp}"]
    for secret in secrets:
        mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.{payload}".encode(), hashlib.sha256)
        parts.append(f"v1={mac.hexdigest()}")
    return ",".join(parts)


class Delivery:
    """Sends events now (control calls, hosted pages) or from a background queue (API).

    API calls deliver in the background because the app may call Stripe while holding a
    database lock that its own webhook handler needs. :meth:`flush` waits for the queue.
    """

    def __init__(self, store):
        self.store = store
        self.queue = queue.Queue()
        self._thread = None
        self._start_lock = threading.Lock()
        self._generation = 0

    def dispatch(self, event_ids, *, sync):
        """Deliver the events one call emitted, honouring the delivery mode of each."""
        batch = self._plan(event_ids)
        if not batch:
            return
        if sync:
            self._send_all(batch)
            return
        self._ensure_worker()
        self.queue.put((self._generation, batch))

    def flush(self):
        """Wait until every queued delivery has been attempted."""
        self.queue.join()

    def reset(self):
        """Drop queued deliveries and wait for the one in progress."""
        self._generation += 1
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
            self.queue.task_done()
        self.queue.join()

    def deliver(self, event_id):
        """One attempt to deliver an event; returns the HTTP status or ``None``."""
        store = self.store
        config = store.config
        with store.lock:
            event = store.get(event_id, "event")
            if event is None or config.webhook_url is None:
                return None
            payload = json.dumps(event, indent=2)
            target, secrets = config.webhook_url, list(config.webhook_secrets)
        # The signature's timestamp is real time: the SDK checks it against its own clock.
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": sign(payload, secrets, int(time.time())),
        }
        status, error = None, None
        try:
            if callable(target):
                status = int(target(payload.encode("utf-8"), headers))
            else:
                status = requests.post(
                    target,
                    data=payload.encode("utf-8"),
                    headers=headers,
                    timeout=config.webhook_timeout,
                ).status_code
        except Exception as exc:  # an unreachable endpoint is an outcome, not a crash
            error = f"{type(exc).__name__}: {exc}"
        with store.lock:
            extra = store.extra.get(event_id)
            if extra is not None:
                extra["attempts"].append({"at": int(time.time()), "status": status, "error": error})
                if status is not None and 200 <= status < 300:
                    extra["delivered"] = True
                    event["pending_webhooks"] = 0
        return status

    def pending(self):
        """Events not yet delivered (dropped ones too), oldest first."""
        with self.store.lock:
            return [e["id"] for e in self.store.all("event", lambda o, x: not x["delivered"])]

    def _plan(self, event_ids):
        """Apply the modes: drop some, reverse a call's events, send some twice."""
        with self.store.lock:
            modes = {id: self.store.extra[id]["mode"] for id in event_ids}
        kept = [id for id in event_ids if modes[id] != "drop"]
        reversed_ids = iter(reversed([id for id in kept if modes[id] == "reverse"]))
        ordered = [next(reversed_ids) if modes[id] == "reverse" else id for id in kept]
        return ordered + [id for id in ordered if modes[id] == "twice"]

    def _send_all(self, batch):
        for event_id in batch:
            self.deliver(event_id)

    def _ensure_worker(self):
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, name="stripe-sim-webhooks", daemon=True
                )
                self._thread.start()

    def _work(self):
        while True:
            generation, batch = self.queue.get()
            try:
                if generation == self._generation:
                    self._send_all(batch)
            finally:
                self.queue.task_done()
