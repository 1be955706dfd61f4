"""POST /api/webhooks/{provider}/{site}: signed deliveries land in the ledger once; anything else changes nothing.

Each delivery is signed here the way its provider signs it (from the secret set in the site's
Revenue settings), over a recorded payload in the provider's documented shape
(tests/revenue/payloads/). The app's clock is a settable `Clock`, so staleness needs no sleeping.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from postmetric.revenue.currency import Rates

from stats_api_support import bearer, create_tenant

PAYLOADS = Path(__file__).resolve().parents[1] / "revenue" / "payloads"
VISITOR = "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"
SESSION = "0b6f2a7c-1d3e-4f5a-8b9c-0d1e2f3a4b5c"
SECRETS = {
    "stripe": "whsec_5d1Xq0kZr3TnV8yQ2m4PaB7cLw9EsJ6h",
    "lemonsqueezy": "ls-signing-secret-4f7a1c",
    "polar": "polar_whs_Zc3vQ8mN1pR6tY0wK4xB7dF2gH5jL9sA",
    "paddle": "pdl_ntfset_01jnq0a1b2c3d4e5f6g7h8j9k0_5Xy7Zq1Rk3Mn8Pw2Lv6Tc4Bd9Hf0Js",
}
# One handled event per provider, in its documented shape.
PURCHASE = {
    "stripe": "stripe/checkout.session.completed.json",
    "lemonsqueezy": "lemonsqueezy/order_created.json",
    "polar": "polar/order.paid.json",
    "paddle": "paddle/transaction.completed.json",
}


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / name).read_text())


# -- signing, as each provider does it ---------------------------------------------------


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(provider: str, secret: str, body: bytes, at: int, *, event: dict | None = None) -> dict[str, str]:
    """The headers `provider` would send with `body`, signed with `secret` at unix time `at`."""
    if provider == "stripe":
        return {"Stripe-Signature": f"t={at},v1={_hex(secret, f'{at}.'.encode() + body)}"}
    if provider == "lemonsqueezy":
        return {"X-Signature": _hex(secret, body),
                "X-Event-Name": (event or {}).get("meta", {}).get("event_name", "")}
    if provider == "polar":
        message_id = f"msg_{hashlib.sha1(body).hexdigest()[:24]}"
        digest = hmac.new(secret.encode(), f"{message_id}.{at}.".encode() + body, hashlib.sha256).digest()
        return {"webhook-id": message_id, "webhook-timestamp": str(at),
                "webhook-signature": f"v1,{base64.b64encode(digest).decode()}"}
    if provider == "paddle":
        return {"Paddle-Signature": f"ts={at};h1={_hex(secret, f'{at}:'.encode() + body)}"}
    raise AssertionError(provider)


# -- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def tenant(client, settings, site):
    return create_tenant(settings, email="owner@example.com", domain="example.com")


@pytest.fixture
def secrets_set(client, tenant):
    """Every provider's secret set through the Revenue settings API."""
    for provider, secret in SECRETS.items():
        response = client.put(f"/api/v1/sites/{tenant.public_id}/revenue/{provider}",
                              json={"webhook_secret": secret}, headers=bearer(tenant.token))
        assert response.status_code == 200, response.text
    return SECRETS


def deliver(client, site, provider: str, event: dict, *, secret: str | None = None, at: float | None = None,
            headers: dict | None = None, body: bytes | None = None):
    body = json.dumps(event).encode() if body is None else body
    if headers is None:
        at = int(client.app.state.services.clock() if at is None else at)
        headers = sign(provider, SECRETS[provider] if secret is None else secret, body, at, event=event)
    return client.post(f"/api/webhooks/{provider}/{site.public_id}", content=body,
                       headers={"Content-Type": "application/json", **headers})


def ledger(client, site):
    return client.app.state.services.events.payments(site.id)


def net(payments) -> int:
    return sum(-p.amount if p.kind == "refund" else p.amount for p in payments)


def last_delivery(client, tenant, provider: str) -> dict | None:
    response = client.get(f"/api/v1/sites/{tenant.public_id}/revenue", headers=bearer(tenant.token))
    return {p["provider"]: p for p in response.json()["providers"]}[provider]["last_delivery"]


# -- each provider: recorded once, with amount, currency, kind and the visitor ------------


