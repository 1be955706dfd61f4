"""Ingestion endpoints: `POST /api/events`, `GET /api/events.gif`, `POST /api/v1/events`.

`POST /api/events` is the hot path and is served as a bare ASGI endpoint, in front of
the Starlette app: request objects, routing and middleware cost a third of the time a
tracker hit may take. `postmetric.ingest.request` validates (msgspec), so no framework
validation is needed. The other two routes are ordinary Starlette routes sharing the
same steps.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Mapping

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send

from postmetric.errors import DomainError
from postmetric.ingest.event import Event
from postmetric.ingest.request import (
    MAX_BATCH_EVENTS,
    MAX_BODY_BYTES,
    parse_event,
    parse_query_params,
    parse_server_events,
)
from postmetric.ingest.sessions import SessionCacheUnavailable
from postmetric.ingest.writer import QueueFull, StoreUnavailable
from postmetric.web.client_ip import FORWARDING_HEADERS, client_ip
from postmetric.web.contract import ingest as contract
from postmetric.web.errors import INTERNAL_ERROR, HttpError, error_response, http_error
from postmetric.web.responses import CORS_HEADERS, json_response
from postmetric.web.services import Services, services_of

log = logging.getLogger(__name__)
EVENTS_PATH = "/api/events"
ACCEPTED = b'{"ok":true}'
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
JSON_TYPES = ("", "text/plain", "application/json")
# A server-side batch may carry up to 1,000 events, each within the single-event limit.
MAX_SERVER_BODY_BYTES = MAX_BATCH_EVENTS * MAX_BODY_BYTES

_HEADERS_READ = frozenset(
    {b"content-type", b"content-length", b"user-agent", *(name.encode() for name in FORWARDING_HEADERS)}
)
_CORS = [(b"access-control-allow-origin", b"*")]
_JSON = [(b"content-type", b"application/json"), *_CORS]
_PREFLIGHT = [
    *_CORS,
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"Content-Type"),
    (b"access-control-max-age", b"86400"),
]


class FastEventsEndpoint:
    """ASGI wrapper: serves `POST|OPTIONS /api/events` itself, passes the rest to `app`.

    `services` is set by the app's lifespan once they are built (reading it through
    Starlette's `State` on every request cost two microseconds).
    """

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.services: Services | None = None

    @property
    def state(self) -> State:
        return self.app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != EVENTS_PATH:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            await _send(send, 204, _PREFLIGHT, b"")
            return
        if scope["method"] != "POST":
            await _send(send, 405, [*_JSON, (b"allow", b"POST, OPTIONS")], b'{"error":"Method Not Allowed"}')
            return
        headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in _HEADERS_READ  # browsers send a dozen; these matter here
        }
        services = self.services
        try:
            check_body_headers(headers, MAX_BODY_BYTES)
            body = await _read_asgi_body(receive)
            ip = admit(services, scope["client"][0] if scope.get("client") else "", headers)
            event = parse_event(body, ip=ip, user_agent=headers.get("user-agent", ""), now=services.clock())
            await ingest(services, [event])
        except (HttpError, DomainError) as error:  # refused: nothing is stored
            refused = http_error(error)
            extra = [(k.lower().encode(), v.encode()) for k, v in refused.headers.items()]
            await _send(send, refused.status, _JSON + extra, orjson.dumps({"error": refused.message}))
            return
        except Exception:  # a bug, not the client's fault: log it, answer in JSON like the rest
            log.exception("unhandled error on POST %s", EVENTS_PATH)
            await _send(send, 500, _JSON, orjson.dumps({"error": INTERNAL_ERROR}))
            return
        if event.drop_reason is None:
            await _send(send, 202, _JSON, ACCEPTED)
        else:
            await _send(send, 202, _JSON + [(b"x-postmetric-dropped", event.drop_reason.value.encode())], ACCEPTED)


async def get_pixel(request: Request) -> Response:
    """`GET /api/events.gif?websiteId=…&type=…&href=…`: for no-script pages and emails."""
    services = services_of(request)
    try:
        ip = admit(services, _peer(request), request.headers)
        event = parse_query_params(request.query_params, ip=ip, user_agent=request.headers.get("user-agent", ""),
                                   now=services.clock())
        await ingest(services, [event])
    except (HttpError, DomainError) as error:  # answered with CORS, as the pixel is
        return error_response(error, CORS_HEADERS)
    headers = {**CORS_HEADERS, "Cache-Control": "no-store"}
    if event.drop_reason is not None:
        headers["X-Postmetric-Dropped"] = event.drop_reason.value
    return Response(PIXEL, 200, headers, media_type="image/gif")


async def post_server_events(request: Request) -> Response:
    """Server-side tracking with a site key; one event or an array, optional timestamp/ip/userAgent."""
    services = services_of(request)
    try:
        site_id = await _authenticated_site(services, request.headers)
        check_body_headers(request.headers, MAX_SERVER_BODY_BYTES)
        body = await read_body(request.stream(), MAX_SERVER_BODY_BYTES)
        ip = client_ip(_peer(request), request.headers, services.trusted_proxies)
        events = parse_server_events(body, ip=ip, user_agent=request.headers.get("user-agent", ""),
                                     now=services.clock())
        for index, event in enumerate(events):
            site = services.sites(event.site_public_id)
            if site is None or site.id != site_id:
                raise HttpError(404, f"event [{index}]: site {event.site_public_id!r} not found for this key")
        await ingest(services, events)
    except (HttpError, DomainError) as error:
        return error_response(error)
    dropped = [
        contract.DroppedEvent(index=i, reason=e.drop_reason.value) for i, e in enumerate(events)
        if e.drop_reason is not None
    ]
    return json_response(contract.ServerEventsAccepted(ok=True, accepted=len(events) - len(dropped), dropped=dropped),
                         202)


def check_body_headers(headers: Mapping[str, str], limit: int) -> None:
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise HttpError(415, f"Content-Type must be text/plain or application/json, not {content_type!r}")
    declared = headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HttpError(400, "Content-Length is not a number")
        if len(declared) > 15 or int(declared) > limit:  # int() of thousands of digits is refused
            raise HttpError(413, f"the request body is larger than {limit} bytes")


async def read_body(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    parts, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:  # chunked uploads declare no length: stop reading at the limit
            raise HttpError(413, f"the request body is larger than {limit} bytes")
        parts.append(chunk)
    if size == 0:
        raise HttpError(400, "the request body is empty; send one JSON event")
    return parts[0] if len(parts) == 1 else b"".join(parts)


def admit(services: Services, peer: str, headers: Mapping[str, str]) -> str:
    """The client's IP, once it is within its ingestion rate limit."""
    ip = client_ip(peer, headers, services.trusted_proxies)
    limiter = services.ingest_limiter
    if limiter is not None and not limiter.hit(ip):
        raise HttpError(429, "too many events from this address; slow down",
                        {"Retry-After": str(limiter.window_seconds)})
    return ip


