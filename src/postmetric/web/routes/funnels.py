"""The funnels API (SPEC §7): a site's funnel definitions and a funnel's results.

- `GET /api/v1/sites/{id}/funnels` → `{"funnels": [funnel…]}` and `GET …/funnels/{funnel_id}` → the
  funnel: anyone who may read the site's stats (members, its site keys, its share link).
- `POST /api/v1/sites/{id}/funnels {name, steps}` → 201 the funnel; `PUT …/{funnel_id}` (the same
  body, all of it) → the funnel; `DELETE …/{funnel_id}` → 204: owners and admins, by the dashboard
  session (CSRF header) or an account token; viewers and site keys get 403.
- `GET /api/v1/funnels/{funnel_id}/results?date_range=30d&breakdown=visit:source&timezone=…&limit=100`
  → `{"funnel", "date_range": {"start", "end"}, "steps": [...], "breakdown"?: [{"value", "steps"}]}`
  (stats/funnels.py says what is counted): readable as the funnel's site's stats are.

A funnel is `{"id", "site_id": <public id>, "name", "steps": [{"type", "match", "label"}], "created_at",
"updated_at"}`. Another site's funnel is 404, as a missing one, and so is the funnel of a site the
caller cannot read. Results run in the thread pool, as stats queries do.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.sites.funnels import (
    create_funnel,
    delete_funnel,
    find_funnel,
    funnel_steps,
    get_funnel,
    list_funnels,
    replace_funnel,
)
from postmetric.sites.members import MANAGERS, require_role
from postmetric.sites.funnels import FunnelStep
from postmetric.stats.funnels import answer_funnel_query, parse_funnel_query
from postmetric.store.metadata import Funnel, Site
from postmetric.web.auth import (
    Caller,
    VisibleSite,
    api_endpoint,
    path_id,
    require_account_site,
    require_site,
)
from postmetric.web.bodies import json_object
from postmetric.web.contract import goals as contract
from postmetric.web.db import transaction
from postmetric.web.errors import HttpError
from postmetric.web.responses import iso_time, json_response
from postmetric.web.services import services_of



def funnel_json(funnel: Funnel, site_public_id: str) -> contract.Funnel:
    return contract.Funnel(
        id=funnel.id, site_id=site_public_id, name=funnel.name,
        steps=[contract.FunnelStep(type=s["type"], match=s["match"], label=s.get("label")) for s in funnel.steps],
        created_at=iso_time(funnel.created_at), updated_at=iso_time(funnel.updated_at))


async def _managed_site(request: Request, caller: Caller) -> VisibleSite:
    site = await require_account_site(request, caller, "funnels")
    require_role(site.role, MANAGERS, "change funnels")
    return site


@api_endpoint(share=True)
async def get_funnels(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/funnels` → `{"funnels": [...]}` in the order they were made."""
    site = await require_site(request, caller, request.path_params["id"])
    funnels = await transaction(request, lambda session: [
        funnel_json(funnel, site.public_id) for funnel in list_funnels(session, session.get_one(Site, site.id))])
    return json_response(contract.Funnels(funnels=funnels))


@api_endpoint(share=True)
async def get_funnel_route(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/funnels/{funnel_id}` → the funnel."""
    site = await require_site(request, caller, request.path_params["id"])
    funnel_id = path_id(request, "funnel_id", "funnel")
    funnel = await transaction(request, lambda session: funnel_json(
        get_funnel(session, session.get_one(Site, site.id), funnel_id), site.public_id))
    return json_response(funnel)


@api_endpoint
async def post_funnel(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/sites/{id}/funnels {name, steps}` → 201 the funnel."""
    site = await _managed_site(request, caller)
    body = await json_object(request)
    funnel = await transaction(request, lambda session: funnel_json(
        create_funnel(session, session.get_one(Site, site.id), body), site.public_id))
    return json_response(funnel, 201)


@api_endpoint
async def put_funnel(request: Request, caller: Caller) -> Response:
    """`PUT /api/v1/sites/{id}/funnels/{funnel_id} {name, steps}` → the funnel redefined."""
    site = await _managed_site(request, caller)
    funnel_id = path_id(request, "funnel_id", "funnel")
    body = await json_object(request)
    funnel = await transaction(request, lambda session: funnel_json(
        replace_funnel(session, session.get_one(Site, site.id), funnel_id, body), site.public_id))
    return json_response(funnel)


@api_endpoint
async def delete_funnel_route(request: Request, caller: Caller) -> Response:
    """`DELETE /api/v1/sites/{id}/funnels/{funnel_id}` → 204."""
    site = await _managed_site(request, caller)
    funnel_id = path_id(request, "funnel_id", "funnel")
    await transaction(request, lambda session: delete_funnel(session, session.get_one(Site, site.id), funnel_id))
    return Response(status_code=204)


@api_endpoint(share=True)
async def get_funnel_results(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/funnels/{funnel_id}/results?date_range=…` → the funnel's steps over the range."""
    services = services_of(request)
    funnel_id = path_id(request, "funnel_id", "funnel")
    not_found = HttpError(404, f"funnel_id: funnel {funnel_id} not found")

    def load(session: Session) -> tuple[contract.Funnel, tuple[FunnelStep, ...], str] | None:
        funnel = find_funnel(session, funnel_id)
        if funnel is None:
            return None
        public_id = session.get_one(Site, funnel.site_id).public_id
        return funnel_json(funnel, public_id), funnel_steps(funnel), public_id

    found = await transaction(request, load)
    if found is None:
        raise not_found
    funnel, steps, public_id = found
    try:
        site = await require_site(request, caller, public_id)
    except HttpError as error:
        if error.status == 404:  # a funnel of a site the caller cannot read does not exist for them
            raise not_found from None
        raise
    now = datetime.fromtimestamp(services.clock(), timezone.utc)
    query = parse_funnel_query(request.query_params, site_timezone=site.timezone, now=now)
    answer = await run_in_threadpool(answer_funnel_query, services.events, steps, query, site_id=site.id)
    return json_response({"funnel": funnel, **answer})


routes = [
    Route("/api/v1/sites/{id}/funnels", get_funnels, methods=["GET"]),
    Route("/api/v1/sites/{id}/funnels", post_funnel, methods=["POST"]),
    Route("/api/v1/sites/{id}/funnels/{funnel_id}", get_funnel_route, methods=["GET"]),
    Route("/api/v1/sites/{id}/funnels/{funnel_id}", put_funnel, methods=["PUT"]),
    Route("/api/v1/sites/{id}/funnels/{funnel_id}", delete_funnel_route, methods=["DELETE"]),
    Route("/api/v1/funnels/{funnel_id}/results", get_funnel_results, methods=["GET"]),
]
