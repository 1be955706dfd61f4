"""GET /api/v1/customers: who paid in the range, over HTTP, with the stats API's callers and errors.

The site (example.com, Europe/Berlin, USD), with the clock at Wed 11 Mar 2026 12:00 UTC:
  visitor A came from Google on 10 Mar and identified as ada@example.com;
  ada paid 49 on 10 Mar (linked to A by identity) and 20 on 1 Feb; bob (cus_b) paid 100 on 9 Mar.
"""

from __future__ import annotations

import pytest

from stats_api_support import NOW, bearer, clock, owner, pageview, send  # noqa: F401 - clock, owner: fixtures

A = "00000000-0000-4000-8000-00000000000a"
S1 = "00000000-0000-4000-8000-000000000101"


def pay(client, tenant, transaction_id: str, amount: str, timestamp: str, **fields) -> None:
    body = {"transaction_id": transaction_id, "amount": amount, "currency": "USD", "timestamp": timestamp} | fields
    response = client.post("/api/v1/payments", json=body, headers=bearer(tenant.key))
    assert response.status_code == 201, response.text


@pytest.fixture
def paid(client, owner):
    send(client, owner, [
        pageview(owner, "/", visitor=A, session=S1, at=NOW.replace(day=10, hour=9), referrer="https://www.google.com/"),
        pageview(owner, "/", visitor=A, session=S1, at=NOW.replace(day=10, hour=9, minute=1), type="identify",
                 props={"email": "Ada@example.com"}),
    ])
    pay(client, owner, "ch_1", "49.00", "2026-03-10T10:00:00Z", email="ada@example.com")
    pay(client, owner, "ch_old", "20", "2026-02-01T10:00:00Z", email="ada@example.com")
    pay(client, owner, "ch_2", "100", "2026-03-09T10:00:00Z", customer_id="cus_b")
    return owner


def customers(client, tenant, key=None, **params):
    response = client.get("/api/v1/customers", params=params, headers=bearer(key or tenant.key))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_last_30_days_by_default_ordered_by_revenue(client, paid):
    body = customers(client, paid)
    assert body["meta"] == {"currency": "USD", "total_rows": 2}
    assert body["results"] == [
        {"customer": "cus_b", "person": None, "email": None, "customer_id": "cus_b", "visitor_id": None, "first_source": None,
         "first_channel": None, "revenue": 100, "payments": 1, "refunds": 0,
         "first_payment_at": "2026-03-09T10:00:00Z", "last_payment_at": "2026-03-09T10:00:00Z"},
        {"customer": "ada@example.com", "person": "email:ada@example.com", "email": "ada@example.com", "customer_id": None, "visitor_id": A,
         "first_source": "Google", "first_channel": "Organic Search", "revenue": 49, "payments": 1, "refunds": 0,
         "first_payment_at": "2026-03-10T10:00:00Z", "last_payment_at": "2026-03-10T10:00:00Z"},
    ]


def test_a_range_of_dates_and_pages(client, paid):
    body = customers(client, paid, date_range="2026-02-01,2026-03-10", limit="1", offset="1")
    assert [(row["customer"], row["revenue"]) for row in body["results"]] == [("ada@example.com", 69)]
    assert body["meta"]["total_rows"] == 2
    assert customers(client, paid, date_range="all")["meta"]["total_rows"] == 2
    assert customers(client, paid, date_range="7d", offset="5")["results"] == []


def test_an_account_token_names_the_site_by_domain(client, paid):
    body = customers(client, paid, key=paid.token, site_id="example.com", date_range="month")
    assert [row["customer"] for row in body["results"]] == ["cus_b", "ada@example.com"]


@pytest.mark.parametrize(("params", "message"), [
    ({"date_range": "fortnight"}, "date_range: unknown range 'fortnight'"),
    ({"date_range": "2026-03-10,2026-03-01"}, "date_range: start must be before end"),
    ({"limit": "0"}, "limit: must be an integer between 1 and 1000"),
    ({"limit": "ten"}, "limit: must be an integer between 1 and 1000"),
    ({"offset": "-1"}, "offset: must be an integer between 0 and 1000000000"),
])
def test_bad_parameters_are_400_naming_the_parameter(client, paid, params, message):
    response = client.get("/api/v1/customers", params=params, headers=bearer(paid.key))
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)


def test_callers_need_a_key_for_the_site(client, paid):
    assert client.get("/api/v1/customers").status_code == 401
    assert client.get("/api/v1/customers", headers=bearer(paid.revoked_key)).status_code == 401
    assert client.get("/api/v1/customers", params={"site_id": "other.example"},
                      headers=bearer(paid.key)).status_code == 404
    assert client.get("/api/v1/customers", headers=bearer(paid.token)).status_code == 400


def test_the_visitor_profile_lists_the_visitors_payments(client, paid):
    response = client.get(f"/api/v1/visitors/{A}", headers=bearer(paid.key))
    assert [(p["transaction_id"], p["link_method"]) for p in response.json()["payments"]] == [
        ("ch_old", "identity"), ("ch_1", "identity")]
