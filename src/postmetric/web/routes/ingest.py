"""Ingestion endpoints: `POST /api/events`, `GET /api/events.gif`, `POST /api/v1/events`.

Plain Starlette routes (no FastAPI validation layer): this is the hot path, and
`postmetric.ingest.request` already validates with msgspec.
"""

from __future__ import annotations

import base64

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.ingest.event import Event
from postmetric.ingest.request import (
    MAX_BATCH_EVENTS,
    MAX_BODY_BYTES,
    IngestError,
    parse_event,
    parse_query_params,
    parse_server_events,
)
from postmetric.ingest.writer import QueueFull, StoreUnavailable
from postmetric.web.client_ip import client_ip
from postmetric.web.responses import CORS_HEADERS, json_error, json_response

ACCEPTED = b'{"ok":true}'
PREFLIGHT_HEADERS = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
    "Access-Control-Max-Age": "86400",
}
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
PIXEL_HEADERS = {**CORS_HEADERS, "Cache-Control": "no-store"}
JSON_TYPES = ("", "text/plain", "application/json")
# A server-side batch may carry up to 1,000 events, each within the single-event limit.
MAX_SERVER_BODY_BYTES = MAX_BATCH_EVENTS * MAX_BODY_BYTES


class RequestRefused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def post_event(request: Request) -> Response:
    if request.method == "OPTIONS":
        return Response(status_code=204, headers=PREFLIGHT_HEADERS)
    services = request.app.state.services
    try:
        body = await _read_body(request, MAX_BODY_BYTES)
        ip = _client_ip_within_limit(request)
        event = parse_event(body, ip=ip, user_agent=_user_agent(request), now=services.clock())
        await _ingest(services, [event])
    except RequestRefused as refused:
        return refused.response
    except IngestError as exc:
        return json_error(exc.message, exc.status, CORS_HEADERS)
    if event.drop_reason is not None:
        return Response(
            ACCEPTED, 202, {**CORS_HEADERS, "X-Postmetric-Dropped": event.drop_reason.value},
            media_type="application/json",
        )
    return Response(ACCEPTED, 202, CORS_HEADERS, media_type="application/json")


async def get_pixel(request: Request) -> Response:
    services = request.app.state.services
    try:
        ip = _client_ip_within_limit(request)
        event = parse_query_params(request.query_params, ip=ip, user_agent=_user_agent(request),
                                   now=services.clock())
        await _ingest(services, [event])
    except RequestRefused as refused:
        return refused.response
    except IngestError as exc:
        return json_error(exc.message, exc.status, CORS_HEADERS)
    headers = dict(PIXEL_HEADERS)
    if event.drop_reason is not None:
        headers["X-Postmetric-Dropped"] = event.drop_reason.value
    return Response(PIXEL, 200, headers, media_type="image/gif")


async def post_server_events(request: Request) -> Response:
    """Server-side tracking with a site key; one event or an array, optional timestamp/ip/userAgent."""
    services = request.app.state.services
    try:
        site_id = await _authenticated_site(request)
        body = await _read_body(request, MAX_SERVER_BODY_BYTES)
        ip = client_ip(_peer(request), request.headers, services.settings.trusted_networks)
        events = parse_server_events(body, ip=ip, user_agent=_user_agent(request), now=services.clock())
        for index, event in enumerate(events):
            site = services.sites(event.site_public_id)
            if site is None or site.id != site_id:
                return json_error(f"event [{index}]: site {event.site_public_id!r} not found for this key", 404)
        await _ingest(services, events)
    except RequestRefused as refused:
        return refused.response
    except IngestError as exc:
        return json_error(exc.message, exc.status)
    dropped = [
        {"index": i, "reason": e.drop_reason.value} for i, e in enumerate(events) if e.drop_reason is not None
    ]
    return json_response({"ok": True, "accepted": len(events) - len(dropped), "dropped": dropped}, 202)


async def _ingest(services, events: list[Event]) -> None:
    try:
        await services.ingestion.ingest(events)
    except QueueFull:
        raise RequestRefused(
            json_error("too many events waiting to be written; retry shortly", 503,
                       {**CORS_HEADERS, "Retry-After": "1"})
        ) from None
    except StoreUnavailable as exc:
        raise RequestRefused(
            json_error(f"the event store could not write: {exc}", 503, {**CORS_HEADERS, "Retry-After": "5"})
        ) from None


async def _read_body(request: Request, limit: int) -> bytes:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise RequestRefused(json_error(
            f"Content-Type must be text/plain or application/json, not {content_type!r}", 415, CORS_HEADERS))
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise RequestRefused(json_error("Content-Length is not a number", 400, CORS_HEADERS))
        if int(declared) > limit:
            raise RequestRefused(_too_large(limit))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # chunked uploads declare no length: stop reading at the limit
            raise RequestRefused(_too_large(limit))
        chunks.append(chunk)
    if size == 0:
        raise RequestRefused(json_error("the request body is empty; send one JSON event", 400, CORS_HEADERS))
    return b"".join(chunks)


def _too_large(limit: int) -> Response:
    return json_error(f"the request body is larger than {limit} bytes", 413, CORS_HEADERS)


def _client_ip_within_limit(request: Request) -> str:
    services = request.app.state.services
    ip = client_ip(_peer(request), request.headers, services.settings.trusted_networks)
    limiter = services.ingest_limiter
    if limiter is not None and not limiter.hit(ip):
        raise RequestRefused(json_error(
            "too many events from this address; slow down", 429,
            {**CORS_HEADERS, "Retry-After": str(limiter.window_seconds)}))
    return ip


async def _authenticated_site(request: Request) -> int:
    services = request.app.state.services
    scheme, _, raw_key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw_key.strip():
        raise RequestRefused(json_error("send a site key as 'Authorization: Bearer <key>'", 401))
    site_id = await run_in_threadpool(services.authenticate_site_key, raw_key.strip())
    if site_id is None:
        raise RequestRefused(json_error("the API key is unknown or revoked", 401))
    return site_id


def _peer(request: Request) -> str:
    return request.client.host if request.client else ""


def _user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


routes = [
    Route("/api/events", post_event, methods=["POST", "OPTIONS"]),
    Route("/api/events.gif", get_pixel, methods=["GET"]),
    Route("/api/v1/events", post_server_events, methods=["POST"]),
]