EXPECTED = {  # (transaction id, amount in minor units, currency, email, customer id, checkout id)
    "stripe": ("pi_3QbW8aE7Yc3kLm2v0Zx8Yw7V", 2999, "USD", "ada@example.com", "cus_RxT5mN8pQ2wLk4",
               "cs_live_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ"),
    "lemonsqueezy": ("order_1542376", 2975, "EUR", "ada@example.com", "3927451", "1542376"),
    "polar": ("9f3c2b1a-7d6e-4f5a-9b8c-1d2e3f4a5b6c", 5831, "EUR", "ada@example.com",
              "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a"),
    "paddle": ("txn_01jnq2j8y5x4w3v2u1t0s9r8q7", 3000, "USD", None, "ctm_01jnq2k1a2b3c4d5e6f7g8h9j0",
               "txn_01jnq2j8y5x4w3v2u1t0s9r8q7"),
}


@pytest.mark.parametrize("provider", list(PURCHASE))
def test_a_signed_purchase_is_recorded_once_and_linked_to_its_visitor(client, site, tenant, secrets_set, provider):
    event = payload(PURCHASE[provider])
    first = deliver(client, site, provider, event)
    assert (first.status_code, first.json()) == (200, {"ok": True, "recorded": 1, "duplicates": 0})
    again = deliver(client, site, provider, event)  # the provider retries: a duplicate, not a second sale
    assert (again.status_code, again.json()) == (200, {"ok": True, "recorded": 0, "duplicates": 1})
    [payment] = ledger(client, site)
    transaction_id, amount, currency, email, customer, checkout = EXPECTED[provider]
    assert (payment.provider, payment.transaction_id, payment.kind, payment.amount, payment.currency) == (
        provider, transaction_id, "new", amount, currency)
    assert (payment.visitor_id, payment.email, payment.customer_id) == (VISITOR, email, customer)
    assert payment.checkout_id == checkout
    assert payment.link_method == "metadata"
    assert payment.timestamp.date() == date(2026, 3, 11)
    assert last_delivery(client, tenant, provider)["result"] == "duplicate"


def test_a_checkout_and_its_payment_intent_count_once_whichever_comes_first(client, site, secrets_set):
    intent = deliver(client, site, "stripe", payload("stripe/payment_intent.succeeded.json"))
    checkout = deliver(client, site, "stripe", payload("stripe/checkout.session.completed.json"))
    assert intent.json()["recorded"] == 1 and checkout.json() == {"ok": True, "recorded": 0, "duplicates": 1}
    [payment] = ledger(client, site)
    assert (payment.transaction_id, payment.amount) == ("pi_3QbW8aE7Yc3kLm2v0Zx8Yw7V", 2999)


def test_the_checkout_event_after_its_payment_intent_brings_the_visitor_and_checkout_id(client, site, secrets_set):
    deliver(client, site, "stripe", payload("stripe/payment_intent.succeeded.json"))  # no metadata on the intent
    [payment] = ledger(client, site)
    assert payment.visitor_id is None
    assert deliver(client, site, "stripe", payload("stripe/checkout.session.completed.json")).json()["duplicates"] == 1
    [payment] = ledger(client, site)
    assert (payment.visitor_id, payment.link_method, payment.amount) == (VISITOR, "metadata", 2999)
    assert payment.checkout_id == "cs_live_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ"


def test_a_second_partial_stripe_refund_raises_the_refunded_amount(client, site, secrets_set):
    deliver(client, site, "stripe", payload("stripe/checkout.session.completed.json"))
    deliver(client, site, "stripe", payload("stripe/charge.refunded.json"))  # 10.00 of 29.99
    more = payload("stripe/charge.refunded.json")
    more["data"]["object"].update(amount_refunded=2999, refunded=True)  # cumulative, as Stripe sends it
    assert deliver(client, site, "stripe", more).json() == {"ok": True, "recorded": 0, "duplicates": 1}
    refund = next(p for p in ledger(client, site) if p.kind == "refund")
    assert refund.amount == 2999 and net(ledger(client, site)) == 0


