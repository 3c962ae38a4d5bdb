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
