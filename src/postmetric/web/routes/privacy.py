"""The privacy API: erasure of a visitor or person, and export of a site's or a person's data.

Owners and admins of the site only (an account token or the dashboard session; a site key gets
403), as these reach every visitor's data. `{id}` is the site's public id or domain.

1. `DELETE /api/v1/sites/{id}/visitors/{visitor_id}` and `POST /api/v1/sites/{id}/erasures`
   `{"visitor_id" | "user_id" | "email": …}` erase (privacy/erasure.py) and answer the counts.
   `GET /api/v1/sites/{id}/erasures` lists the audit. The ingestion writer is flushed first, so acknowledged events of the person still waiting
   to be loaded are erased too, and its journal segment sealed, so that it is deleted once the
   next events are loaded; their cached visits are dropped after.
2. `GET /api/v1/sites/{id}/export` streams the site's zip of CSV files (privacy/export.py).
3. `GET /api/v1/sites/{id}/people/export?visitor_id=|user_id=|email=` is one person's data as JSON.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from postmetric.ingest.sessions import SessionCacheUnavailable
from postmetric.privacy.erasure import (
    Selector,
    erase,
    find_person,
    parse_selector,
    recent_erasures,
    record_erasure,
    selector,
)
from postmetric.privacy.export import person_export, site_export
from postmetric.sites.members import MANAGERS, require_role
from postmetric.web.auth import Caller, VisibleSite, api_endpoint, require_account_site
from postmetric.web.bodies import json_object
from postmetric.web.contract import privacy as contract
from postmetric.web.db import transaction
from postmetric.web.responses import iso_time, json_response
from postmetric.web.routes.accounts import now_of
from postmetric.web.services import services_of

log = logging.getLogger(__name__)
NO_STORE = {"Cache-Control": "no-store"}


async def _managed_site(request: Request, caller: Caller, action: str) -> VisibleSite:
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, action)
    return visible


async def _erase(request: Request, caller: Caller, site: VisibleSite, chosen: Selector) -> Response:
    services = services_of(request)

    def run():
        services.writer.flush_for_erasure()  # acknowledged rows not loaded yet must not come back after
        person = find_person(services.events, site.id, chosen)
        return person, erase(services.events, site.id, person)

    person, erasure = await run_in_threadpool(run)
    try:
        services.sessions.forget_visitors(site.id, person.visitor_ids, person.session_ids)
    except SessionCacheUnavailable:  # the cached visits expire with their keys, 35 minutes at most
        log.warning("erasure on site %d: the visit cache did not answer; its visits expire by themselves", site.id)

    def audit(session: Session) -> contract.Erasure:
        record = record_erasure(session, site_id=site.id, user_id=caller.user_id, selector=chosen, erasure=erasure,
                                secret_key=services.secret_key, now=now_of(request))
        return contract.Erasure(id=record.id, selector=chosen.kind, erased_at=iso_time(record.created_at),
                                **erasure.to_json())

    return json_response(await transaction(request, audit), headers=NO_STORE)


@api_endpoint
async def delete_visitor(request: Request, caller: Caller) -> Response:
    """`DELETE /api/v1/sites/{id}/visitors/{visitor_id}` → what was erased of that visitor (one device)."""
    site = await _managed_site(request, caller, "erase visitors")
    return await _erase(request, caller, site, selector("visitor_id", request.path_params["visitor_id"]))


@api_endpoint
async def post_erasure(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/sites/{id}/erasures {visitor_id | user_id | email}` → what was erased."""
    site = await _managed_site(request, caller, "erase visitors")
    return await _erase(request, caller, site, parse_selector(await json_object(request)))


@api_endpoint
async def get_erasures(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/erasures` → `{"erasures": [...]}`, the audit, newest first (the last 100)."""
    site = await _managed_site(request, caller, "see erasures")

    def load(session: Session) -> list[contract.ErasureRecord]:
        return [contract.ErasureRecord(
                    id=record.id, selector=record.selector, erased_by=email, erased_at=iso_time(record.created_at),
                    visitors=record.visitors, events=record.events, visits=record.visits,
                    identities=record.identities, payments_scrubbed=record.payments)
                for record, email in recent_erasures(session, site.id)]

    return json_response(contract.Erasures(erasures=await transaction(request, load)), headers=NO_STORE)


@api_endpoint
async def get_site_export(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/export` → a zip of events.csv, visits.csv and payments.csv, streamed."""
    site = await _managed_site(request, caller, "export data")
    services = services_of(request)
    await run_in_threadpool(services.writer.flush)  # the export holds every acknowledged event
    day = now_of(request).date().isoformat()
    filename = f"postmetric-{site.domain}-{day}.zip".replace('"', "")
    return StreamingResponse(site_export(services.events, site.id), media_type="application/zip",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE})


@api_endpoint
async def get_person_export(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/people/export?visitor_id=|user_id=|email=` → their data as JSON."""
    site = await _managed_site(request, caller, "export data")
    chosen = parse_selector(request.query_params)
    services = services_of(request)

    def run() -> dict:
        services.writer.flush()
        return person_export(services.events, site.id, find_person(services.events, site.id, chosen))

    return json_response({"selector": chosen.kind, **await run_in_threadpool(run)}, headers=NO_STORE)


routes = [
    Route("/api/v1/sites/{id}/visitors/{visitor_id}", delete_visitor, methods=["DELETE"]),
    Route("/api/v1/sites/{id}/erasures", post_erasure, methods=["POST"]),
    Route("/api/v1/sites/{id}/erasures", get_erasures, methods=["GET"]),
    Route("/api/v1/sites/{id}/export", get_site_export, methods=["GET"]),
    Route("/api/v1/sites/{id}/people/export", get_person_export, methods=["GET"]),
]
