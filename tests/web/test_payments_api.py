"""POST/DELETE /api/v1/payments: a site key records its site's payments, each once, durably."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from postmetric.revenue.currency import Rates
from postmetric.store.duckdb_events import DuckDBEventStore

from stats_api_support import bearer, create_tenant

VISITOR = "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"
BODY = {"transaction_id": "pi_1", "amount": 29.99, "currency": "usd", "datafast_visitor_id": VISITOR,
        "email": "ada@example.com", "customer_id": "cus_1"}


def post(client, key, body):
    return client.post("/api/v1/payments", json=body, headers=bearer(key))


def stored(settings, site_id):
    store = DuckDBEventStore(settings.events_path)
    try:
        return store.payments(site_id)
    finally:
        store.close()


def test_a_payment_is_recorded_and_linked_to_its_visitor(client, site):
    response = post(client, site.key, BODY | {"timestamp": "2026-03-11T12:00:00Z"})
    assert response.status_code == 201, response.text
    assert response.json() == {"ok": True, "payment": {
        "transaction_id": "pi_1", "provider": "api", "kind": "new", "amount": "29.99", "currency": "USD",
        "amount_minor": 2999, "reporting_amount": "29.99", "reporting_currency": "USD",
        "timestamp": "2026-03-11T12:00:00Z", "customer_id": "cus_1", "email": "ada@example.com",
        "visitor_id": VISITOR, "session_id": None, "link_method": "metadata",
    }}
    assert "X-RateLimit-Remaining" in response.headers


def test_the_payment_is_in_the_store_when_201_returns(client, site, settings):
    assert post(client, site.key, BODY).status_code == 201
    client.__exit__(None, None, None)  # the app stops: nothing is left in a queue
    [payment] = stored(settings, site.id)
    assert (payment.transaction_id, payment.amount, payment.visitor_id) == ("pi_1", 2999, VISITOR)


def test_a_duplicate_counts_once_and_answers_the_recorded_payment(client, site, settings):
    first = post(client, site.key, BODY)
    again = post(client, site.key, BODY | {"amount": 99})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    refund = post(client, site.key, BODY | {"refunded": True})
    assert (refund.status_code, refund.json()["payment"]["kind"]) == (201, "refund")
    client.__exit__(None, None, None)
    assert [p.kind for p in stored(settings, site.id)] == ["new", "refund"]


@pytest.mark.parametrize("body, message", [
    ({"amount": 1, "currency": "USD"}, "transaction_id: is required"),
    ({"transaction_id": "t", "currency": "USD"}, "amount: is required"),
    ({"transaction_id": "t", "amount": "ten", "currency": "USD"}, "amount: 'ten' is not a number"),
    ({"transaction_id": "t", "amount": -5, "currency": "USD"}, "amount: must not be negative"),
    ({"transaction_id": "t", "amount": "1.001", "currency": "USD"}, "amount: 1.001 has more decimals"),
    ({"transaction_id": "t", "amount": 1}, "currency: is required"),
    ({"transaction_id": "t", "amount": 1, "currency": "dollars"}, "currency: 'dollars' is not"),
    ({"transaction_id": "t", "amount": 1, "currency": "USD", "visitor_id": "x"}, "visitor_id: 'x' is not"),
    ({"transaction_id": "t", "amount": 1, "currency": "USD", "datafast_visitor_id": "x"}, "datafast_visitor_id:"),
    ({"transaction_id": "t", "amount": 1, "currency": "USD", "session_id": "x"}, "session_id:"),
    ({"transaction_id": "t", "amount": 1, "currency": "USD", "renewal": "no"}, "renewal: must be true or false"),
    ({"transaction_id": "t", "amount": 1, "currency": "USD", "refunded": 0}, "refunded: must be true or false"),
    ({"transaction_id": "t", "amount": 1, "currency": "USD", "timestamp": "soon"}, "timestamp: 'soon' is not"),
    ({"transaction_id": "t", "amount": 1, "currency": "USD", "email": "nobody"}, "email: 'nobody' is not"),
    ([1, 2], "body: must be a JSON object"),
])
def test_every_invalid_body_is_a_400_naming_the_field(client, site, body, message):
    response = post(client, site.key, body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)


def test_an_empty_or_malformed_body_is_a_400(client, site):
    for content in (b"", b"{nope"):
        response = client.post("/api/v1/payments", content=content, headers=bearer(site.key))
        assert (response.status_code, response.json()["error"][:5]) == (400, "body:")


def test_only_a_live_site_key_may_record(client, site, settings):
    tenant = create_tenant(settings, email="owner@example.com", domain="example.com")
    assert client.post("/api/v1/payments", json=BODY).status_code == 401
    assert post(client, tenant.revoked_key, BODY).status_code == 401
    response = post(client, tenant.token, BODY)
    assert response.status_code == 403
    assert response.json()["error"].startswith("authorization:")


def test_delete_removes_the_payment_then_404(client, site, settings):
    post(client, site.key, BODY)
    post(client, site.key, BODY | {"refunded": True})
    assert client.delete("/api/v1/payments", params={"transaction_id": "pi_1"},
                         headers=bearer(site.key)).status_code == 204
    response = client.delete("/api/v1/payments", params={"transaction_id": "pi_1"}, headers=bearer(site.key))
    assert response.status_code == 404
    assert response.json() == {"error": "transaction_id: payment 'pi_1' not found"}
    client.__exit__(None, None, None)
    assert stored(settings, site.id) == []


def test_delete_without_a_transaction_id_is_a_400(client, site):
    response = client.delete("/api/v1/payments", headers=bearer(site.key))
    assert (response.status_code, response.json()) == (400, {"error": "transaction_id: is required"})


def test_another_sites_key_cannot_delete_this_sites_payment(client, site, settings):
    other = create_tenant(settings, email="eve@example.net", domain="other.example.net")
    post(client, site.key, BODY)
    response = client.delete("/api/v1/payments", params={"transaction_id": "pi_1"}, headers=bearer(other.key))
    assert response.status_code == 404
    # Its own payment with the same transaction id is another payment.
    assert post(client, other.key, BODY).status_code == 201
    client.__exit__(None, None, None)
    assert len(stored(settings, site.id)) == 1
    assert len(stored(settings, other.site_id)) == 1


def test_a_payment_in_another_currency_gets_its_amount_in_the_site_currency(client, site, settings):
    euro_site = create_tenant(settings, email="eu@example.eu", domain="shop.example.eu", currency="EUR")
    body = BODY | {"timestamp": "2026-03-11T12:00:00Z"}
    payment = post(client, euro_site.key, body).json()["payment"]
    expected = Rates().convert(Decimal("29.99"), "USD", "EUR", date(2026, 3, 11))
    assert (payment["amount"], payment["currency"]) == ("29.99", "USD")
    assert (payment["reporting_amount"], payment["reporting_currency"]) == (str(expected), "EUR")
    assert expected != Decimal("29.99")


def test_a_currency_without_an_ecb_rate_is_a_400_on_a_site_in_another_currency(client, site, settings):
    euro_site = create_tenant(settings, email="eu@example.eu", domain="shop.example.eu", currency="EUR")
    response = post(client, euro_site.key, BODY | {"currency": "XYZ"})
    assert response.status_code == 400
    assert response.json()["error"] == "currency: XYZ has no European Central Bank reference rate"


HOSTILE_AMOUNTS = ["1e300000", "9" * 5000, "-1e999", "1e999999999", "NaN", "Infinity", "-Infinity", "1e-999999999",
                   "0x1F", "1_000", "١٢", 10**18, -(2**63), 2**64, 1e300, 1e-300]


@pytest.mark.parametrize("amount", HOSTILE_AMOUNTS, ids=lambda amount: repr(amount)[:24])
def test_a_hostile_amount_is_a_400_naming_the_amount(client, site, settings, amount):
    response = post(client, site.key, BODY | {"amount": amount})
    assert response.status_code == 400 and response.json()["error"].startswith("amount: "), response.text
    client.__exit__(None, None, None)
    assert stored(settings, site.id) == []


@pytest.mark.parametrize("timestamp", [
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    "1999-12-31T23:59:59Z", "2999-01-01T00:00:00Z", "-1", "1e20", "2026-03-11T12:00:00" + "0" * 5000,
])
def test_a_timestamp_outside_2000_to_tomorrow_is_a_400_naming_it(client, site, settings, timestamp):
    response = post(client, site.key, BODY | {"timestamp": timestamp})
    assert response.status_code == 400 and response.json()["error"].startswith("timestamp: "), response.text
    assert len(response.json()["error"]) < 300
    client.__exit__(None, None, None)
    assert stored(settings, site.id) == []