async def ingest(services: Services, events: list[Event]) -> None:
    try:
        await services.ingestion.ingest(events)
    except QueueFull:
        raise HttpError(503, "too many events waiting to be written; retry shortly", {"Retry-After": "1"}) from None
    except StoreUnavailable as exc:
        raise HttpError(503, f"the event store could not write: {exc}", {"Retry-After": "5"}) from None
    except SessionCacheUnavailable as exc:
        raise HttpError(503, f"the visit cache (Redis) did not answer: {exc}", {"Retry-After": "5"}) from None


async def _authenticated_site(services: Services, headers: Mapping[str, str]) -> int:
    scheme, _, raw_key = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not raw_key.strip():
        raise HttpError(401, "send a site key as 'Authorization: Bearer <key>'")
    site_id = await run_in_threadpool(services.authenticate_site_key, raw_key.strip())
    if site_id is None:
        raise HttpError(401, "the API key is unknown or revoked")
    return site_id


async def _read_asgi_body(receive: Receive) -> bytes:
    message = await receive()
    if not message.get("more_body", False):  # the usual case: the whole body in one message
        body = message.get("body", b"")
        if not body:
            raise HttpError(400, "the request body is empty; send one JSON event")
        if len(body) > MAX_BODY_BYTES:
            raise HttpError(413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
        return body

    async def chunks() -> AsyncIterator[bytes]:
        current = message
        while True:
            yield current.get("body", b"")
            if not current.get("more_body", False):
                return
            current = await receive()
            if current["type"] == "http.disconnect":
                return

    return await read_body(chunks(), MAX_BODY_BYTES)


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _peer(request: Request) -> str:
    return request.client.host if request.client else ""


routes = [
    Route("/api/events.gif", get_pixel, methods=["GET"]),
    Route("/api/v1/events", post_server_events, methods=["POST"]),
]
