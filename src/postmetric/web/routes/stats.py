"""The stats API (SPEC §5): the query endpoint, DataFast-style reports, realtime, visitor profiles.

Every route needs `Authorization: Bearer <site key | account token>` or the dashboard's session
cookie; the query and realtime routes also take a share link (`web/auth.py`). Each counts
against the caller's rate limit, and answers errors as `{"error": "<field>: <message>"}` (`web/errors.py`):
400 for a bad query or parameter, 401 for a missing or dead key, 404 for a site the caller
cannot see (exactly as for one that does not exist), 429 over the rate limit.

Queries run in the thread pool: the engine blocks for up to a few hundred milliseconds, and
the event loop is shared with ingestion.

A share link is a public dashboard: it gets aggregates, never a person. Its realtime answers
leave out the recent visitors (ids, and each one's page, source and country), and its queries
may not group or filter by custom properties other than the outbound link's URL: identify calls
store a person's email, name and user id as properties, and sites send them with goals too.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import anyio
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from postmetric.stats.parse import parse_query
from postmetric.stats.query import Filter, FilterExpression, Query
from postmetric.stats.realtime import realtime_snapshot
from postmetric.stats.visitors import parse_visitor_id, visitor_profile
from postmetric.web.analytics import REPORTS, run_report
from postmetric.web.auth import (
    Caller,
    VisibleSite,
    api_endpoint,
    authenticate_request,
    require_site,
    visible_site,
)
from postmetric.web.bodies import read_json
from postmetric.web.errors import HttpError
from postmetric.web.responses import json_response
from postmetric.web.services import Services, services_of

MAX_QUERY_BYTES = 64 * 1024
# Seconds between two frames of the realtime stream.
STREAM_INTERVAL_SECONDS = 5.0
NO_STORE = {"Cache-Control": "no-store"}
# The custom properties a share viewer may group or filter by: the shared dashboard's outbound links.
SHARED_PROPERTIES = frozenset({"event:props:url"})
# What a realtime snapshot says about individual visitors, left out for share viewers.
PERSONAL_REALTIME_FIELDS = ("recent_visitors",)


@api_endpoint(share=True)
async def post_query(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/query`: a SPEC §5 query in, the engine's answer out."""
    services = services_of(request)
    raw = await read_json(request, if_empty="body: is empty; send a JSON query", max_bytes=MAX_QUERY_BYTES)
    if not isinstance(raw, dict):
        raise HttpError(400, "query: must be a JSON object")
    ref = raw.get("site_id")
    if not isinstance(ref, str) or not ref.strip():
        raise HttpError(400, "site_id: is required: the site's public id or domain")
    site = await require_site(request, caller, ref)
    query = parse_query(raw, site_timezone=site.timezone, now=_now(services))
    if caller.kind == "share":
        _refuse_personal_properties(query)
    result = await run_in_threadpool(services.stats.run, query, site_id=site.id, currency=site.currency)
    return json_response(result)


def analytics_endpoint(report: str):
    @api_endpoint
    async def get_report(request: Request, caller: Caller) -> Response:
        """`GET /api/v1/analytics/<report>`: see `web/analytics.py` for parameters and shapes."""
        services = services_of(request)
        params = request.query_params
        site = await require_site(request, caller, params.get("site_id"))
        filters = [(name, value) for name, value in params.multi_items() if name.startswith("filter_")]
        body = await run_in_threadpool(run_report, services.stats, report, params, filters, site,
                                       now=_now(services))
        return json_response(body, headers=NO_STORE if report == "realtime" else None)

    get_report.__name__ = f"get_{report.replace('-', '_')}"
    return get_report