def test_a_payment_intent_of_an_invoice_is_left_to_invoice_paid(client, site, secrets_set):
    event = payload("stripe/payment_intent.succeeded.json")
    event["data"]["object"]["invoice"] = "in_1QcX9bE7Yc3kLm2vPq5Rs6Tu"  # API versions before basil say so
    response = deliver(client, site, "stripe", event)
    assert response.status_code == 200 and response.json()["ignored"] == "payment_intent.succeeded"
    event["data"]["object"].pop("invoice")
    event["data"]["object"]["description"] = "Subscription creation"  # basil: Stripe's own description
    assert deliver(client, site, "stripe", event).json()["ignored"] == "payment_intent.succeeded"
    assert ledger(client, site) == []


# -- kinds: renewal, refund, free trial -----------------------------------------------------


RENEWALS = {
    "stripe": ("stripe/invoice.paid.json", lambda e: e, 1900),
    "lemonsqueezy": ("lemonsqueezy/subscription_payment_success.json", lambda e: e, 1900),
    "polar": ("polar/order.paid.json", lambda e: e["data"].update(billing_reason="subscription_cycle",
                                                                  subscription_id="sub_pl_1"), 5831),
    "paddle": ("paddle/transaction.completed.json", lambda e: e["data"].update(origin="subscription_recurring"),
               3000),
}


@pytest.mark.parametrize("provider", list(RENEWALS))
def test_a_subscription_renewal_is_a_renewal(client, site, secrets_set, provider):
    name, change, amount = RENEWALS[provider]
    event = payload(name)
    change(event)
    assert deliver(client, site, provider, event).json()["recorded"] == 1
    [payment] = ledger(client, site)
    assert (payment.kind, payment.amount, payment.visitor_id) == ("renewal", amount, VISITOR)


def test_a_first_subscription_invoice_is_new_and_the_first_lemon_squeezy_invoice_is_its_order(
        client, site, secrets_set):
    invoice = payload("stripe/invoice.paid.json")
    invoice["data"]["object"]["billing_reason"] = "subscription_create"
    assert deliver(client, site, "stripe", invoice).json()["recorded"] == 1
    assert [p.kind for p in ledger(client, site)] == ["new"]
    first = payload("lemonsqueezy/subscription_payment_success.json")
    first["data"]["attributes"]["billing_reason"] = "initial"
    assert deliver(client, site, "lemonsqueezy", first).json()["ignored"] == "subscription_payment_success"


REFUNDS = {  # (payment, refund, refunded amount, net)
    "stripe": ("stripe/checkout.session.completed.json", "stripe/charge.refunded.json", 1000, 1999),
    "lemonsqueezy": ("lemonsqueezy/order_created.json", "lemonsqueezy/order_refunded.json", 2975, 0),
    "polar": ("polar/order.paid.json", "polar/order.refunded.json", 5831, 0),
    "paddle": ("paddle/transaction.completed.json", "paddle/adjustment.updated.json", 3000, 0),
}


@pytest.mark.parametrize("provider", list(REFUNDS))
def test_a_refund_arriving_before_its_payment_still_nets_right(client, site, secrets_set, provider):
    paid, refunded, refund_amount, expected_net = REFUNDS[provider]
    assert deliver(client, site, provider, payload(refunded)).json()["recorded"] == 1
    assert deliver(client, site, provider, payload(paid)).json()["recorded"] == 1
    assert deliver(client, site, provider, payload(refunded)).json()["duplicates"] == 1
    payments = ledger(client, site)
    assert sorted(p.kind for p in payments) == ["new", "refund"]
    assert len({p.transaction_id for p in payments}) == 1  # the refund is booked against its payment
    refund = next(p for p in payments if p.kind == "refund")
    assert refund.amount == refund_amount and refund.timestamp.date() > date(2026, 3, 11)
    assert net(payments) == expected_net


def test_a_paddle_adjustment_counts_only_once_approved_and_only_for_refunds(client, site, secrets_set):
    pending = deliver(client, site, "paddle", payload("paddle/adjustment.created.json"))
    assert pending.json()["ignored"] == "adjustment.created"
    credit = payload("paddle/adjustment.updated.json")
    credit["data"]["action"] = "credit"
    assert deliver(client, site, "paddle", credit).json()["ignored"] == "adjustment.updated"
    assert ledger(client, site) == []
    assert deliver(client, site, "paddle", payload("paddle/adjustment.updated.json")).json()["recorded"] == 1


