"""Who is calling the stats API, and which sites they may read (SPEC §8).

`Authorization: Bearer <key>`: a site key (`pmk_…`) reads its own site only; an account
token (`pmt_…`) reads the sites its user owns. `api_endpoint` wraps a route so it runs only
for a known caller, within the caller's rate limit.

Secondary responsibilities:
1. Rate limits per credential: every answer to an authenticated caller carries
   `X-RateLimit-Limit`, `-Remaining` and `-Reset`; over the limit, 429 with `Retry-After`.
2. Not leaking which sites exist: a site the caller may not read gets the same 404 as a site
   that does not exist, never a 403.
3. Keeping the event loop free: the metadata lookups run in the thread pool. They are not
   cached: a revoked key stops working at its next request.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from postmetric.accounts.keys import (
    ACCOUNT_TOKEN_PREFIX,
    SITE_KEY_PREFIX,
    authenticate_account_token,
    authenticate_site_key,
)
from postmetric.sites.service import get_site
from postmetric.web.responses import json_error

CHALLENGE = 'Bearer realm="postmetric"'
INVALID_TOKEN = 'Bearer realm="postmetric", error="invalid_token"'


class ApiError(Exception):
    """The request gets `status` with `{"error": message}`; raised anywhere below a route."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, dict(headers or {})


@dataclass(frozen=True, slots=True)
class Caller:
    """A live credential: a site key (`site_id` set) or an account token (`user_id` set)."""

    kind: str  # "site_key" | "account_token"
    credential_id: int
    site_id: int | None = None
    user_id: int | None = None

    @property
    def rate_key(self) -> str:
        return f"{self.kind}:{self.credential_id}"


@dataclass(frozen=True, slots=True)
class VisibleSite:
    """What the stats routes need of a site the caller may read."""

    id: int
    public_id: str
    domain: str
    timezone: str
    currency: str


Handler = Callable[[Request, Caller], Awaitable[Response]]


def api_endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The route for `handler`: authenticate, count against the rate limit, turn `ApiError` into JSON."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        services = request.app.state.services
        rate_headers: dict[str, str] = {}
        try:
            caller = await authenticate_request(services, request.headers)
            if services.api_limiter is not None:
                status = services.api_limiter.check(caller.rate_key)
                rate_headers = status.headers()
                if not status.allowed:
                    raise ApiError(429, f"too many requests for this key: {status.limit} per "
                                        f"{services.api_limiter.window_seconds} s; retry after "
                                        f"{status.retry_after} s")
            response = await handler(request, caller)
        except ApiError as error:
            return json_error(error.message, error.status, rate_headers | error.headers)
        response.headers.update(rate_headers)
        return response

    return endpoint


async def authenticate_request(services, headers: Mapping[str, str]) -> Caller:
    raw = bearer_key(headers)
    now = datetime.fromtimestamp(services.clock(), timezone.utc)
    caller = await run_in_threadpool(authenticate, services.metadata, raw, now=now)
    if caller is None:
        raise ApiError(401, "the API key is unknown or revoked", {"WWW-Authenticate": INVALID_TOKEN})
    return caller


def bearer_key(headers: Mapping[str, str]) -> str:
    """The raw key of `Authorization: Bearer <key>`; 401 saying what is wrong otherwise."""
    header = headers.get("authorization", "")
    if not header:
        raise ApiError(401, "send a site key or account token as 'Authorization: Bearer <key>'",
                       {"WWW-Authenticate": CHALLENGE})
    scheme, _, raw = header.partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw:
        raise ApiError(401, "the Authorization header must be 'Bearer <key>'", {"WWW-Authenticate": INVALID_TOKEN})
    if not raw.startswith((SITE_KEY_PREFIX, ACCOUNT_TOKEN_PREFIX)):
        raise ApiError(401, f"the API key is malformed: site keys start with {SITE_KEY_PREFIX}, "
                            f"account tokens with {ACCOUNT_TOKEN_PREFIX}", {"WWW-Authenticate": INVALID_TOKEN})
    return raw


def authenticate(sessions: sessionmaker[Session], raw: str, *, now: datetime) -> Caller | None:
    """The caller `raw` stands for, None if it is unknown or revoked (blocking: run it in a thread)."""
    with sessions() as session:
        caller = None
        if raw.startswith(SITE_KEY_PREFIX):
            key = authenticate_site_key(session, raw, now=now)
            if key is not None:
                caller = Caller("site_key", key.id, site_id=key.site_id)
        else:
            token = authenticate_account_token(session, raw, now=now)
            if token is not None:
                caller = Caller("account_token", token.id, user_id=token.user_id)
        session.commit()  # last_used_at
        return caller


async def require_site(request: Request, caller: Caller, ref: str | None) -> VisibleSite:
    """The site `ref` (public id or domain) if the caller may read it; without `ref`, a site key's own site.

    404 for a site the caller may not read, with the same message as for one that does not exist.
    """
    if ref is not None and not ref.strip():
        ref = None
    if ref is None and caller.site_id is None:
        raise ApiError(400, "site_id: is required with an account token: the site's public id or domain")
    site = await run_in_threadpool(visible_site, request.app.state.services.metadata, caller, ref)
    if site is None:
        raise ApiError(404, f"site_id: site {ref!r} not found")
    return site


def visible_site(sessions: sessionmaker[Session], caller: Caller, ref: str | None) -> VisibleSite | None:
    """The site `ref` if `caller` may read it (blocking: run it in a thread)."""
    with sessions() as session:
        site = get_site(session, ref if ref is not None else caller.site_id)
        if site is None:
            return None
        if caller.site_id is not None and site.id != caller.site_id:
            return None
        if caller.user_id is not None and site.owner_id != caller.user_id:
            return None
        return VisibleSite(site.id, site.public_id, site.domain, site.timezone, site.currency)
