"""GET /api/v1/sites/{id}/revenue and PUT …/revenue/{provider}: webhook URLs, secrets set or not, last deliveries.

Members read, owners and admins change; a secret goes in and never comes back out.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

import orjson
import pytest

from postmetric.revenue.providers.settings import webhook_secret
from postmetric.sites.service import delete_site, get_site
from postmetric.store.metadata import RevenueProvider

from stats_api_support import bearer, create_tenant, member_token

SECRET = "whsec_5d1Xq0kZr3TnV8yQ2m4PaB7cLw9EsJ6h"
PROVIDERS = ["stripe", "lemonsqueezy", "polar", "paddle"]


@pytest.fixture
def tenant(client, settings, site):
    return create_tenant(settings, email="owner@example.com", domain="example.com")



def get(client, site, token):
    return client.get(f"/api/v1/sites/{site.public_id}/revenue", headers=bearer(token))


def put(client, site, token, provider, body):
    return client.put(f"/api/v1/sites/{site.public_id}/revenue/{provider}", json=body, headers=bearer(token))


def test_every_provider_is_listed_with_its_webhook_url_and_nothing_set(client, site, tenant):
    response = get(client, site, tenant.token)
    assert response.status_code == 200
    assert response.json() == {"providers": [
        {"provider": name, "webhook_url": f"http://testserver/api/webhooks/{name}/{site.public_id}",
         "secret_set": False, "last_delivery": None} for name in PROVIDERS]}


def test_a_secret_is_set_never_echoed_and_cleared_with_empty_or_null(client, site, tenant):
    response = put(client, site, tenant.token, "stripe", {"webhook_secret": f"  {SECRET}\n"})
    assert response.status_code == 200
    assert response.json() == {"provider": "stripe",
                               "webhook_url": f"http://testserver/api/webhooks/stripe/{site.public_id}",
                               "secret_set": True, "last_delivery": None}
    listing = get(client, site, tenant.token)
    assert [p["secret_set"] for p in listing.json()["providers"]] == [True, False, False, False]
    for answer in (response, listing):
        assert SECRET not in answer.text and "whsec_" not in answer.text
    services = client.app.state.services
    with services.metadata() as session:  # kept sealed, opened as given (an HMAC key), trimmed
        assert webhook_secret(session, site_id=site.id, provider="stripe", secret_box=services.secret_box) == SECRET
    for cleared in ("", None):
        put(client, site, tenant.token, "stripe", {"webhook_secret": SECRET})
        response = put(client, site, tenant.token, "stripe", {"webhook_secret": cleared})
        assert response.status_code == 200 and response.json()["secret_set"] is False


@pytest.mark.parametrize(("body", "error"), [
    ({}, "webhook_secret: is required"),
    ({"webhook_secret": 42}, "webhook_secret: must be a string"),
    ({"webhook_secret": "x" * 256}, "webhook_secret: is longer than 255 characters"),
    ({"webhook_secret": "two words"}, "webhook_secret: must not contain spaces"),
    ({"webhook_secret": "s", "provider": "stripe"}, "provider: unknown field"),
])
def test_a_bad_body_is_a_400_naming_the_field(client, site, tenant, body, error):
    response = put(client, site, tenant.token, "stripe", body)
    assert response.status_code == 400 and response.json()["error"].startswith(error), response.text
    response = client.put(f"/api/v1/sites/{site.public_id}/revenue/stripe", content=b"[]",
                          headers=bearer(tenant.token))
    assert response.status_code == 400


def test_an_unknown_provider_or_site_is_404(client, site, tenant, settings):
    response = put(client, site, tenant.token, "paypal", {"webhook_secret": SECRET})
    assert response.status_code == 404 and "paypal" in response.json()["error"]
    stranger = create_tenant(settings, email="eve@example.net", domain="other.example.net")
    assert get(client, site, stranger.token).status_code == 404
    assert put(client, site, stranger.token, "stripe", {"webhook_secret": SECRET}).status_code == 404


def test_a_viewer_reads_but_cannot_change_and_an_admin_can(client, site, tenant):
    viewer = member_token(client, site, "vic@example.com", "viewer")
    admin = member_token(client, site, "adam@example.com", "admin")
    assert get(client, site, viewer).status_code == 200
    response = put(client, site, viewer, "stripe", {"webhook_secret": SECRET})
    assert (response.status_code, response.json()) == (403, {"error": "role: viewers cannot change settings"})
    assert get(client, site, viewer).json()["providers"][0]["secret_set"] is False
    assert put(client, site, admin, "polar", {"webhook_secret": SECRET}).json()["secret_set"] is True


def test_site_keys_and_anonymous_callers_are_refused(client, site):
    assert client.get(f"/api/v1/sites/{site.public_id}/revenue").status_code == 401
    response = client.get(f"/api/v1/sites/{site.public_id}/revenue", headers=bearer(site.key))
    assert response.status_code == 403 and response.json()["error"].startswith("credential:")


def test_the_dashboard_session_needs_its_csrf_header_to_change_a_secret(client, site):
    login = client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "correct horse"})
    csrf = login.json()["csrf_token"]
    path = f"/api/v1/sites/{site.public_id}/revenue/lemonsqueezy"
    assert client.put(path, json={"webhook_secret": SECRET}).status_code == 403
    response = client.put(path, json={"webhook_secret": SECRET}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200 and response.json()["secret_set"] is True
    assert client.get(f"/api/v1/sites/{site.public_id}/revenue").status_code == 200


def test_the_last_delivery_is_shown_without_the_secret(client, site, tenant, clock):
    put(client, site, tenant.token, "stripe", {"webhook_secret": SECRET})
    body = orjson.dumps({"id": "evt_1", "object": "event", "type": "customer.created", "created": int(clock.now),
                         "data": {"object": {"id": "cus_1", "object": "customer"}}})
    at = int(clock.now)
    signature = hmac.new(SECRET.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    response = client.post(f"/api/webhooks/stripe/{site.public_id}", content=body,
                           headers={"Stripe-Signature": f"t={at},v1={signature}"})
    assert response.json() == {"ok": True, "ignored": "customer.created"}
    listing = get(client, site, tenant.token)
    stripe = listing.json()["providers"][0]
    assert stripe["last_delivery"] == {
        "at": datetime.fromtimestamp(clock.now, timezone.utc).isoformat().replace("+00:00", "Z"),
        "event_type": "customer.created", "result": "ignored: customer.created"}
    assert SECRET not in listing.text
    # Deleting the site takes its provider settings along.
    with client.app.state.services.metadata() as session:
        delete_site(session, get_site(session, site.public_id))
        session.commit()
        assert session.query(RevenueProvider).count() == 0