def test_a_free_trial_checkout_is_a_trial(client, site, secrets_set):
    event = payload("stripe/checkout.session.completed.json")
    event["data"]["object"].update(mode="subscription", amount_total=0, amount_subtotal=0, payment_intent=None,
                                   payment_status="no_payment_required", invoice="in_trial_1",
                                   subscription="sub_trial_1")
    assert deliver(client, site, "stripe", event).json()["recorded"] == 1
    [payment] = ledger(client, site)
    assert (payment.kind, payment.amount, payment.transaction_id) == ("trial", 0, "in_trial_1")


def test_an_unpaid_checkout_waits_for_its_payment(client, site, secrets_set):
    event = payload("stripe/checkout.session.completed.json")
    event["data"]["object"]["payment_status"] = "unpaid"  # e.g. a bank transfer still on its way
    response = deliver(client, site, "stripe", event)
    assert response.status_code == 200 and response.json()["ignored"] == "checkout.session.completed"
    assert ledger(client, site) == []


def test_a_payment_in_another_currency_gets_a_reporting_amount_in_the_site_currency(client, site, secrets_set):
    assert deliver(client, site, "lemonsqueezy", payload("lemonsqueezy/order_created.json")).json()["recorded"] == 1
    [payment] = ledger(client, site)
    expected = Rates().convert(Decimal("29.75"), "EUR", "USD", date(2026, 3, 11))
    assert (payment.amount, payment.currency, payment.reporting_currency) == (2975, "EUR", "USD")
    assert payment.reporting_amount == int(expected * 100) and payment.reporting_amount != 2975


def test_ids_that_are_not_uuids_are_dropped_and_the_next_keys_are_read(client, site, secrets_set):
    event = payload("stripe/checkout.session.completed.json")
    event["data"]["object"]["metadata"] = {"postmetric_visitor_id": "not-a-uuid", "visitorId": "also not",
                                           "datafast_visitor_id": VISITOR}
    assert deliver(client, site, "stripe", event).json()["recorded"] == 1
    [payment] = ledger(client, site)
    assert payment.visitor_id == VISITOR and payment.session_id is None
    event["data"]["object"].update(metadata={"postmetric_visitor_id": "nope"}, payment_intent="pi_other")
    assert deliver(client, site, "stripe", event).json()["recorded"] == 1


# -- what is refused, and changes nothing --------------------------------------------------


@pytest.mark.parametrize("provider", list(PURCHASE))
def test_forged_unsigned_tampered_and_wrongly_keyed_deliveries_are_401(client, site, tenant, secrets_set, provider):
    event = payload(PURCHASE[provider])
    body = orjson.dumps(event)
    now = int(client.app.state.services.clock())
    signed = sign(provider, SECRETS[provider], body, now, event=event)
    tampered = body.replace(b"2999", b"9999").replace(b"2975", b"9975").replace(b"5831", b"9831") \
        .replace(b'"3000"', b'"9000"')
    assert tampered != body
    attempts = {
        "unsigned": deliver(client, site, provider, event, headers={}, body=body),
        "wrong secret": deliver(client, site, provider, event, secret="someone-elses-secret"),
        "tampered body": deliver(client, site, provider, event, body=tampered, headers=signed),
        "garbage signature": deliver(client, site, provider, event, body=body, headers={
            k: ("t=1,v1=zz" if provider == "stripe" else "ts=1;h1=zz" if provider == "paddle"
                else "v1,!!!" if k == "webhook-signature" else "zz" if k == "X-Signature" else v)
            for k, v in signed.items()}),
    }
    for name, response in attempts.items():
        assert response.status_code == 401, (name, response.text)
        assert response.json()["error"], name
    assert ledger(client, site) == []
    assert last_delivery(client, tenant, provider) is None  # nothing verified has arrived yet


@pytest.mark.parametrize("provider", ["stripe", "polar", "paddle"])
def test_a_stale_or_replayed_delivery_is_refused_and_changes_nothing(client, site, clock, secrets_set, provider):
    event = payload(PURCHASE[provider])
    stale = deliver(client, site, provider, event, at=clock.now - 301)
    assert stale.status_code == 400 and "timestamp" in stale.json()["error"]
    future = deliver(client, site, provider, event, at=clock.now + 301)
    assert future.status_code == 400
    assert ledger(client, site) == []
    # A delivery captured and replayed ten minutes later: refused, and the ledger keeps its one entry.
    body = orjson.dumps(event)
    headers = sign(provider, SECRETS[provider], body, int(clock.now), event=event)
    assert deliver(client, site, provider, event, headers=headers, body=body).json()["recorded"] == 1
    clock.advance(600)
    replay = deliver(client, site, provider, event, headers=headers, body=body)
    assert replay.status_code == 400
    assert len(ledger(client, site)) == 1