@api_endpoint(share=True)
async def get_realtime(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/realtime`: visitors in the last 5 minutes, top pages, sources, countries."""
    services = services_of(request)
    site = await require_site(request, caller, request.query_params.get("site_id"))
    snapshot = await run_in_threadpool(realtime_snapshot, services.stats, site, now=_now(services),
                                       events=services.events)
    return json_response(_visible_snapshot(caller, snapshot), headers=NO_STORE)


@api_endpoint(share=True)
async def get_realtime_stream(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/realtime/stream`: the realtime snapshot as Server-Sent Events.

    A `realtime` frame at once, then one every STREAM_INTERVAL_SECONDS, until the client goes
    away (Starlette cancels the generator) or the app shuts down (`services.stopping`). Before
    each later frame the key is checked again: a key revoked mid-stream gets an `error` frame and
    the stream ends, so an open stream never outlives its key (or session, or share link).
    """
    services = services_of(request)
    site = await require_site(request, caller, request.query_params.get("site_id"))

    async def frames():
        while True:
            snapshot = await run_in_threadpool(realtime_snapshot, services.stats, site, now=_now(services),
                                               events=services.events)
            yield _frame("realtime", _visible_snapshot(caller, snapshot))
            with anyio.move_on_after(STREAM_INTERVAL_SECONDS):
                await services.stopping.wait()
            if services.stopping.is_set():
                return
            gone = await _access_lost(services, request, site)
            if gone is not None:
                yield _frame("error", {"error": gone})
                return

    return StreamingResponse(frames(), media_type="text/event-stream",
                             headers={**NO_STORE, "X-Accel-Buffering": "no"})


@api_endpoint
async def get_visitor(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/visitors/{visitor_id}`: the visitor profile of `stats/visitors.py`."""
    services = services_of(request)
    text = request.path_params["visitor_id"]
    visitor_id = parse_visitor_id(text)
    if visitor_id is None:
        raise HttpError(400, f"visitor_id: {text!r} is not a visitor id (a UUID)")
    site = await require_site(request, caller, request.query_params.get("site_id"))
    profile = await run_in_threadpool(visitor_profile, services.events, site_id=site.id, visitor_id=visitor_id)
    if profile is None:
        raise HttpError(404, f"visitor_id: visitor {visitor_id!r} not found on this site")
    return json_response(profile)


def _refuse_personal_properties(query: Query) -> None:
    """400 for a share viewer's query that groups or filters by a property that may hold personal data."""
    for field, names in (("dimensions", query.dimensions), ("filters", _filter_dimensions(query.filters))):
        for name in names:
            if name.startswith("event:props:") and name not in SHARED_PROPERTIES:
                raise HttpError(400, f"{field}: {name} is not shown on a shared dashboard (custom properties may "
                                     f"hold personal data); only {', '.join(sorted(SHARED_PROPERTIES))} is")


def _filter_dimensions(filters: tuple[FilterExpression, ...]) -> list[str]:
    names = []
    for expression in filters:
        if isinstance(expression, Filter):
            names.append(expression.dimension)
        else:
            names.extend(_filter_dimensions(expression.children))
    return names


def _visible_snapshot(caller: Caller, snapshot: dict[str, Any]) -> dict[str, Any]:
    if caller.kind != "share":
        return snapshot
    return {name: value for name, value in snapshot.items() if name not in PERSONAL_REALTIME_FIELDS}


async def _access_lost(services: Services, request: Request, site: VisibleSite) -> str | None:
    """Why the request's credential can no longer read `site`, or None while it still can."""
    try:
        caller = await authenticate_request(services, request, share=True)
    except HttpError as error:
        return error.message
    if await run_in_threadpool(visible_site, services.metadata, caller, site.public_id) is None:
        return f"site_id: site {site.public_id!r} not found"
    return None


def _frame(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _now(services: Services) -> datetime:
    return datetime.fromtimestamp(services.clock(), timezone.utc)


routes = [
    Route("/api/v1/query", post_query, methods=["POST"]),
    *(Route(f"/api/v1/analytics/{report}", analytics_endpoint(report), methods=["GET"]) for report in REPORTS),
    Route("/api/v1/realtime", get_realtime, methods=["GET"]),
    Route("/api/v1/realtime/stream", get_realtime_stream, methods=["GET"]),
    Route("/api/v1/visitors/{visitor_id}", get_visitor, methods=["GET"]),
]
