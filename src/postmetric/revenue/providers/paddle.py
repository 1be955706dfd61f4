"""Paddle Billing webhooks: verify `Paddle-Signature`, turn completed transactions and refunds into payments.

Verification is the stdlib's `hmac` (HMAC-SHA256 of `"{ts}:{raw body}"` with the notification
destination's secret, hex, compared with `compare_digest` against every `h1`, so a secret
rotation's two signatures both work). Not `paddle-python-sdk`'s `Verifier`: it is a 3.5 MB API
client for a dozen lines, and it checks the timestamp against the wall clock with a 5 s window
that only an environment variable (`TEST_MODE`) can turn off, so the app's injectable clock could
not be used. The timestamp is checked here against the app's clock with the common 300 s window.

Events and transaction ids: `transaction.completed` records the transaction under its id (also
the checkout id Paddle.js reports); `origin` `subscription_recurring` is a renewal.
`adjustment.created`/`adjustment.updated` record a refund of the adjustment's `totals.total` under
the adjusted transaction's id, only for `action` refund with `status` approved (pending ones come
back as `adjustment.updated` once approved). Visit ids come from `custom_data`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal

from postmetric.revenue.providers.common import (
    Delivery,
    Forged,
    MalformedPayload,
    Unsigned,
    as_dict,
    check_timestamp,
    header_timestamp,
    major,
    required_currency,
    required_text,
    text,
    visit_ids,
)

NAME = "paddle"
SIGNATURE_HEADER = "paddle-signature"
EVENTS = ("transaction.completed", "adjustment.created", "adjustment.updated")


def verify(raw: bytes, headers: Mapping[str, str], secret: str, now: float) -> None:
    header = headers.get(SIGNATURE_HEADER, "").strip()
    if not header:
        raise Unsigned("Paddle-Signature: the header is missing; is this request from Paddle?")
    parts = [item.strip().partition("=") for item in header.split(";")]
    timestamps = [value for key, _, value in parts if key == "ts"]
    signatures = [value for key, _, value in parts if key == "h1"]
    # One ts: the timestamp signed must be the one checked for staleness.
    if len(timestamps) != 1 or not signatures:
        raise Unsigned("Paddle-Signature: expected one ts=… and h1=…")
    timestamp = header_timestamp(timestamps[0], "Paddle-Signature")
    signed = timestamps[0].strip().encode() + b":" + raw
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected.encode(), signature.lower().encode()) for signature in signatures):
        raise Forged("Paddle-Signature: the signature does not match; check that the secret key in Revenue "
                     "settings is the one of this notification destination in Paddle")
    check_timestamp(timestamp, now)


def parse(event: dict) -> Delivery:
    event_type = text(event.get("event_type")) or ""
    if event_type not in EVENTS:
        return Delivery(event_type, ignored=event_type or "an event without event_type")
    data = as_dict(event.get("data"), "data")
    visitor, visit = visit_ids(data.get("custom_data"))
    if event_type == "transaction.completed":
        transaction_id = required_text(data, "id", "data")
        currency = required_currency(data, "currency_code", "data")
        details = as_dict(data.get("details"), "data.details")
        totals = as_dict(details.get("totals"), "data.details.totals")
        amount_field = "grand_total" if "grand_total" in totals else "total"
        amount = major(totals.get(amount_field), currency, f"data.details.totals.{amount_field}")
        return Delivery(event_type, [{
            "transaction_id": transaction_id, "amount": amount, "currency": currency,
            "visitor_id": visitor, "session_id": visit, "customer_id": text(data.get("customer_id")),
            "renewal": data.get("origin") == "subscription_recurring", "refunded": False,
            "timestamp": text(data.get("billed_at")) or text(data.get("updated_at")) or text(event.get("occurred_at")),
            "checkout_id": transaction_id,
        }])
    action, status = data.get("action"), data.get("status")
    if action != "refund" or status != "approved":
        return Delivery(event_type, ignored=f"{event_type} (action {action}, status {status}: not an approved refund)")
    currency = required_currency(data, "currency_code", "data")
    totals = as_dict(data.get("totals"), "data.totals")
    amount = major(totals.get("total"), currency, "data.totals.total")
    if Decimal(amount) <= 0:
        raise MalformedPayload("data.totals.total: must be a positive amount for a refund")
    return Delivery(event_type, [{
        "transaction_id": required_text(data, "transaction_id", "data"), "amount": amount,
        "currency": currency, "visitor_id": visitor, "session_id": visit,
        "customer_id": text(data.get("customer_id")), "renewal": False, "refunded": True,
        "timestamp": text(data.get("updated_at")) or text(data.get("created_at")) or text(event.get("occurred_at")),
    }])
