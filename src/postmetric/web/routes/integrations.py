"""The integrations API (issue 17): connect a site to GitHub, X or Search Console, see each sync's state,
sync now, disconnect.

`GET /api/v1/sites/{id}/integrations` → `{"integrations": [one per provider]}` (any member);
`PUT /api/v1/sites/{id}/integrations/{kind}` with the provider's connect body → the integration;
`POST …/{kind}/sync` → the integration after a sync run now (409 while another run holds it);
`DELETE …/{kind}?delete_data=true|false` → 204. Changes are for owners and admins. Tokens are write-only:
an integration says `has_token`, never the token.
"""

from __future__ import annotations

from datetime import datetime, timezone

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.errors import Conflict
from postmetric.integrations.connections import (
    IntegrationView,
    connect,
    disconnect,
    integration_of,
    list_integrations,
    parse_delete_data,
    provider_of,
)
from postmetric.sites.members import MANAGERS, require_role
from postmetric.store.metadata import Site
from postmetric.web.auth import Caller, api_endpoint, require_account_site
from postmetric.web.bodies import json_object
from postmetric.web.contract import integrations as contract
from postmetric.web.db import transaction
from postmetric.web.responses import iso_time, json_response
from postmetric.web.services import services_of


def integration_json(view: IntegrationView) -> contract.Integration:
    row = view.integration
    if row is None:
        return contract.Integration(kind=view.kind, label=view.label, connected=False, config={}, has_token=False,
                                    state=view.state, message=None, summary=None, last_synced_at=None,
                                    last_attempt_at=None, next_sync_at=None)
    return contract.Integration(
        kind=view.kind, label=view.label, connected=True, config=row.config, has_token=row.token is not None,
        state=view.state, message=row.message, summary=row.summary, last_synced_at=_time(row.last_synced_at),
        last_attempt_at=_time(row.last_attempt_at), next_sync_at=_time(row.next_sync_at))


@api_endpoint
async def get_integrations(request: Request, caller: Caller) -> Response:
    visible = await require_account_site(request, caller)
    providers = services_of(request).providers
    views = await transaction(request, lambda session: [
        integration_json(view) for view in list_integrations(session, session.get_one(Site, visible.id), providers)])
    return json_response(contract.Integrations(integrations=views))


@api_endpoint
async def put_integration(request: Request, caller: Caller) -> Response:
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "connect integrations")
    services = services_of(request)
    kind = request.path_params["kind"]
    provider_of(services.providers, kind)  # an unknown kind is 404 before the body is read
    body = await json_object(request)
    now = _now(request)
    view = await transaction(request, lambda session: integration_json(connect(
        session, session.get_one(Site, visible.id), services.providers, kind, body, box=services.secret_box,
        now=now)))
    return json_response(view)


@api_endpoint
async def post_sync(request: Request, caller: Caller) -> Response:
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "sync integrations")
    services = services_of(request)
    kind = request.path_params["kind"]
    view = await transaction(request, lambda session: integration_of(
        session, session.get_one(Site, visible.id), services.providers, kind))
    if view.integration is None:
        raise Conflict(f"{view.label} is not connected: connect it first")
    state = await run_in_threadpool(services.integrations.sync_now, view.integration.id, _now(request))
    if state is None:
        raise Conflict(f"a sync of {view.label} is running; its result shows here when it ends")
    view = await transaction(request, lambda session: integration_json(integration_of(
        session, session.get_one(Site, visible.id), services.providers, kind)))
    return json_response(view)


@api_endpoint
async def delete_integration(request: Request, caller: Caller) -> Response:
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "disconnect integrations")
    services = services_of(request)
    delete_data = parse_delete_data(request.query_params)
    await run_in_threadpool(disconnect, services.metadata, services.events, visible.id, services.providers,
                            request.path_params["kind"], delete_data=delete_data)
    return Response(status_code=204)


def _now(request: Request) -> datetime:
    return datetime.fromtimestamp(services_of(request).clock(), timezone.utc)


def _time(value: datetime | None) -> str | None:
    return None if value is None else iso_time(value)


routes = [
    Route("/api/v1/sites/{id}/integrations", get_integrations, methods=["GET"]),
    Route("/api/v1/sites/{id}/integrations/{kind}", put_integration, methods=["PUT"]),
    Route("/api/v1/sites/{id}/integrations/{kind}", delete_integration, methods=["DELETE"]),
    Route("/api/v1/sites/{id}/integrations/{kind}/sync", post_sync, methods=["POST"]),
]
