"""Stripe webhooks: verify `Stripe-Signature`, turn payment events into ledger payments.

Verification is the stdlib's `hmac`, as Stripe documents it: the hex HMAC-SHA256 of
`"{t}.{raw body}"` with the endpoint's secret, compared with `compare_digest` against every `v1`
signature (two during a secret rotation), then `t` against the app's clock. One parser reads the
header, so the timestamp signed is the timestamp checked; not the `stripe` package's
`WebhookSignature`, whose time check reads the wall clock and whose parser takes the first `t=`
of a header that may carry several.

Events and transaction ids (each checkout counts once, whichever of its events arrives first; the
ledger merges in what a later one adds: visit ids, the checkout id, a larger cumulative refund):
1. `checkout.session.completed` (paid, or `no_payment_required` for a free trial): the payment
   intent id (one-time payments), else the invoice id (subscriptions), else the session id.
2. `invoice.paid`: the invoice id; `billing_reason` `subscription_cycle` is a renewal.
3. `payment_intent.succeeded`: the payment intent id; skipped when the intent says it belongs to
   an invoice (`invoice`, API versions before 2025-03-31.basil) or carries Stripe's description for
   subscription invoices, since `invoice.paid` records those. An intent made by a Checkout Session
   has the id the session's event uses, so the two collapse.
4. `charge.refunded`: a refund row of `amount_refunded` (cumulative), under the charge's invoice
   id when it has one, else its payment intent id.

Metadata (visit ids) is read from the session's `metadata`, the invoice's subscription metadata
(`parent.subscription_details.metadata`, or `subscription_details.metadata` before basil) and
its lines' `metadata`, the intent's or charge's `metadata`.
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
    check_timestamp,
    header_timestamp,
    iso_from_unix,
    major,
    required_currency,
    required_text,
    text,
    visit_ids,
)

NAME = "stripe"
SIGNATURE_HEADER = "stripe-signature"
EVENTS = ("checkout.session.completed", "invoice.paid", "payment_intent.succeeded", "charge.refunded")
# What Stripe writes on the payment intents it creates for subscription invoices.
_SUBSCRIPTION_INTENT_DESCRIPTIONS = ("Subscription creation", "Subscription update", "Subscription cycle")


def verify(raw: bytes, headers: Mapping[str, str], secret: str, now: float) -> None:
    header = headers.get(SIGNATURE_HEADER, "")
    if not header.strip():
        raise Unsigned("Stripe-Signature: the header is missing; is this request from Stripe?")
    timestamp, signatures = _signature_header(header)
    try:
        raw.decode("utf-8")  # Stripe signs its body as text; bytes that are not text are not Stripe's
    except UnicodeDecodeError:
        raise Forged("Stripe-Signature: the signature does not match the body (the body is not UTF-8)") from None
    expected = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected.encode(), sent.encode()) for sent in signatures):
        raise Forged("Stripe-Signature: the signature does not match; check that the webhook secret (whsec_…) "
                     "in Revenue settings is this endpoint's signing secret")
    check_timestamp(timestamp, now)


def _signature_header(header: str) -> tuple[int, list[str]]:
    """`t=…,v1=…[,v1=…]` → (the one timestamp, the v1 signatures); other schemes (v0) are ignored.

    Exactly one `t=`: the timestamp that is signed must be the one checked for staleness. (With
    two, a parser that signs with one and checks the other lets a captured delivery be replayed
    under a fresh `t=`.)
    """
    items = [item.strip().partition("=") for item in header.split(",")]
    timestamps = [value for key, _, value in items if key == "t"]
    signatures = [value.strip().lower() for key, _, value in items if key == "v1" and value.strip()]
    if len(timestamps) != 1:
        raise Unsigned("Stripe-Signature: expected one timestamp (t=…), found "
                       f"{len(timestamps) or 'none'}")
    if not signatures:
        raise Unsigned("Stripe-Signature: no v1 signature in the header")
    return header_timestamp(timestamps[0], "Stripe-Signature"), signatures


def parse(event: dict) -> Delivery:
    event_type = text(event.get("type")) or ""
    if event_type not in EVENTS:
        return Delivery(event_type, ignored=event_type or "an event without a type")
    data = as_dict(event.get("data"), "data")
    obj = as_dict(data.get("object"), "data.object")
    created = iso_from_unix(event.get("created"), "created")
    if event_type == "checkout.session.completed":
        return _checkout_session(event_type, obj, created)
    if event_type == "invoice.paid":
        return _invoice(event_type, obj, created)
    if event_type == "payment_intent.succeeded":
        return _payment_intent(event_type, obj, created)
    return _charge_refunded(event_type, obj, created)


def _checkout_session(event_type: str, session: dict, created: str | None) -> Delivery:
    status = session.get("payment_status")
    if session.get("mode") == "setup" or status not in ("paid", "no_payment_required"):
        return Delivery(event_type, ignored=f"{event_type} (payment_status {status}, nothing paid yet)")
    checkout_id = required_text(session, "id", "data.object")
    currency = required_currency(session, "currency", "data.object")
    details = session.get("customer_details") if isinstance(session.get("customer_details"), dict) else {}
    visitor, visit = visit_ids(session.get("metadata"))
    return Delivery(event_type, [{
        "transaction_id": _id(session.get("payment_intent")) or _id(session.get("invoice")) or checkout_id,
        "amount": major(session.get("amount_total") or 0, currency, "data.object.amount_total"),
        "currency": currency,
        "visitor_id": visitor, "session_id": visit,
        "email": text(details.get("email")) or text(session.get("customer_email")),
        "customer_id": _id(session.get("customer")), "renewal": False, "refunded": False,
        "timestamp": created or iso_from_unix(session.get("created"), "data.object.created"),
        "checkout_id": checkout_id,
    }])


def _invoice(event_type: str, invoice: dict, created: str | None) -> Delivery:
    invoice_id = required_text(invoice, "id", "data.object")
    currency = required_currency(invoice, "currency", "data.object")
    parent = invoice.get("parent") if isinstance(invoice.get("parent"), dict) else {}
    subscription = (parent.get("subscription_details") if isinstance(parent.get("subscription_details"), dict)
                    else invoice.get("subscription_details") if isinstance(invoice.get("subscription_details"), dict)
                    else {})
    lines = invoice.get("lines") if isinstance(invoice.get("lines"), dict) else {}
    line_metadata = [line.get("metadata") for line in lines.get("data") or [] if isinstance(line, dict)]
    visitor, visit = visit_ids(subscription.get("metadata"), invoice.get("metadata"), *line_metadata)
    transitions = invoice.get("status_transitions") if isinstance(invoice.get("status_transitions"), dict) else {}
    return Delivery(event_type, [{
        "transaction_id": invoice_id,
        "amount": major(invoice.get("amount_paid") or 0, currency, "data.object.amount_paid"),
        "currency": currency, "visitor_id": visitor, "session_id": visit,
        "email": text(invoice.get("customer_email")), "customer_id": _id(invoice.get("customer")),
        "renewal": invoice.get("billing_reason") == "subscription_cycle", "refunded": False,
        "timestamp": (iso_from_unix(transitions.get("paid_at"), "data.object.status_transitions.paid_at")
                      or created),
    }])


def _payment_intent(event_type: str, intent: dict, created: str | None) -> Delivery:
    intent_id = required_text(intent, "id", "data.object")
    invoice = _id(intent.get("invoice"))
    if invoice:
        return Delivery(event_type, ignored=f"{event_type} (recorded with its invoice {invoice})")
    if intent.get("description") in _SUBSCRIPTION_INTENT_DESCRIPTIONS:
        return Delivery(event_type, ignored=f"{event_type} (a subscription invoice's payment; invoice.paid records it)")
    currency = required_currency(intent, "currency", "data.object")
    visitor, visit = visit_ids(intent.get("metadata"))
    return Delivery(event_type, [{
        "transaction_id": intent_id,
        "amount": major(intent.get("amount_received", intent.get("amount")) or 0, currency,
                        "data.object.amount_received"),
        "currency": currency, "visitor_id": visitor, "session_id": visit,
        "email": text(intent.get("receipt_email")), "customer_id": _id(intent.get("customer")),
        "renewal": False, "refunded": False,
        "timestamp": created or iso_from_unix(intent.get("created"), "data.object.created"),
    }])


def _charge_refunded(event_type: str, charge: dict, created: str | None) -> Delivery:
    charge_id = required_text(charge, "id", "data.object")
    currency = required_currency(charge, "currency", "data.object")
    refunds = charge.get("refunds") if isinstance(charge.get("refunds"), dict) else {}
    refund_times = [r.get("created") for r in refunds.get("data") or []
                    if isinstance(r, dict) and isinstance(r.get("created"), int)]
    billing = charge.get("billing_details") if isinstance(charge.get("billing_details"), dict) else {}
    visitor, visit = visit_ids(charge.get("metadata"))
    amount = charge.get("amount_refunded")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise MalformedPayload("data.object.amount_refunded: must be a positive amount for charge.refunded")
    return Delivery(event_type, [{
        "transaction_id": _id(charge.get("invoice")) or _id(charge.get("payment_intent")) or charge_id,
        "amount": major(amount, currency, "data.object.amount_refunded"), "currency": currency,
        "visitor_id": visitor, "session_id": visit,
        "email": text(billing.get("email")) or text(charge.get("receipt_email")),
        "customer_id": _id(charge.get("customer")), "renewal": False, "refunded": True,
        "timestamp": (iso_from_unix(max(refund_times), "data.object.refunds.data.created") if refund_times
                      else created),
    }])


def _id(value: object) -> str | None:
    """An id field, whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return text(value)
