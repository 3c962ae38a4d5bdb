"""Versioned caches: what a page shows, kept until a change it depends on is committed.

Data that pages show falls into namespaces (``"settings"``, ``"funds"``, ``"donations"``).
Each namespace has a version number, shared by every process through Redis (one ``MGET``
reads them all); a committed change to a watched model bumps its namespace's version.
A cached entry (a page, a fragment of one, a computed value) is kept in the process with
the versions it was built from, and used only while those are still the current
versions. Each process reads the versions again at most every
``CACHE_VERSION_CHECK_SECONDS`` (one second in production: a change made by another
process or machine shows there within a second; 0 asks Redis on every request); a
change made by the process itself shows at once. Nothing here is a copy of data
another process must see.

Versions are bumped after the commit, never before: a process that reads the old version
and renders data committed since stores it under a version that is already stale, which
is harmless; the reverse order could keep old data under the new version.

Pages are cached only for visitors who are not signed in and have no message waiting;
the visitor's own CSRF token is put into the cached page on the way out, so one visitor's
token or name is never served to another. When Redis does not answer, pages are
rendered as if nothing were cached, and no error reaches the visitor.
"""

import copy
import hashlib
import logging
import secrets
import threading
import time
from collections import OrderedDict
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import current_app, g, has_request_context, request, session
from flask.globals import request_ctx
from markupsafe import Markup
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: Entries kept per process, and how long at most: a safety net for changes made outside
#: the ORM (a migration, SQL typed by hand), which bump no version.
MAX_ENTRIES = 2048
MAX_AGE = 300  # seconds
#: After Redis fails, how long to render without the cache before asking it again.
RETRY_AFTER = 5  # seconds

#: Stands for the visitor's CSRF token in cached pages; random so no input can forge it.
CSRF_SLOT = "csrf-slot-" + secrets.token_hex(16)

_watched = []  # (model, namespace, columns, when)
_known = set()


# -- what a change bumps -----------------------------------------------------------------


def watch(model, namespace, *, columns=None, when=None):
    """Bump ``namespace`` when a row of ``model`` is committed new, changed or deleted.

    ``columns`` limits the changes that count to those attributes; ``when(row)`` decides
    whether a new row counts (e.g. only a gift that is already paid changes a total).
    Watching the same model for the same namespace twice keeps the first.
    """
    if any(m is model and n == namespace for m, n, _, _ in _watched):
        return
    _watched.append((model, namespace, tuple(columns or ()), when))
    _known.add(namespace)


def changed(namespace, session=None):
    """Note that ``namespace`` changes with the current transaction (bumped on commit)."""
    from core.db import db

    target = session if session is not None else db.session()
    target.info.setdefault("cache_changed", set()).add(namespace)


def _counts(row, columns, when, is_new):
    if is_new:
        return when is None or when(row)
    if not columns:
        return True
    state = sa.inspect(row)
    return any(state.attrs[name].history.has_changes() for name in columns)


@sa.event.listens_for(Session, "before_flush")
def _note_changes(session, flush_context, instances):
    if not _watched:
        return
    for rows, is_new, is_deleted in (
        (session.new, True, False),
        (session.dirty, False, False),
        (session.deleted, False, True),
    ):
        for row in rows:
            for model, namespace, columns, when in _watched:
                if isinstance(row, model) and (is_deleted or _counts(row, columns, when, is_new)):
                    changed(namespace, session)


@sa.event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state):
    """``insert``, ``update`` and ``delete`` statements on a model skip the flush; note them."""
    if not (state.is_insert or state.is_update or state.is_delete) or not _watched:
        return
    mapper = state.bind_mapper
    if mapper is None:
        return
    for model, namespace, _columns, _when in _watched:
        if issubclass(mapper.class_, model):
            changed(namespace, state.session)


@sa.event.listens_for(Session, "after_commit")
def _bump_committed(session):
    names = session.info.pop("cache_changed", None)
    if names:
        _bump(names)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session, previous_transaction):
    # Only the whole transaction: a savepoint rolled back leaves what came before it (its
    # own changes are then bumped for nothing, which is harmless).
    if previous_transaction.parent is None:
        session.info.pop("cache_changed", None)


def _pending(names):
    """Namespaces changed by this session but not yet committed."""
    from core.db import db

    if not db.session.registry.has():
        return False
    changed_here = db.session().info.get("cache_changed")
    return bool(changed_here and changed_here.intersection(names))


# -- where versions live ---------------------------------------------------------------------


