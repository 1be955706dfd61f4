"""A site's Revenue settings (SPEC §6): each provider's webhook URL, secret set or not, last delivery.

`GET /api/v1/sites/{id}/revenue` (any member) and `PUT /api/v1/sites/{id}/revenue/{provider}`
`{"webhook_secret": "..."}` (owners and admins; "" or null clears it). Callers as for the sites
API: the dashboard session (CSRF header on changes) or an account token; a site key gets 403.
The secret is never part of an answer: only `secret_set`; it is stored sealed (`secrets_box.py`).
"""

from __future__ import annotations


from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.revenue.providers.settings import (
    ProviderStatus,
    provider_statuses,
    require_provider,
    set_webhook_secret,
)
from postmetric.sites.members import MANAGERS, require_role
from postmetric.web.auth import Caller, VisibleSite, api_endpoint, require_account_site
from postmetric.web.bodies import json_object
from postmetric.web.contract import revenue as contract
from postmetric.web.db import transaction
from postmetric.web.errors import HttpError
from postmetric.web.responses import iso_time, json_response
from postmetric.web.services import services_of


def webhook_url(request: Request, provider: str, public_id: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/api/webhooks/{provider}/{public_id}"


def provider_json(request: Request, site: VisibleSite, status: ProviderStatus) -> contract.ProviderSettings:
    last = None
    if status.last_delivery_at is not None:
        last = contract.LastDelivery(at=iso_time(status.last_delivery_at), event_type=status.last_event_type,
                                     result=status.last_result)
    return contract.ProviderSettings(
        provider=status.provider, webhook_url=webhook_url(request, status.provider, site.public_id),
        secret_set=status.secret_set, last_delivery=last)


@api_endpoint
async def get_revenue_settings(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/revenue` → `{"providers": [...]}`, stripe, lemonsqueezy, polar, paddle."""
    site = await require_account_site(request, caller)
    statuses = await transaction(request, lambda session: provider_statuses(session, site_id=site.id))
    return json_response(contract.ProvidersSettings(
        providers=[provider_json(request, site, status) for status in statuses]))


@api_endpoint
async def put_revenue_provider(request: Request, caller: Caller) -> Response:
    """`PUT /api/v1/sites/{id}/revenue/{provider} {"webhook_secret": …}` → that provider's settings."""
    site = await require_account_site(request, caller)
    provider = require_provider(request.path_params["provider"])
    require_role(site.role, MANAGERS, "change settings")
    body = await json_object(request)
    unknown = sorted(set(body) - {"webhook_secret"})
    if unknown:
        raise HttpError(400, f"{unknown[0]}: unknown field; send {{\"webhook_secret\": \"...\"}}")
    if "webhook_secret" not in body:
        raise HttpError(400, "webhook_secret: is required (\"\" or null clears it)")
    secret_box = services_of(request).secret_box
    status = await transaction(request, lambda session: set_webhook_secret(
        session, site_id=site.id, provider=provider, secret=body["webhook_secret"], secret_box=secret_box))
    return json_response(provider_json(request, site, status))


routes = [
    Route("/api/v1/sites/{id}/revenue", get_revenue_settings, methods=["GET"]),
    Route("/api/v1/sites/{id}/revenue/{provider}", put_revenue_provider, methods=["PUT"]),
]