def test_lemon_squeezy_signs_no_time_so_a_replay_is_only_a_duplicate(client, site, clock, secrets_set):
    event = payload("lemonsqueezy/order_created.json")
    body = orjson.dumps(event)
    headers = sign("lemonsqueezy", SECRETS["lemonsqueezy"], body, 0, event=event)
    assert deliver(client, site, "lemonsqueezy", event, headers=headers, body=body).json()["recorded"] == 1
    clock.advance(86_400)
    replay = deliver(client, site, "lemonsqueezy", event, headers=headers, body=body)
    assert replay.json() == {"ok": True, "recorded": 0, "duplicates": 1}
    assert len(ledger(client, site)) == 1


@pytest.mark.parametrize("provider", list(PURCHASE))
def test_a_validly_signed_body_that_is_not_json_or_not_the_event_is_400(client, site, secrets_set, provider):
    for body in (b"{not json", b"[1, 2]"):
        response = deliver(client, site, provider, {}, body=body)
        assert response.status_code == 400 and response.json()["error"].startswith("body:"), response.text
    broken = payload(PURCHASE[provider])
    if provider in ("lemonsqueezy", "paddle"):
        broken["data"].pop("id")
    else:
        (broken["data"]["object"] if provider == "stripe" else broken["data"]).pop("currency")
    response = deliver(client, site, provider, broken)
    assert response.status_code == 400 and response.json()["error"].startswith("payload:"), response.text
    assert ledger(client, site) == []


def test_an_unknown_site_is_404_and_a_site_without_a_secret_400(client, site, tenant):
    event = payload(PURCHASE["stripe"])
    response = client.post("/api/webhooks/stripe/pm_nosuchsite00", content=orjson.dumps(event),
                           headers=sign("stripe", SECRETS["stripe"], orjson.dumps(event), 0))
    assert response.status_code == 404 and "pm_nosuchsite00" in response.json()["error"]
    response = deliver(client, site, "stripe", event)
    assert response.status_code == 400
    assert "Revenue settings" in response.json()["error"]
    assert last_delivery(client, tenant, "stripe") is None  # nothing to note without a secret
    assert ledger(client, site) == []


def test_a_cleared_secret_refuses_deliveries_again(client, site, tenant, secrets_set):
    response = client.put(f"/api/v1/sites/{tenant.public_id}/revenue/stripe", json={"webhook_secret": None},
                          headers=bearer(tenant.token))
    assert response.json()["secret_set"] is False
    assert deliver(client, site, "stripe", payload(PURCHASE["stripe"])).status_code == 400


@pytest.mark.parametrize(("provider", "event"), [
    ("stripe", {"id": "evt_1", "object": "event", "type": "customer.created", "created": 1773230400,
                "data": {"object": {"id": "cus_1", "object": "customer"}}}),
    ("lemonsqueezy", {"meta": {"event_name": "license_key_created"}, "data": {"type": "license-keys", "id": "1"}}),
    ("polar", {"type": "customer.created", "timestamp": "2026-03-11T12:00:00Z", "data": {"id": "c1"}}),
    ("paddle", {"event_id": "evt_1", "event_type": "customer.created", "occurred_at": "2026-03-11T12:00:00Z",
                "data": {"id": "ctm_1"}}),
])
def test_an_event_type_not_used_is_acknowledged_and_ignored(client, site, tenant, secrets_set, provider, event):
    response = deliver(client, site, provider, event)
    assert (response.status_code, response.json()) == (200, {"ok": True, "ignored": "customer.created"} if
                                                        provider != "lemonsqueezy" else
                                                        {"ok": True, "ignored": "license_key_created"})
    assert ledger(client, site) == []
    assert last_delivery(client, tenant, provider)["result"].startswith("ignored: ")


