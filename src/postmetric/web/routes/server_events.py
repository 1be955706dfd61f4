"""Server-side goals and identification (SPEC §4): `POST /api/v1/goals`, `POST /api/v1/identify`.

A backend names a visitor (the `_pm_vid` cookie, or `postmetric.getVisitorId()` sent along),
not a page. The event goes through the ingestion pipeline and writer like a tracker hit, so
202 means it is committed; it joins the visitor's visit active in the last 30 minutes (same
session id, source, geo, device, on the visit's current page), else starts one of its own
(`ingest/sessions.py`).

`Authorization: Bearer <site key>` only, as for payments: the event belongs to the key's site.
Rate limits and error shapes are those of every `api_endpoint` (`web/auth.py`).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.ingest.event import Event
from postmetric.ingest.request import MAX_BODY_BYTES, parse_server_goal, parse_server_identify
from postmetric.web.auth import Caller, api_endpoint, require_site
from postmetric.web.contract import ingest as contract
from postmetric.web.errors import HttpError
from postmetric.web.responses import json_response
from postmetric.web.routes.ingest import check_body_headers, ingest, read_body
from postmetric.web.services import services_of

Parser = Callable[..., Event]


@api_endpoint
async def post_goal(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/goals`: `{visitor_id | datafast_visitor_id, name, props | metadata, timestamp?}`."""
    return await _track(request, caller, parse_server_goal)


@api_endpoint
async def post_identify(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/identify`: `{visitor_id, user_id?, email?, name?, ...}`, user_id or email required."""
    return await _track(request, caller, parse_server_identify)


async def _track(request: Request, caller: Caller, parse: Parser) -> Response:
    """202 `{ok, visitor_id, session_id}` once the event is committed."""
    services = services_of(request)
    if caller.kind != "site_key":
        raise HttpError(403, "authorization: goals and identify calls are sent with the site's key (pmk_…), "
                             "not an account token or a session")
    check_body_headers(request.headers, MAX_BODY_BYTES)
    body = await read_body(request.stream(), MAX_BODY_BYTES)
    site = await require_site(request, caller, None)
    event = parse(body, site_public_id=site.public_id, now=services.clock())
    await ingest(services, [event])
    if event.drop_reason is not None:  # an excluded IP or country, as for tracker events
        return json_response(contract.ServerEventAccepted(ok=True, visitor_id=event.client_visitor_id, session_id=None,
                                                          dropped=event.drop_reason.value), 202,
                             {"X-Postmetric-Dropped": event.drop_reason.value})
    return json_response(contract.ServerEventAccepted(ok=True, visitor_id=event.visit.visitor_id,
                                                      session_id=event.visit.session_id), 202)


routes = [
    Route("/api/v1/goals", post_goal, methods=["POST"]),
    Route("/api/v1/identify", post_identify, methods=["POST"]),
]