class RedisVersions:
    """Versions in Redis, shared by every process and machine."""

    def __init__(self, url, prefix):
        import redis

        self.client = redis.Redis.from_url(
            url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30
        )
        self.prefix = prefix
        self.down_until = 0.0
        self.memo = None  # (when read, versions): shared by this process's requests

    def _key(self, name):
        return f"{self.prefix}:v:{name}"

    def read(self, names, max_age=0.0):
        """The versions of ``names``; read again from Redis once ``max_age`` seconds old."""
        memo = self.memo
        if (
            memo is not None
            and time.monotonic() - memo[0] < max_age
            and memo[1].keys() >= set(names)
        ):
            return {n: memo[1][n] for n in names}
        if time.monotonic() < self.down_until:
            return None
        try:
            values = self.client.mget([self._key(n) for n in names])
        except Exception as error:  # noqa: BLE001 (any Redis failure: render uncached)
            self._failed(error)
            return None
        found = {n: int(v or 0) for n, v in zip(names, values, strict=True)}
        self.memo = (time.monotonic(), found)
        return found

    def bump(self, names):
        self.memo = None  # this process sees its own change at once
        try:
            pipe = self.client.pipeline(transaction=False)
            for name in names:
                pipe.incr(self._key(name))
            pipe.execute()
        except Exception as error:  # noqa: BLE001
            # The change is committed but no process can be told; stop serving from the
            # cache until Redis is back, after which entries also age out (MAX_AGE).
            self._failed(error)
            _entries().clear()

    def _failed(self, error):
        log.warning("Page cache: Redis unavailable (%s); rendering without the cache", error)
        self.down_until = time.monotonic() + RETRY_AFTER


class LocalVersions:
    """Versions in this process only: for development and tests without Redis."""

    def __init__(self):
        self.values = {}
        self.lock = threading.Lock()

    def read(self, names, max_age=0.0):
        with self.lock:
            return {n: self.values.get(n, 0) for n in names}

    def bump(self, names):
        with self.lock:
            for name in names:
                self.values[name] = self.values.get(name, 0) + 1


def _store():
    return current_app.extensions["versioned_cache"]


def _entries():
    return current_app.extensions["versioned_cache_entries"]


def _bump(names):
    from flask import has_app_context

    if not has_app_context() or "versioned_cache" not in current_app.extensions:
        return
    _store().bump(sorted(names))
    if has_request_context():
        g.pop("_cache_versions", None)  # this request sees its own change


def versions(names):
    """The current versions of ``names`` (a tuple), or None when they cannot be known.

    In a request they are read once, together with every watched namespace.
    """
    names = tuple(names)
    max_age = current_app.config.get("CACHE_VERSION_CHECK_SECONDS", 0)
    if not has_request_context():
        found = _store().read(names, max_age)
    else:
        memo = g.get("_cache_versions")
        if memo is None or not set(names) <= memo.keys():
            wanted = sorted(_known.union(names, memo or ()))
            memo = _store().read(wanted, max_age)
            if memo is None:
                return None
            g._cache_versions = memo
        found = memo
    if found is None:
        return None
    return tuple(found[n] for n in names)


# -- entries kept in the process ---------------------------------------------------------------


class _Entries:
    def __init__(self):
        self.items = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key, stamp):
        with self.lock:
            entry = self.items.get(key)
            if entry is None:
                return None
            kept_stamp, born, value = entry
            if kept_stamp != stamp or time.monotonic() - born > MAX_AGE:
                del self.items[key]
                return None
            self.items.move_to_end(key)
            return value

    def put(self, key, stamp, value):
        with self.lock:
            self.items[key] = (stamp, time.monotonic(), value)
            self.items.move_to_end(key)
            while len(self.items) > MAX_ENTRIES:
                self.items.popitem(last=False)

    def clear(self):
        with self.lock:
            self.items.clear()


def clear_local():
    """Forget every entry this app keeps in this process (tests do, after emptying tables)."""
    _entries().clear()


def _usable(depends):
    return (
        current_app.extensions.get("versioned_cache") is not None
        and current_app.config.get("CACHE_ENABLED", True)
        and not _pending(depends)
    )


def value(key, depends, compute, *, fresh_copy=True):
    """``compute()``, kept until a namespace in ``depends`` changes; a fresh copy each time.

    Outside a request (the worker, the CLI) it is computed every time. With
    ``fresh_copy=False`` the kept object itself is returned: the caller must not change it.
    """
    depends = tuple(depends)
    if not has_request_context() or not _usable(depends):
        return compute()
    stamp = versions(depends)
    if stamp is None:
        return compute()
    full_key = ("value", key)
    found = _entries().get(full_key, (depends, stamp))
    if found is None:
        found = compute()
        _entries().put(full_key, (depends, stamp), found)
    return copy.deepcopy(found) if fresh_copy else found


