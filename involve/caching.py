"""What the public Get Involved parts show, in the namespaces of the page cache.

A campaign's texts, dates or confirmed-signature count change ``campaigns``. A campaign
opens or closes with the calendar, not with a change: the cache's own age limit
(``core.cache.MAX_AGE``) bounds how late that shows.
"""

from core import cache
from involve.models import Campaign

CAMPAIGNS = "campaigns"

cache.watch(Campaign, CAMPAIGNS)
