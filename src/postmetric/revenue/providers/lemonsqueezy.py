"""Lemon Squeezy webhooks: verify `X-Signature`, turn order and subscription payments into ledger payments.

Lemon Squeezy has no official Python SDK; the signature is the hex HMAC-SHA256 of the raw body
with the webhook's signing secret, compared with the stdlib's `hmac.compare_digest`. Deliveries
carry no timestamp, so nothing is stale: a replayed delivery is counted once because payments are
idempotent on the transaction id.

Events and transaction ids:
1. `order_created` (status paid): `order_<order id>`; the order id is also the checkout id the
   success page shows.
2. `subscription_payment_success`: `subscription_invoice_<id>`, a renewal. The first invoice of a
   subscription (`billing_reason` initial) is skipped: its order is recorded by `order_created`.
3. `order_refunded`: a refund of `refunded_amount` (cumulative) under `order_<order id>`.
4. `subscription_payment_refunded`: the same for a subscription invoice (initial ones are refunded
   through their order).

Visit ids come from `meta.custom_data` (checkout `custom` data).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from postmetric.revenue.providers.common import (
    Delivery,
    Forged,
    MalformedPayload,
    Unsigned,
    as_dict,
    major,
    required_currency,
    required_text,
    text,
    visit_ids,
)

NAME = "lemonsqueezy"
SIGNATURE_HEADER = "x-signature"
EVENTS = ("order_created", "subscription_payment_success", "order_refunded", "subscription_payment_refunded")


def verify(raw: bytes, headers: Mapping[str, str], secret: str, now: float) -> None:
    """`now` is unused: Lemon Squeezy signs no timestamp."""
    sent = headers.get(SIGNATURE_HEADER, "").strip()
    if not sent:
        raise Unsigned("X-Signature: the header is missing; is this request from Lemon Squeezy?")
    expected = hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), sent.lower().encode()):
        raise Forged("X-Signature: the signature does not match; check that the signing secret in Revenue "
                     "settings is the one of this webhook in Lemon Squeezy")


def parse(event: dict) -> Delivery:
    meta = as_dict(event.get("meta"), "meta")
    event_type = text(meta.get("event_name")) or ""
    if event_type not in EVENTS:
        return Delivery(event_type, ignored=event_type or "an event without meta.event_name")
    data = as_dict(event.get("data"), "data")
    attributes = as_dict(data.get("attributes"), "data.attributes")
    object_id = required_text(data, "id", "data")
    currency = required_currency(attributes, "currency", "data.attributes")
    visitor, visit = visit_ids(meta.get("custom_data"))
    refund = event_type.endswith("_refunded")
    is_order = event_type.startswith("order_")
    if not is_order and attributes.get("billing_reason") == "initial":
        return Delivery(event_type, ignored=f"{event_type} (the subscription's first payment: its order counts)")
    if not refund and attributes.get("status") != "paid":
        return Delivery(event_type, ignored=f"{event_type} (status {attributes.get('status')}, not paid)")
    if refund:
        amount_field = "refunded_amount"
        amount = attributes.get(amount_field)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise MalformedPayload("data.attributes.refunded_amount: must be a positive amount for a refund")
        when = text(attributes.get("refunded_at")) or text(attributes.get("updated_at"))
    else:
        amount_field = "total"
        amount = attributes.get(amount_field)
        when = text(attributes.get("created_at"))
    return Delivery(event_type, [{
        "transaction_id": f"order_{object_id}" if is_order else f"subscription_invoice_{object_id}",
        "amount": major(amount, currency, f"data.attributes.{amount_field}"), "currency": currency,
        "visitor_id": visitor, "session_id": visit, "email": text(attributes.get("user_email")),
        "customer_id": text(attributes.get("customer_id")), "renewal": not is_order and not refund,
        "refunded": refund, "timestamp": when, **({"checkout_id": object_id} if is_order else {}),
    }])
