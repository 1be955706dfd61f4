"""The OpenAPI paths of the provider webhooks and the Revenue settings (merged into `web/openapi.py`)."""

from __future__ import annotations

from typing import Any

from postmetric.revenue.providers import PROVIDERS
from postmetric.web.openapi_accounts import COOKIE, E400, E401, E403, E404, SITE_PARAM, _error, _op

JSON = "application/json"
R = "Revenue"
WEBHOOK_TAG = "Webhooks"
REVENUE_TAGS = [{"name": R}, {"name": WEBHOOK_TAG}]

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
_EVENTS: dict[str, Any] = {
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


def _webhook(provider: str) -> dict[str, Any]:
    verification, events = _VERIFICATION[provider]
    return {"post": {
        "tags": [WEBHOOK_TAG], "operationId": f"{provider}_webhook",
        "summary": f"Receive {provider} payment events for a site (set the secret in Revenue settings).",
        "description": f"Signed, not authenticated: {verification}. Events used: {events}; other types are "
                       "acknowledged and ignored. Each payment is recorded once per transaction, however often "
                       "it is delivered.",
        "parameters": [{"name": "site_public_id", "in": "path", "required": True, "schema": {"type": "string"},
                        "example": "pm_AbC123xyz987"}],
        "requestBody": {"required": True, "description": "The provider's event, as sent (abridged here).",
                        "content": {JSON: {"schema": {"type": "object"}, "example": _EVENTS[provider]}}},
        "responses": {
            "200": {"description": "Recorded (`duplicates` counts payments already recorded), or, for an event "
                                   "type not used, `{\"ok\": true, \"ignored\": \"<event type>\"}`.",
                    "content": {JSON: {"schema": {"type": "object"},
                                       "example": {"ok": True, "recorded": 1, "duplicates": 0}}}},
            "400": _error("No secret set for this provider, a stale timestamp, or a malformed event.",
                          f"{provider}: no webhook secret is set for this site; set it in the site's Revenue "
                          "settings"),
            "401": _error("Unsigned, or a signature that does not match the secret.",
                          "the signature does not match"),
            "404": _error("No site with this public id.", "site: no site with the id 'pm_x'"),
            "413": _error("Body over 1 MiB.", "body: larger than 1048576 bytes"),
        },
    }}


REVENUE_PATHS: dict[str, Any] = {
    "/api/v1/sites/{id}/revenue": {"get": _op(
        "get_revenue_settings", "Each provider's webhook URL, whether its secret is set, and its last delivery.",
        tag=R, params=[SITE_PARAM], ok=("200", {"providers": [PROVIDER_EXAMPLE]}),
        errors={**E401, **E403, **E404}, security=COOKIE,
        description="Providers in the order stripe, lemonsqueezy, polar, paddle. Secrets are never returned.")},
    "/api/v1/sites/{id}/revenue/{provider}": {"put": _op(
        "set_revenue_provider", "Set or clear a provider's webhook signing secret (owners and admins).",
        tag=R, body={"webhook_secret": "whsec_…"}, ok=("200", PROVIDER_EXAMPLE),
        errors={**E400, **E401, **E403, **E404},
        params=[SITE_PARAM, {"name": "provider", "in": "path", "required": True,
                             "schema": {"type": "string", "enum": list(PROVIDERS)}}],
        description="`\"\"` or `null` clears the secret (deliveries then get 400).")},
    **{f"/api/webhooks/{provider}/{{site_public_id}}": _webhook(provider) for provider in PROVIDERS},
}
