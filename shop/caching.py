"""What the public shop pages show, in the namespaces of the page cache.

Any committed change to a product (its stock above all: a reservation, a release, a
refund that puts copies back) changes ``shop``, so the catalogue and product pages never
show a count or a price that is no longer true.
"""

from core import cache
from shop.models import Product

SHOP = "shop"
CATALOGUE = (SHOP,)

cache.watch(Product, SHOP)
