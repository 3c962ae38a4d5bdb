"""What the public Get Involved parts show, in the namespaces of the page cache.

A campaign's texts, dates or confirmed-signature count change ``campaigns`` (confirming
a signature raises the count with an ``UPDATE`` of the campaign, which bumps it too, so
the count on a kept page is never more than the version check's second behind). A
content page or its links change ``pages``; a comment that is approved, or that leaves
the approved ones, changes ``comments``.

A campaign opens or closes with the calendar, not with a change: pages that show it are
kept per day of the organization's calendar (``today_key``), and the home page's panel
by the cache's own age limit (``core.cache.MAX_AGE``).
"""

from core import cache
from involve.models import Campaign, Comment, CommentStatus, ContentPage, PageLink

CAMPAIGNS = "campaigns"
PAGES = "pages"
COMMENTS = "comments"

#: ``/take-action``: the campaigns with their counts (and ``/get-involved``: the open ones,
#: with the panels features add there).
CAMPAIGN_LIST = (CAMPAIGNS,)
#: A campaign's page: the campaign, its count and its approved comments.
CAMPAIGN_PAGE = (CAMPAIGNS, COMMENTS)
#: A content page: its texts, its links and its approved comments.
CONTENT_PAGE = (PAGES, COMMENTS)

cache.watch(Campaign, CAMPAIGNS)
cache.watch(ContentPage, PAGES)
cache.watch(PageLink, PAGES)
cache.watch(
    Comment,
    COMMENTS,
    # What a visitor sees of a comment; a new comment waits for a moderator, unseen.
    columns=("status", "name", "body", "page_id", "campaign_id", "created_at"),
    when=lambda comment: comment.status == CommentStatus.approved,
)


def get_involved_depends():
    """The open campaigns and whatever the features show on Get Involved (None: personal)."""
    from core import panels

    parts = panels.depends("get_involved")
    return None if parts is None else sorted({*CAMPAIGN_LIST, *parts})


def today_key():
    """The organization's date: what is open, upcoming or closed changes with it."""
    from core import clock

    return clock.today().isoformat()
