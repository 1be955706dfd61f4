"""Each provider's `parse`: a recorded payload in its documented shape → the Payments API fields it means.

Table-driven over tests/revenue/payloads/; one row per (provider, payload), with the fields the
ledger gets. The HTTP path, signatures and the ledger itself are covered in tests/web/test_webhooks.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from postmetric.revenue.providers import PROVIDERS
from postmetric.revenue.providers.common import MalformedPayload, visit_ids

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"
VISITOR = "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"
SESSION = "0b6f2a7c-1d3e-4f5a-8b9c-0d1e2f3a4b5c"

CASES = [
    ("stripe", "checkout.session.completed.json", {
        "transaction_id": "pi_3QbW8aE7Yc3kLm2v0Zx8Yw7V", "amount": "29.99", "currency": "USD",
        "visitor_id": VISITOR, "session_id": SESSION, "email": "Ada@Example.com", "customer_id": "cus_RxT5mN8pQ2wLk4",
        "renewal": False, "refunded": False, "timestamp": "2026-03-11T12:00:00Z",
        "checkout_id": "cs_live_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ"}),
    ("stripe", "payment_intent.succeeded.json", {
        "transaction_id": "pi_3QbW8aE7Yc3kLm2v0Zx8Yw7V", "amount": "29.99", "currency": "USD",
        "visitor_id": None, "session_id": None, "email": None, "customer_id": "cus_RxT5mN8pQ2wLk4",
        "renewal": False, "refunded": False, "timestamp": "2026-03-11T11:59:59Z"}),
    ("stripe", "invoice.paid.json", {
        "transaction_id": "in_1QcX9bE7Yc3kLm2vPq5Rs6Tu", "amount": "19.00", "currency": "USD",
        "visitor_id": VISITOR, "session_id": None, "email": "ada@example.com", "customer_id": "cus_RxT5mN8pQ2wLk4",
        "renewal": True, "refunded": False, "timestamp": "2026-04-11T11:59:59Z"}),
    ("stripe", "charge.refunded.json", {
        "transaction_id": "pi_3QbW8aE7Yc3kLm2v0Zx8Yw7V", "amount": "10.00", "currency": "USD",
        "visitor_id": None, "session_id": None, "email": "ada@example.com", "customer_id": "cus_RxT5mN8pQ2wLk4",
        "renewal": False, "refunded": True, "timestamp": "2026-03-13T11:59:59Z"}),
    ("lemonsqueezy", "order_created.json", {
        "transaction_id": "order_1542376", "amount": "29.75", "currency": "EUR", "visitor_id": VISITOR,
        "session_id": SESSION, "email": "ada@example.com", "customer_id": "3927451", "renewal": False,
        "refunded": False, "timestamp": "2026-03-11T12:00:00.000000Z", "checkout_id": "1542376"}),
    ("lemonsqueezy", "order_refunded.json", {
        "transaction_id": "order_1542376", "amount": "29.75", "currency": "EUR", "visitor_id": VISITOR,
        "session_id": SESSION, "email": "ada@example.com", "customer_id": "3927451", "renewal": False,
        "refunded": True, "timestamp": "2026-03-13T09:30:00.000000Z", "checkout_id": "1542376"}),
    ("lemonsqueezy", "subscription_payment_success.json", {
        "transaction_id": "subscription_invoice_2871034", "amount": "19.00", "currency": "USD",
        "visitor_id": VISITOR, "session_id": None, "email": "ada@example.com", "customer_id": "3927451",
        "renewal": True, "refunded": False, "timestamp": "2026-04-11T12:00:00.000000Z"}),
    ("polar", "order.paid.json", {
        "transaction_id": "9f3c2b1a-7d6e-4f5a-9b8c-1d2e3f4a5b6c", "amount": "58.31", "currency": "EUR",
        "visitor_id": VISITOR, "session_id": SESSION, "email": "ada@example.com",
        "customer_id": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "renewal": False, "refunded": False,
        "timestamp": "2026-03-11T12:00:00.000000Z", "checkout_id": "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a"}),
    ("polar", "order.refunded.json", {
        "transaction_id": "9f3c2b1a-7d6e-4f5a-9b8c-1d2e3f4a5b6c", "amount": "58.31", "currency": "EUR",
        "visitor_id": VISITOR, "session_id": SESSION, "email": "ada@example.com",
        "customer_id": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "renewal": False, "refunded": True,
        "timestamp": "2026-03-14T08:00:00.000000Z", "checkout_id": "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a"}),
    ("paddle", "transaction.completed.json", {
        "transaction_id": "txn_01jnq2j8y5x4w3v2u1t0s9r8q7", "amount": "30.00", "currency": "USD",
        "visitor_id": VISITOR, "session_id": SESSION, "customer_id": "ctm_01jnq2k1a2b3c4d5e6f7g8h9j0",
        "renewal": False, "refunded": False, "timestamp": "2026-03-11T12:00:00.445566Z",
        "checkout_id": "txn_01jnq2j8y5x4w3v2u1t0s9r8q7"}),
    ("paddle", "adjustment.updated.json", {
        "transaction_id": "txn_01jnq2j8y5x4w3v2u1t0s9r8q7", "amount": "30.00", "currency": "USD",
        "visitor_id": None, "session_id": None, "customer_id": "ctm_01jnq2k1a2b3c4d5e6f7g8h9j0",
        "renewal": False, "refunded": True, "timestamp": "2026-03-13T10:15:03.998877Z"}),
]


def load(provider: str, name: str) -> dict:
    return json.loads((PAYLOADS / provider / name).read_text())


@pytest.mark.parametrize(("provider", "name", "expected"), CASES, ids=[f"{p}:{n}" for p, n, _ in CASES])
def test_a_recorded_payload_becomes_these_payment_fields(provider, name, expected):
    delivery = PROVIDERS[provider].parse(load(provider, name))
    assert delivery.ignored is None
    assert delivery.payments == [expected]


@pytest.mark.parametrize(("provider", "name"), [("paddle", "adjustment.created.json")])
def test_a_pending_refund_is_ignored_with_its_reason(provider, name):
    delivery = PROVIDERS[provider].parse(load(provider, name))
    assert (delivery.payments, delivery.event_type) == ([], "adjustment.created")
    assert "pending_approval" in delivery.ignored


def test_zero_decimal_currencies_keep_their_units():
    event = load("stripe", "payment_intent.succeeded.json")
    event["data"]["object"].update(currency="jpy", amount=4500, amount_received=4500)
    [payment] = PROVIDERS["stripe"].parse(event).payments
    assert (payment["amount"], payment["currency"]) == ("4500", "JPY")


@pytest.mark.parametrize(("sources", "expected"), [
    (({"postmetric_visitor_id": VISITOR, "visitorId": SESSION},), (VISITOR, None)),
    (({"visitorId": VISITOR, "sessionId": SESSION},), (VISITOR, SESSION)),
    (({"datafast_visitor_id": VISITOR.upper()},), (VISITOR, None)),
    (({"postmetric_visitor_id": "x"}, {"postmetric_visitor_id": VISITOR}), (VISITOR, None)),
    (({"postmetric_visitor_id": 7, "visitorId": ["x"]}, None, "text"), (None, None)),
])
def test_visit_ids_follow_the_documented_key_order_and_drop_non_uuids(sources, expected):
    assert visit_ids(*sources) == expected


@pytest.mark.parametrize(("provider", "name", "path"), [
    ("stripe", "invoice.paid.json", ("data", "object", "amount_paid")),
    ("lemonsqueezy", "order_created.json", ("data", "attributes", "total")),
    ("polar", "order.paid.json", ("data", "total_amount")),
    ("paddle", "transaction.completed.json", ("data", "details", "totals", "grand_total")),
])
def test_an_amount_that_is_not_minor_units_is_a_malformed_payload(provider, name, path):
    event = load(provider, name)
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "12.5"
    with pytest.raises(MalformedPayload):
        PROVIDERS[provider].parse(event)


@pytest.mark.parametrize(("provider", "name", "path"), [
    ("stripe", "charge.refunded.json", ("data", "object", "amount_refunded")),
    ("lemonsqueezy", "order_created.json", ("data", "attributes", "total")),
    ("polar", "order.paid.json", ("data", "total_amount")),
    ("polar", "order.refunded.json", ("data", "refunded_amount")),
    ("paddle", "adjustment.updated.json", ("data", "totals", "total")),
])
def test_a_missing_amount_is_a_malformed_payload_never_a_free_trial(provider, name, path):
    event = load(provider, name)
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    with pytest.raises(MalformedPayload):
        PROVIDERS[provider].parse(event)