@pytest.mark.parametrize("provider", list(PURCHASE))
def test_only_a_verified_delivery_becomes_the_last_delivery(client, site, tenant, clock, secrets_set, provider):
    """Forged, unsigned, tampered, stale and replayed deliveries after a good one leave its note as it was."""
    event = payload(PURCHASE[provider])
    body = orjson.dumps(event)
    good_headers = sign(provider, SECRETS[provider], body, int(clock.now), event=event)
    assert deliver(client, site, provider, event, headers=good_headers, body=body).status_code == 200
    good = last_delivery(client, tenant, provider)
    assert good["result"] == "recorded 1" and good["at"].endswith("Z")
    clock.advance(60)
    other = {**event, "forged": True}
    refused = [
        deliver(client, site, provider, other, secret="someone-elses-secret"),
        deliver(client, site, provider, other, headers={}),
        deliver(client, site, provider, other, headers=good_headers, body=orjson.dumps(other)),
        deliver(client, site, provider, other, headers={"Content-Type": "application/json", **{
            name: "garbage" for name in good_headers}}),
    ]
    if provider != "lemonsqueezy":  # the others sign a time: a stale or replayed delivery is refused too
        refused.append(deliver(client, site, provider, other, at=clock.now - 3600))
        clock.advance(600)
        refused.append(deliver(client, site, provider, event, headers=good_headers, body=body))
    assert [response.status_code for response in refused] == [
        401, 401, 401, 401, *([400, 400] if provider != "lemonsqueezy" else [])], [r.text for r in refused]
    assert last_delivery(client, tenant, provider) == good
    assert len(ledger(client, site)) == 1
    # A verified delivery still takes the note: an event of a type not used is acknowledged and noted.
    ignored = {"stripe": {"type": "customer.created", "data": {"object": {}}},
               "lemonsqueezy": {"meta": {"event_name": "license_key_created"}, "data": {}},
               "polar": {"type": "customer.created", "data": {}},
               "paddle": {"event_type": "customer.created", "data": {}}}[provider]
    assert deliver(client, site, provider, ignored).status_code == 200
    assert last_delivery(client, tenant, provider)["result"].startswith("ignored: ")


ODD_VALUES = [None, [], {}, "", "abc", -5, 1e30, 10**20, True, "2026-13-45"]


@pytest.mark.parametrize("provider", list(PURCHASE))
def test_odd_values_in_a_signed_event_are_answered_never_a_500(client, site, secrets_set, provider):
    """Every field of the handled event replaced, one at a time, by values of the wrong kind."""
    event = payload(PURCHASE[provider])
    root = {"stripe": lambda e: e["data"]["object"], "lemonsqueezy": lambda e: e["data"]["attributes"],
            "polar": lambda e: e["data"], "paddle": lambda e: e["data"]}[provider]
    statuses = set()
    for key in list(root(event)):
        for value in ODD_VALUES[:4] if key not in ("currency", "currency_code", "amount_total", "total",
                                                       "total_amount", "metadata", "custom_data", "created_at",
                                                       "billed_at") else ODD_VALUES:
            odd = copy.deepcopy(event)
            root(odd)[key] = value
            response = deliver(client, site, provider, odd)
            assert response.status_code < 500, (key, value, response.text)
            statuses.add(response.status_code)
    assert 400 in statuses
    for reshaped in ({**event, "data": []}, {**event, "data": {"object": "x", "attributes": 1}}):
        assert deliver(client, site, provider, reshaped).status_code == 400


# -- hostile numbers and dates in a signed event: a 400 naming the field, at once, nothing stored ------

# Each provider's purchase and refund events, and where each keeps its amount.
AMOUNT_AT = [
    ("stripe", "stripe/checkout.session.completed.json", ("data", "object", "amount_total")),
    ("stripe", "stripe/charge.refunded.json", ("data", "object", "amount_refunded")),
    ("stripe", "stripe/invoice.paid.json", ("data", "object", "amount_paid")),
    ("lemonsqueezy", "lemonsqueezy/order_created.json", ("data", "attributes", "total")),
    ("lemonsqueezy", "lemonsqueezy/order_refunded.json", ("data", "attributes", "refunded_amount")),
    ("polar", "polar/order.paid.json", ("data", "total_amount")),
    ("polar", "polar/order.refunded.json", ("data", "refunded_amount")),
    ("paddle", "paddle/transaction.completed.json", ("data", "details", "totals", "grand_total")),
    ("paddle", "paddle/adjustment.updated.json", ("data", "totals", "total")),
]
# Strings as Paddle sends amounts, and JSON numbers (orjson reads integers past 64 bits as floats).
HOSTILE_AMOUNTS = ["1e300000", "9" * 5000, "-1e999", "NaN", "Infinity", "1e-999999999", "0x1F", "١٢",
                   10**18, -(2**63), 2**64, 1e300, 10**400]


