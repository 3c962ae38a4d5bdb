"""The shop's JSON API: products, the cart, checkout with an Idempotency-Key."""

from tests.shop_fixtures import ONTARIO, order_rows, stock_of

ADDRESS = {
    "name": ONTARIO["name"],
    "line1": ONTARIO["address_line1"],
    "city": ONTARIO["city"],
    "province": "ON",
    "postal_code": ONTARIO["postal_code"],
    "country": "CA",
}


def test_products_and_one_product(app, client, products):
    listed = client.get("/api/v1/products").get_json()
    assert {p["slug"] for p in listed} == {"issue-42", "issue-41", "issue-41-pdf"}
    sold_out = client.get(f"/api/v1/products/{products['issue-41']}").get_json()
    assert sold_out["sold_out"] is True and sold_out["stock"] == 0
    assert client.get("/api/v1/products/999999").status_code == 404


def test_the_cart_through_the_api(app, client, products):
    response = client.post("/api/v1/cart/items", json={"product_id": products["issue-42"]})
    assert response.status_code == 201
    response = client.patch(f"/api/v1/cart/items/{products['issue-42']}", json={"quantity": 3})
    assert response.get_json()["subtotal"] == 3600
    response = client.post("/api/v1/cart/items", json={"product_id": products["issue-41"]})
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == "No more products available for purchase"
    assert client.delete(f"/api/v1/cart/items/{products['issue-42']}").get_json()["lines"] == []


def test_tampered_api_bodies_are_refused(app, client, products):
    bad = [
        {"product_id": products["issue-42"], "quantity": -1},
        {"product_id": products["issue-42"], "quantity": 10**9},
        {"product_id": products["issue-42"], "quantity": "2"},
        {"product_id": products["issue-42"], "price": 1},
        {"product_id": "1"},
    ]
    for body in bad:
        assert client.post("/api/v1/cart/items", json=body).status_code == 422, body
    assert client.post("/api/v1/cart/items", json={"product_id": 999999}).status_code == 404
    # Another cart's line (a product not in this cart) is not this cart's to change.
    other = app.test_client()
    other.post("/api/v1/cart/items", json={"product_id": products["issue-42"]})
    assert (
        client.patch(f"/api/v1/cart/items/{products['issue-42']}", json={"quantity": 5}).status_code
        == 404
    )
    assert client.delete(f"/api/v1/cart/items/{products['issue-42']}").status_code == 404
    client.post("/api/v1/cart/items", json={"product_id": products["issue-42"]})
    body = {"email": "buyer@example.org", "address": ADDRESS, "total": 1}
    assert client.post("/api/v1/checkout", json=body).status_code == 422


def test_checkout_with_an_idempotency_key_is_one_order(app, client, products, stripe_sim):
    client.post("/api/v1/cart/items", json={"product_id": products["issue-42"], "quantity": 2})
    body = {"email": "buyer@example.org", "address": ADDRESS, "language": "en"}
    headers = {"Idempotency-Key": "order-try-1"}
    first = client.post("/api/v1/checkout", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    again = client.post("/api/v1/checkout", json=body, headers=headers)
    assert again.get_json()["checkout_url"] == first.get_json()["checkout_url"]
    assert len(order_rows(app)) == 1
    assert stock_of(app, products["issue-42"]) == 8
    other = client.post("/api/v1/checkout", json={**body, "language": "fr"}, headers=headers)
    assert other.status_code == 422
    assert first.get_json()["total"] == 2400 + 900  # 360 g to Ontario, no tax


def test_the_openapi_document_describes_the_shop(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/products",
        "/api/v1/products/{product_id}",
        "/api/v1/cart",
        "/api/v1/cart/items",
        "/api/v1/cart/items/{product_id}",
        "/api/v1/checkout",
    ):
        assert path in paths, path


def test_an_address_the_shop_refuses_is_a_422_naming_the_field_in_the_body(
    app, client, products, stripe_sim
):
    client.post("/api/v1/cart/items", json={"product_id": products["issue-42"]})
    no_name = {k: v for k, v in ADDRESS.items() if k != "name"}
    response = client.post("/api/v1/checkout", json={"email": "a@example.org", "address": no_name})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["address.name"]
    assert order_rows(app) == []