def fragment(key, depends, render):
    """A piece of HTML, rendered by ``render()`` and kept until ``depends`` change.

    ``key`` must name everything the HTML varies with (the language, the arguments).
    """
    depends = tuple(depends)
    if not has_request_context() or not _usable(depends):
        return Markup(render())
    stamp = versions(depends)
    if stamp is None:
        return Markup(render())
    full_key = ("fragment", key)
    html = _entries().get(full_key, (depends, stamp))
    if html is None:
        html = _csrf_to_slot(str(render()))
        _entries().put(full_key, (depends, stamp), html)
    return Markup(_slot_to_csrf(html))


# -- whole pages ---------------------------------------------------------------------------


def page(depends, *, vary=None):
    """Mark a view whose GET answer is kept for visitors who are not signed in.

    ``depends`` is a list of namespaces, or a function that returns one (for pages
    whose parts are registered by features, or that are personal in some requests:
    it then returns None). ``vary()`` names what else the page shows that no change
    bumps, such as today's date where a page shows dates or what is open: each value
    is kept apart. Put it closest to the function.
    """

    def mark(view):
        view.page_cache = depends
        view.page_cache_vary = vary
        return view

    return mark


def _page_depends():
    if request.method not in ("GET", "HEAD") or "Authorization" in request.headers:
        return None
    view = current_app.view_functions.get(request.endpoint)
    depends = getattr(view, "page_cache", None)
    if depends is None:
        return None
    if "_flashes" in session:
        return None
    from flask_login import current_user

    if current_user.is_authenticated:
        return None
    if callable(depends):
        depends = depends()
        if depends is None:  # a part of the page is personal
            return None
    depends = tuple(depends)
    return depends if _usable(depends) else None


def _page_key():
    from core.i18n import current_language

    args = urlencode(sorted(request.args.items(multi=True)))
    if len(args) > 200:  # many distinct long addresses must not crowd out the rest
        args = hashlib.sha256(args.encode()).hexdigest()
    view = current_app.view_functions.get(request.endpoint)
    vary = getattr(view, "page_cache_vary", None)
    return (
        "page",
        request.endpoint,
        request.path,
        args,
        current_language(),
        None if vary is None else vary(),
    )


def _serve_cached_page():
    depends = _page_depends()
    if depends is None:
        return None
    stamp = versions(depends)
    if stamp is None:
        return None
    g._page_cache = (_page_key(), (depends, stamp))
    found = _entries().get(*g._page_cache)
    if found is None:
        return None
    body, content_type = found
    response = current_app.response_class(_slot_to_csrf(body), status=200)
    response.headers["Content-Type"] = content_type
    g._page_cache = None  # served: nothing to store
    return response


def _keep_page(response):
    pending = g.pop("_page_cache", None)
    if (
        pending is None
        or response.status_code != 200
        or response.direct_passthrough
        or response.is_streamed
        or getattr(request_ctx, "flashes", None)  # the page showed a message: it is personal
        or "Cache-Control" in response.headers
    ):
        return response
    body = response.get_data(as_text=True)
    _entries().put(*pending, (_csrf_to_slot(body), response.headers["Content-Type"]))
    return response


def _csrf_to_slot(html):
    token = g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    return html.replace(token, CSRF_SLOT) if token else html


def _slot_to_csrf(html):
    if CSRF_SLOT not in html:
        return html
    from flask_wtf.csrf import generate_csrf

    return html.replace(CSRF_SLOT, generate_csrf())


# -- set-up --------------------------------------------------------------------------------


def key_prefix(config):
    """Keys of one database's data: two apps on two databases never share versions."""
    database = sa.engine.make_url(config["SQLALCHEMY_DATABASE_URI"]).render_as_string(
        hide_password=True
    )
    digest = hashlib.sha256(database.encode()).hexdigest()[:12]
    return f"{config['RATELIMIT_KEY_PREFIX']}:cache:{digest}"


def init_app(app):
    url = app.config.get("REDIS_URL") or "memory://"
    if url.startswith("memory://"):
        app.extensions["versioned_cache"] = LocalVersions()
    else:
        app.extensions["versioned_cache"] = RedisVersions(url, key_prefix(app.config))
    app.extensions["versioned_cache_entries"] = _Entries()
    app.before_request(_serve_cached_page)
    app.after_request(_keep_page)
