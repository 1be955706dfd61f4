"""Polar webhooks: verify Standard Webhooks signatures, turn paid and refunded orders into ledger payments.

Verification uses `standardwebhooks` (the Standard Webhooks reference library): its
`Webhook.sign` computes the expected `v1,<base64>` signature over `"{webhook-id}.{timestamp}.{body}"`,
compared here with `hmac.compare_digest` against each signature in `webhook-signature`. Its
`verify` is not used because it reads the wall clock; the timestamp is checked here against
the app's clock instead. As Polar's own SDK does, the secret's UTF-8 bytes are the HMAC key
(Polar's secrets are not base64), so the library gets them as bytes.

Events and transaction ids: `order.paid` records the order under its id (`billing_reason`
`subscription_cycle` is a renewal; the checkout id is kept); `order.refunded` records a refund of
`refunded_amount + refunded_tax_amount` (cumulative, like `total_amount` tax included) under the
same id. Visit ids come from the order's `metadata` (copied from the checkout's), then its
`custom_field_data`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from datetime import datetime, timezone

from standardwebhooks import Webhook

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

NAME = "polar"
EVENTS = ("order.paid", "order.refunded")


def verify(raw: bytes, headers: Mapping[str, str], secret: str, now: float) -> None:
    message_id = headers.get("webhook-id", "").strip()
    sent_timestamp = headers.get("webhook-timestamp", "").strip()
    signatures = headers.get("webhook-signature", "").strip()
    if not (message_id and sent_timestamp and signatures):
        raise Unsigned("webhook-signature: the webhook-id, webhook-timestamp and webhook-signature headers are "
                       "required; is this request from Polar?")
    timestamp = header_timestamp(sent_timestamp, "webhook-timestamp")
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Forged("webhook-signature: the signature does not match the body (the body is not UTF-8)") from None
    expected = Webhook(secret.encode("utf-8")).sign(
        msg_id=message_id, timestamp=datetime.fromtimestamp(timestamp, timezone.utc), data=body)
    expected_bytes = base64.b64decode(expected.split(",", 1)[1])
    for candidate in signatures.split():
        version, _, signature = candidate.partition(",")
        if version != "v1":
            continue
        try:
            sent = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(expected_bytes, sent):
            check_timestamp(timestamp, now)
            return
    raise Forged("webhook-signature: the signature does not match; check that the webhook secret in Revenue "
                 "settings is the one Polar shows for this endpoint")


def parse(event: dict) -> Delivery:
    event_type = text(event.get("type")) or ""
    if event_type not in EVENTS:
        return Delivery(event_type, ignored=event_type or "an event without a type")
    order = as_dict(event.get("data"), "data")
    order_id = required_text(order, "id", "data")
    currency = required_currency(order, "currency", "data")
    customer = order.get("customer") if isinstance(order.get("customer"), dict) else {}
    visitor, visit = visit_ids(order.get("metadata"), order.get("custom_field_data"))
    refund = event_type == "order.refunded"
    if refund:
        refunded, tax = order.get("refunded_amount"), order.get("refunded_tax_amount") or 0
        if isinstance(refunded, bool) or not isinstance(refunded, int) or not isinstance(tax, int) \
                or refunded + tax <= 0:
            raise MalformedPayload("data.refunded_amount: must be a positive amount for order.refunded")
        amount = major(refunded + tax, currency, "data.refunded_amount")
        when = text(order.get("modified_at")) or text(event.get("timestamp"))
    else:
        if order.get("paid") is False:
            return Delivery(event_type, ignored=f"{event_type} (the order is not paid)")
        amount = major(order.get("total_amount"), currency, "data.total_amount")
        when = text(order.get("created_at"))
    return Delivery(event_type, [{
        "transaction_id": order_id, "amount": amount, "currency": currency,
        "visitor_id": visitor, "session_id": visit, "email": text(customer.get("email")),
        "customer_id": text(order.get("customer_id")) or text(customer.get("id")),
        "renewal": not refund and order.get("billing_reason") == "subscription_cycle", "refunded": refund,
        "timestamp": when, "checkout_id": text(order.get("checkout_id")),
    }])
