"""Payments, customers, revenue settings and the provider webhooks: shapes, examples and paths."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from postmetric.revenue.providers import PROVIDERS
from postmetric.web.contract.accounts import Shape
from postmetric.web.contract.common import (
    API_ERRORS, BEARER, COOKIE, E400, E401, E403, E404, RATE_HEADERS, SITE_ID, SITE_PARAM, ok,
)
from postmetric.web.contract.operation import Answer, JsonObject, Operation, error

Uuid = Annotated[str, msgspec.Meta(extra_json_schema={"format": "uuid"})]

# -- the Payments API ----------------------------------------------------------------------


class PaymentBody(msgspec.Struct):
    """`amount` in major units (a number or a decimal string); `renewal` and `refunded` choose the kind."""

    transaction_id: Annotated[str, msgspec.Meta(max_length=255)]
    amount: float | Annotated[str, msgspec.Meta(max_length=40)]
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Za-z]{3}$")]
    visitor_id: Uuid | UnsetType = UNSET
    datafast_visitor_id: Uuid | UnsetType = UNSET
    session_id: Uuid | UnsetType = UNSET
    email: str | UnsetType = UNSET
    customer_id: str | UnsetType = UNSET
    renewal: bool | UnsetType = UNSET
    refunded: bool | UnsetType = UNSET
    timestamp: Annotated[str, msgspec.Meta(
        extra_json_schema={"format": "date-time",
                           "description": "When it was paid, 2000-01-01 … now + 1 day; now if left out."})
                         ] | UnsetType = UNSET


class Payment(Shape):
    """A payment of the ledger as the API shows it: amounts in major units as decimal strings."""

    transaction_id: str
    provider: str
    kind: str
    amount: str
    currency: str
    amount_minor: int
    reporting_amount: str | None
    reporting_currency: str | None
    timestamp: str
    customer_id: str | None
    email: str | None
    visitor_id: str | None
    session_id: str | None
    link_method: str | None


class PaymentRecorded(Shape):
    ok: bool
    payment: Payment


class Customer(Shape):
    customer: str
    person: str | None
    email: str | None
    customer_id: str | None
    visitor_id: str | None
    first_source: str | None
    first_channel: str | None
    revenue: float
    payments: int
    refunds: float
    first_payment_at: str | None
    last_payment_at: str | None


class CustomersMeta(Shape):
    currency: str
    total_rows: int


class Customers(Shape):
    results: list[Customer]
    meta: CustomersMeta


PAYMENT_EXAMPLE = {"transaction_id": "pi_3PXYZ", "amount": 29.99, "currency": "USD",
                   "visitor_id": "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10", "email": "ada@example.com",
                   "customer_id": "cus_123", "renewal": False, "refunded": False}
PAYMENT_RESPONSE_EXAMPLE = {
    "transaction_id": "pi_3PXYZ", "provider": "api", "kind": "new", "amount": "29.99", "currency": "USD",
    "amount_minor": 2999, "reporting_amount": "29.99", "reporting_currency": "USD",
    "timestamp": "2026-03-11T12:00:00Z", "customer_id": "cus_123", "email": "ada@example.com",
    "visitor_id": "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10", "session_id": None, "link_method": "metadata",
}
CUSTOMERS_EXAMPLE = {
    "results": [{"customer": "ada@example.com", "person": "user:u_42", "email": "ada@example.com",
                 "customer_id": "cus_123",
                 "visitor_id": "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10", "first_source": "Google",
                 "first_channel": "Organic Search", "revenue": 88, "payments": 2, "refunds": 10,
                 "first_payment_at": "2026-11-05T09:00:00Z", "last_payment_at": "2026-11-20T09:00:00Z"}],
    "meta": {"currency": "USD", "total_rows": 1},
}
NOT_A_SITE_KEY = {403: error("Not a site key.", "authorization: payments are recorded with the site's key (pmk_…), "
                                                "not an account token or a session")}

# -- Revenue settings and webhooks ---------------------------------------------------------


class LastDelivery(Shape):
    at: str
    event_type: str
    result: str


class ProviderSettings(Shape):
    provider: Literal[tuple(PROVIDERS)]  # type: ignore[valid-type]
    webhook_url: str
    secret_set: bool
    last_delivery: LastDelivery | None


class ProvidersSettings(Shape):
    providers: list[ProviderSettings]


class WebhookSecretBody(msgspec.Struct):
    """`""` or null clears the secret."""

    webhook_secret: str | None


class WebhookAnswer(Shape):
    """Recorded (`duplicates` counts payments already recorded), or `ignored`: an event type not used."""

    ok: bool
    recorded: int | UnsetType = UNSET
    duplicates: int | UnsetType = UNSET
    ignored: str | UnsetType = UNSET


PROVIDER_EXAMPLE = {
    "provider": "stripe", "webhook_url": "https://stats.example.com/api/webhooks/stripe/pm_AbC123xyz987",
    "secret_set": True,
    "last_delivery": {"at": "2026-11-26T10:00:00Z", "event_type": "checkout.session.completed",
                      "result": "recorded 1"},
}
_VERIFICATION = {
    "stripe": ("Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"t.body\">, one t=, 5 minutes tolerance",
               "checkout.session.completed, invoice.paid, payment_intent.succeeded, charge.refunded"),
    "lemonsqueezy": ("X-Signature: <hex HMAC-SHA256 of the body>; no timestamp, so replays count once",
                     "order_created, subscription_payment_success, order_refunded, subscription_payment_refunded"),
    "polar": ("Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature (v1,<base64>), 5 minutes",
              "order.paid, order.refunded"),
    "paddle": ("Paddle-Signature: ts=<unix>;h1=<hex HMAC-SHA256 of \"ts:body\">, one ts=, 5 minutes",
               "transaction.completed, adjustment.created, adjustment.updated (approved refunds)"),
}
_METADATA = {"postmetric_visitor_id": "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"}
WEBHOOK_EVENTS: dict[str, Any] = {  # one event per provider, abridged; tests record each through its parser
    "stripe": {"id": "evt_1Qb…", "object": "event", "type": "checkout.session.completed", "created": 1773230400,
               "data": {"object": {"id": "cs_live_a1B2…", "object": "checkout.session", "mode": "payment",
                                   "payment_status": "paid", "amount_total": 2999, "currency": "usd",
                                   "payment_intent": "pi_3Qb…", "customer": "cus_Rx…",
                                   "customer_details": {"email": "ada@example.com"}, "metadata": _METADATA}}},
    "lemonsqueezy": {"meta": {"event_name": "order_created", "custom_data": _METADATA},
                     "data": {"type": "orders", "id": "1542376", "attributes": {
                         "status": "paid", "total": 2975, "currency": "EUR", "customer_id": 3927451,
                         "user_email": "ada@example.com", "created_at": "2026-03-11T12:00:00.000000Z"}}},
    "polar": {"type": "order.paid", "timestamp": "2026-03-11T12:00:01Z", "data": {
        "id": "9f3c2b1a-…", "status": "paid", "paid": True, "total_amount": 5831, "currency": "eur",
        "billing_reason": "purchase", "checkout_id": "d4e5f6a7-…", "customer_id": "5a4b3c2d-…",
        "customer": {"email": "ada@example.com"}, "metadata": _METADATA, "created_at": "2026-03-11T12:00:00Z"}},
    "paddle": {"event_id": "evt_01jn…", "event_type": "transaction.completed", "occurred_at": "2026-03-11T12:00:02Z",
               "data": {"id": "txn_01jn…", "status": "completed", "origin": "web", "currency_code": "USD",
                        "customer_id": "ctm_01jn…", "billed_at": "2026-03-11T12:00:00Z",
                        "details": {"totals": {"grand_total": "3000", "currency_code": "USD"}},
                        "custom_data": _METADATA}},
}


def _webhook(provider: str) -> Operation:
    verification, events = _VERIFICATION[provider]
    return Operation(
        "post", f"/api/webhooks/{provider}/{{site_public_id}}", f"{provider}_webhook", "Webhooks",
        f"Receive {provider} payment events for a site (set the secret in Revenue settings).",
        {200: Answer("Recorded (`duplicates` counts payments already recorded), or, for an event type not used, "
                     "`{\"ok\": true, \"ignored\": \"<event type>\"}`.", WebhookAnswer,
                     {"ok": True, "recorded": 1, "duplicates": 0}),
         400: error("No secret set for this provider, a stale timestamp, or a malformed event.",
                    f"{provider}: no webhook secret is set for this site; set it in the site's Revenue settings"),
         401: error("Unsigned, or a signature that does not match the secret.", "the signature does not match"),
         404: error("No site with this public id.", "site: no site with the id 'pm_x'"),
         413: error("Body over 1 MiB.", "body: larger than 1048576 bytes")},
        description=f"Signed, not authenticated: {verification}. Events used: {events}; other types are "
                    "acknowledged and ignored. Each payment is recorded once per transaction, however often it is "
                    "delivered.",
        parameters=[{"name": "site_public_id", "in": "path", "required": True, "schema": {"type": "string"},
                     "example": "pm_AbC123xyz987"}],
        body=JsonObject, body_example=WEBHOOK_EVENTS[provider],
        body_description="The provider's event, as sent (abridged here).")


TAGS = [{"name": "Revenue"}, {"name": "Webhooks"}]
PAYMENT_OPERATIONS = [
    Operation("post", "/api/v1/payments", "record_payment", "Payments", "Record a payment from your backend.",
              {201: ok("Recorded.", PaymentRecorded, {"ok": True, "payment": PAYMENT_RESPONSE_EXAMPLE}),
               200: ok("Already recorded: the stored payment.", PaymentRecorded,
                       {"ok": True, "payment": PAYMENT_RESPONSE_EXAMPLE}),
               **NOT_A_SITE_KEY, **API_ERRORS},
              description="Site key only. `amount` is in major units (a number or a decimal string); `renewal` and "
                          "`refunded` choose the kind (an amount of 0 is a free trial); `visitor_id` and "
                          "`session_id` (or DataFast's `datafast_visitor_id`) link it to the visit. Idempotent on the "
                          "transaction id (a refund is its own entry): a second delivery answers 200 with the payment "
                          "already recorded and changes nothing.",
              security=BEARER, body=PaymentBody, body_example=PAYMENT_EXAMPLE),
    Operation("delete", "/api/v1/payments", "delete_payment", "Payments",
              "Remove a payment recorded with the Payments API (and its refund).",
              {204: Answer("Removed.", headers=RATE_HEADERS), **NOT_A_SITE_KEY, **API_ERRORS},
              security=BEARER, parameters=[{"name": "transaction_id", "in": "query", "required": True,
                                            "schema": {"type": "string"}, "example": "pi_3PXYZ"}]),
    Operation("get", "/api/v1/customers", "customers", "Payments", "Who paid in a date range, and how much.",
              {200: ok("The customers and the total count.", Customers, CUSTOMERS_EXAMPLE), **API_ERRORS},
              description="One row per customer over the payments in the range: the person the linked visitor is "
                          "identified as (`person`: `user:<id>`, else `email:<email>`; one user's devices are one "
                          "customer), else the payment's email, else customer id, else linked visitor. Net revenue in "
                          "the site currency (major units), new and renewal payment count, refunded amount, first and "
                          "last payment, and the source and channel of the person's first visit on any device. "
                          "Ordered by revenue, highest first.",
              security=BEARER, parameters=[
                  SITE_ID,
                  {"name": "date_range", "in": "query", "required": False, "schema": {"type": "string"},
                   "example": "30d", "description": "A query API range name (default `30d`) or `<start>,<end>` ISO "
                                                    "dates, in the site's time zone."},
                  {"name": "limit", "in": "query", "required": False,
                   "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}},
                  {"name": "offset", "in": "query", "required": False,
                   "schema": {"type": "integer", "minimum": 0, "default": 0}}]),
]
REVENUE_OPERATIONS = [
    Operation("get", "/api/v1/sites/{id}/revenue", "get_revenue_settings",
              "Revenue", "Each provider's webhook URL, whether its secret is set, and its last delivery.",
              {200: Answer("OK", ProvidersSettings, {"providers": [PROVIDER_EXAMPLE]}), **E401, **E403, **E404},
              security=COOKIE, parameters=[SITE_PARAM],
              description="Providers in the order stripe, lemonsqueezy, polar, paddle. Secrets are never returned."),
    Operation("put", "/api/v1/sites/{id}/revenue/{provider}", "set_revenue_provider",
              "Revenue", "Set or clear a provider's webhook signing secret (owners and admins).",
              {200: Answer("OK", ProviderSettings, PROVIDER_EXAMPLE), **E400, **E401, **E403, **E404},
              security=COOKIE, description="`\"\"` or `null` clears the secret (deliveries then get 400).",
              parameters=[SITE_PARAM, {"name": "provider", "in": "path", "required": True,
                                       "schema": {"type": "string", "enum": list(PROVIDERS)}}],
              body=WebhookSecretBody, body_example={"webhook_secret": "whsec_…"}),
    *(_webhook(provider) for provider in PROVIDERS),
]
