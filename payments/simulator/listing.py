"""List objects: filters, newest-first order and cursor pagination."""

from .errors import invalid, no_such
from .expand import render
from .objects import list_object
from .params import in_range


def paginate(store, objs, p, url, *, kind, newest_first=True):
    """One page of ``objs`` as a list object, per ``limit``/``starting_after``/``ending_before``.

    Pages are newest first in both directions, as the SDK's ``auto_paging_iter`` expects
    (backwards it reverses each page itself). Sub-lists such as line items keep their
    insertion order instead (``newest_first=False``).
    """
    if p.get("starting_after") and p.get("ending_before"):
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            "ending_before",
        )
    objs = [o for o in objs if in_range(o.get("created", 0), p.get("created"))]
    key = store.sort_key
    objs.sort(key=key, reverse=newest_first)
    limit = p.get("limit", 10)

    def later(a, b):
        return key(a) < key(b) if newest_first else key(a) > key(b)

    cursor_id = p.get("starting_after") or p.get("ending_before")
    if cursor_id:
        param = "starting_after" if p.get("starting_after") else "ending_before"
        cursor = store.get(cursor_id, kind)
        if cursor is None:
            raise no_such(kind, cursor_id, param=param)
        if param == "starting_after":
            after = [o for o in objs if later(o, cursor)]
            page, has_more = after[:limit], len(after) > limit
        else:
            before = [o for o in objs if later(cursor, o)]
            page, has_more = before[-limit:], len(before) > limit
    else:
        page, has_more = objs[:limit], len(objs) > limit
    return render(store, list_object(page, url, has_more), p.get("expand"))


def paginate_indexed(store, ids, positions, p, url, *, kind):
    """One page of an indexed list (``ids`` newest first, ``positions`` by id): a slice.

    The same answer as :func:`paginate` for a list kept in order as it grows, without
    filtering and sorting every object for each page.
    """
    if p.get("starting_after") and p.get("ending_before"):
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            "ending_before",
        )
    limit = p.get("limit", 10)
    cursor_id = p.get("starting_after") or p.get("ending_before")
    if cursor_id:
        param = "starting_after" if p.get("starting_after") else "ending_before"
        if store.get(cursor_id, kind) is None:
            raise no_such(kind, cursor_id, param=param)
        where = positions.get(cursor_id)
        if where is None:
            page, has_more = [], False
        elif param == "starting_after":
            page, has_more = ids[where + 1 : where + 1 + limit], len(ids) > where + 1 + limit
        else:
            start = max(0, where - limit)
            page, has_more = ids[start:where], start > 0
    else:
        page, has_more = ids[:limit], len(ids) > limit
    objs = [store.objects[i] for i in page]
    return render(store, list_object(objs, url, has_more), p.get("expand"))