def _put(event: dict, path: tuple[str, ...], value) -> dict:
    event = copy.deepcopy(event)
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return event


def _signed_raw(provider: str, event: dict, at: int) -> tuple[bytes, dict]:
    # json.dumps writes 10**400 as digits; orjson would refuse to encode it.
    body = json.dumps(event).encode()
    return body, sign(provider, SECRETS[provider], body, at, event=event)


@pytest.mark.parametrize(("provider", "name", "path"), AMOUNT_AT, ids=[name for _, name, _ in AMOUNT_AT])
def test_a_hostile_amount_is_a_400_naming_the_field(client, site, clock, secrets_set, provider, name, path):
    for value in HOSTILE_AMOUNTS:
        body, headers = _signed_raw(provider, _put(payload(name), path, value), int(clock.now))
        response = deliver(client, site, provider, {}, headers=headers, body=body)
        assert response.status_code == 400, (repr(value)[:40], response.text)
        error = response.json()["error"]
        assert path[-1] in error or "amount" in error or error.startswith("body:"), (repr(value)[:40], error)
    assert ledger(client, site) == []


# Where each provider's handled event says when it was paid.
DATE_AT = [
    ("stripe", "stripe/checkout.session.completed.json", ("created",), "unix"),
    ("stripe", "stripe/invoice.paid.json", ("data", "object", "status_transitions", "paid_at"), "unix"),
    ("lemonsqueezy", "lemonsqueezy/order_created.json", ("data", "attributes", "created_at"), "iso"),
    ("lemonsqueezy", "lemonsqueezy/order_refunded.json", ("data", "attributes", "refunded_at"), "iso"),
    ("polar", "polar/order.paid.json", ("data", "created_at"), "iso"),
    ("paddle", "paddle/transaction.completed.json", ("data", "billed_at"), "iso"),
]
HOSTILE_DATES = {
    "unix": [10**20, 1e20, -1, -(2**63), 2**62, 253402300800, 946684799, 4102444800],
    "iso": ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z", "1999-12-31T23:59:59Z", "2999-01-01T00:00:00Z", "-1", "1e20"],
}


@pytest.mark.parametrize(("provider", "name", "path", "kind"), DATE_AT, ids=[f"{n}:{p[-1]}" for _, n, p, _ in DATE_AT])
def test_a_date_out_of_range_is_a_400_and_nothing_is_stored(client, site, clock, secrets_set, provider, name,
                                                           path, kind):
    for value in HOSTILE_DATES[kind]:
        body, headers = _signed_raw(provider, _put(payload(name), path, value), int(clock.now))
        response = deliver(client, site, provider, {}, headers=headers, body=body)
        assert response.status_code == 400, (value, response.text)
        error = response.json()["error"]
        assert path[-1] in error or "timestamp" in error, (value, error)
    assert ledger(client, site) == []


@pytest.mark.parametrize("provider", ["stripe", "polar", "paddle"])
def test_a_signature_header_timestamp_far_out_of_range_is_a_400_before_the_signature_check(
        client, site, tenant, secrets_set, provider):
    event = payload(PURCHASE[provider])
    body = orjson.dumps(event)
    for sent in ("99999999999999999999", "253402300800", "-1", "-99999999999999999999", "9" * 5000):
        # Signed correctly with that timestamp text, and signed wrongly: refused the same way, unread.
        for secret in (SECRETS[provider], "someone-elses-secret"):
            headers = sign(provider, secret, body, sent, event=event)
            response = deliver(client, site, provider, event, headers=headers, body=body)
            assert response.status_code == 400, (sent[:24], response.text)
            assert "timestamp" in response.json()["error"] and len(response.json()["error"]) < 300
    assert ledger(client, site) == []
    assert last_delivery(client, tenant, provider) is None


def test_a_declared_length_of_thousands_of_digits_is_a_413_not_a_500(client, site, secrets_set):
    response = client.post(f"/api/webhooks/stripe/{site.public_id}", content=b"{}",
                           headers={"Content-Length": "9" * 5000})
    assert response.status_code == 413 and response.json()["error"].startswith("body:"), response.text
