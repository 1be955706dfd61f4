"""Who is calling the API, and which sites they may read (SPEC §8).

Credentials, in the order they are looked for:
1. `Authorization: Bearer <key>`: a site key (`pmk_…`) reads its own site only; an account
   token (`pmt_…`) reads the sites its user is a member of.
2. A share link (`X-Postmetric-Share: <token>` or the `pm_share` cookie), only on the routes
   that allow it (`api_endpoint(share=True)`): reads that one site's stats.
3. The dashboard's `pm_session` cookie: the logged-in user, like an account token. Every
   state-changing request (POST/PUT/PATCH/DELETE) made with the cookie must carry the session's
   CSRF token in `X-CSRF-Token`; bearer requests are exempt (a browser never adds them by itself).

`api_endpoint` wraps a route so it runs only for a known caller, within the caller's rate limit.

Secondary responsibilities:
1. Rate limits per credential (per user for the session cookie): every answer to an
   authenticated caller carries `X-RateLimit-Limit`, `-Remaining` and `-Reset`; over the limit,
   429 with `Retry-After`.
2. Not leaking which sites exist: a site the caller may not read gets the same 404 as a site
   that does not exist, never a 403.
3. Keeping the event loop free: the metadata lookups run in the thread pool. They are not
   cached: a revoked key or ended session stops working at its next request.
4. Errors raised below a route become JSON (`web/errors.py`), with the rate limit headers.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
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
from postmetric.accounts.web_sessions import SESSION_LIFETIME, find_session
from postmetric.errors import DomainError
from postmetric.sites.service import get_site
from postmetric.sites.sharing import may_read, share_by_token
from postmetric.store.metadata import SiteMember
from postmetric.web.errors import HttpError, error_response
from postmetric.web.services import Services, services_of

CHALLENGE = 'Bearer realm="postmetric"'
INVALID_TOKEN = 'Bearer realm="postmetric", error="invalid_token"'
SESSION_COOKIE = "pm_session"
SHARE_COOKIE = "pm_share"
SHARE_HEADER = "x-postmetric-share"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


MAX_ID_DIGITS = 18  # every id of 18 digits fits a signed 64-bit column; longer ones name nothing


def path_id(request: Request, name: str, what: str) -> int:
    """The numeric id in the path parameter `name`; anything else is a 404 for that `what`."""
    text = request.path_params[name]
    if not text.isascii() or not text.isdigit() or len(text) > MAX_ID_DIGITS:
        raise HttpError(404, f"{name}: {what} {text[:40]!r} not found")
    return int(text)


@dataclass(frozen=True, slots=True)
class Caller:
    """A live credential: a site key or share link (`site_id` set), an account token or session (`user_id` set)."""

    kind: str  # "site_key" | "account_token" | "user_session" | "share"
    credential_id: int
    site_id: int | None = None
    user_id: int | None = None
    csrf_token: str | None = None  # user_session: what X-CSRF-Token must say
    refreshed_cookie: str | None = None  # user_session: the cookie to send again, its expiry moved

    @property
    def rate_key(self) -> str:
        if self.kind == "user_session":  # one budget per user, however many browsers
            return f"user:{self.user_id}"
        return f"{self.kind}:{self.credential_id}"


@dataclass(frozen=True, slots=True)
class VisibleSite:
    """What the stats routes need of a site the caller may read."""

    id: int
    public_id: str
    domain: str
    timezone: str
    currency: str
    role: str | None = None  # the user's role; None for site keys and share links


Handler = Callable[[Request, Caller], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def api_endpoint(handler: Handler | None = None, *, share: bool = False):
    """The route for `handler`: authenticate, count against the rate limit, turn errors into JSON.

    `share=True` also lets a share link in (for the read-only stats routes it may use).
    """
    if handler is None:
        return functools.partial(api_endpoint, share=share)

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        services = services_of(request)
        rate_headers: dict[str, str] = {}
        try:
            caller = await authenticate_request(services, request, share=share)
            check_csrf(request, caller)
            if services.api_limiter is not None:
                status = services.api_limiter.check(caller.rate_key)
                rate_headers = status.headers()
                if not status.allowed:
                    raise HttpError(429, f"too many requests for this key: {status.limit} per "
                                         f"{services.api_limiter.window_seconds} s; retry after "
                                         f"{status.retry_after} s")
            response = await handler(request, caller)
        except (HttpError, DomainError) as error:
            return error_response(error, rate_headers)
        response.headers.update(rate_headers)
        if caller.refreshed_cookie is not None:
            set_session_cookie(request, response, caller.refreshed_cookie)
        return response

    endpoint.accepts_share = share
    return endpoint


def accepts_share(endpoint: object) -> bool:
    """Whether a route's endpoint lets share links in: what a public dashboard can reach."""
    return getattr(endpoint, "accepts_share", False) is True


def public_endpoint(handler: Endpoint) -> Endpoint:
    """A route without credentials (signup, login); its errors are answered by the app's handler.

    A state-changing one must come from the dashboard itself (`check_same_origin`): with no
    session there is no CSRF token to ask for.
    """

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        if request.method not in SAFE_METHODS:
            check_same_origin(request)
        return await handler(request)

    return endpoint


async def authenticate_request(services: Services, request: Request, *, share: bool = False) -> Caller:
    """The caller behind the request's credentials (see the module docstring for the order); 401 if none."""
    now = datetime.fromtimestamp(services.clock(), timezone.utc)
    headers = request.headers
    if "authorization" not in headers:
        # An explicit share header wins over the session: a logged-in user may be viewing a share link.
        share_token = headers.get(SHARE_HEADER)
        raw_session = request.cookies.get(SESSION_COOKIE)
        if share and not share_token and not raw_session:
            share_token = _share_cookie(request)[0]
        if share and share_token:
            caller = await run_in_threadpool(authenticate_share, services.metadata, share_token,
                                             _share_cookie(request), secret_key=services.secret_key)
            if caller is None:
                raise HttpError(401, "the share link is disabled, changed or needs its password")
            return caller
        if raw_session:
            caller = await run_in_threadpool(authenticate_session, services.metadata, raw_session, now=now)
            if caller is None:
                raise HttpError(401, "the session has ended; log in again")
            return caller
    raw = bearer_key(headers)
    caller = await run_in_threadpool(authenticate, services.metadata, raw, now=now)
    if caller is None:
        raise HttpError(401, "the API key is unknown or revoked", {"WWW-Authenticate": INVALID_TOKEN})
    return caller


def check_csrf(request: Request, caller: Caller) -> None:
    """403 for a state-changing cookie request without the session's CSRF token (the one rule for all routes)."""
    if caller.kind != "user_session" or request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        raise HttpError(403, "csrf: send the session's csrf_token in the X-CSRF-Token header")
    if not hmac.compare_digest(sent.encode(), (caller.csrf_token or "").encode()):
        raise HttpError(403, "csrf: the X-CSRF-Token header does not match this session")


def check_same_origin(request: Request) -> None:
    """Refuse what another site's page could make a browser send (login CSRF, signups in a victim's name).

    1. The body must be declared `application/json`: a cross-origin form or `fetch` without a CORS
       preflight can only send `text/plain`, form or multipart bodies.
    2. `Sec-Fetch-Site` and `Origin`, when the browser sends them, must name this instance: its
       `POSTMETRIC_BASE_URL` or the host the request was addressed to (any scheme: TLS may end at a
       proxy). Clients without them (curl, scripts) are not browsers a page can drive.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise HttpError(415, f"content-type: must be application/json, not {content_type or 'missing'!r}")
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise HttpError(403, f"origin: a {fetch_site} request may not do this; use this instance's own dashboard")
    origin = request.headers.get("origin")
    if origin is not None and not _is_own_origin(request, origin):
        raise HttpError(403, f"origin: {origin[:200]!r} is not this instance; use its own dashboard")


def _is_own_origin(request: Request, origin: str) -> bool:
    scheme, _, host = origin.strip().lower().partition("://")
    if scheme not in ("http", "https") or not host:
        return False  # "null" (sandboxed frames, file: pages) and anything odd
    base = services_of(request).settings.base_url.strip().lower().rstrip("/")
    return origin.strip().lower() == base or host == request.headers.get("host", "").strip().lower()


def set_session_cookie(request: Request, response: Response, raw: str) -> None:
    response.set_cookie(SESSION_COOKIE, raw, max_age=int(SESSION_LIFETIME.total_seconds()), path="/",
                        httponly=True, samesite="lax", secure=is_https(request))


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or services_of(request).settings.base_url.startswith("https")


def _share_cookie(request: Request) -> tuple[str | None, str | None]:
    """(token, proof) from the `pm_share` cookie, which holds "<token>.<proof>"."""
    token, _, proof = request.cookies.get(SHARE_COOKIE, "").partition(".")
    return token or None, proof or None


def bearer_key(headers: Mapping[str, str]) -> str:
    """The raw key of `Authorization: Bearer <key>`; 401 saying what is wrong otherwise."""
    header = headers.get("authorization", "")
    if not header:
        raise HttpError(401, "send a site key or account token as 'Authorization: Bearer <key>'",
                        {"WWW-Authenticate": CHALLENGE})
    scheme, _, raw = header.partition(" ")
    raw = raw.strip()
    if scheme.lower() != "bearer" or not raw:
        raise HttpError(401, "the Authorization header must be 'Bearer <key>'", {"WWW-Authenticate": INVALID_TOKEN})
    if not raw.startswith((SITE_KEY_PREFIX, ACCOUNT_TOKEN_PREFIX)):
        raise HttpError(401, f"the API key is malformed: site keys start with {SITE_KEY_PREFIX}, "
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


def authenticate_session(sessions: sessionmaker[Session], raw: str, *, now: datetime) -> Caller | None:
    """The user behind a `pm_session` cookie value, None if the session ended (blocking)."""
    with sessions() as session:
        found = find_session(session, raw, now=now)
        session.commit()  # sliding expiry, or the expired row deleted
        if found is None:
            return None
        web_session, refreshed = found
        return Caller("user_session", web_session.id, user_id=web_session.user_id,
                      csrf_token=web_session.csrf_token, refreshed_cookie=raw if refreshed else None)


def authenticate_share(
    sessions: sessionmaker[Session], token: str, cookie: tuple[str | None, str | None], *, secret_key: str
) -> Caller | None:
    """A read-only caller for the shared site, None if the link is off or its password was not given."""
    with sessions() as session:
        share = share_by_token(session, token)
        proof = cookie[1] if cookie[0] == token else None
        if share is None or not may_read(share, proof, secret_key):
            return None
        return Caller("share", share.site_id, site_id=share.site_id)


def account_user_id(caller: Caller, manages: str = "sites") -> int:
    """The caller's account; a site key or share link (which only read stats) gets a 403."""
    if caller.user_id is None:
        raise HttpError(403, f"credential: site keys read stats; manage {manages} with an account token or the dashboard")
    return caller.user_id


async def require_account_site(request: Request, caller: Caller, manages: str = "sites") -> VisibleSite:
    """The site of the path's `{id}`, for an account (a session or an account token) that may read it."""
    account_user_id(caller, manages)
    return await require_site(request, caller, request.path_params["id"])


async def chart_reader_site(request: Request, caller: Caller) -> VisibleSite:
    """The path's `{id}` site for what its chart shows (annotations): a member's, or the share link's own site;
    a site key (which reads stats only) gets 403."""
    if caller.kind != "share":
        account_user_id(caller, "annotations")
    return await require_site(request, caller, request.path_params["id"])


async def require_site(request: Request, caller: Caller, ref: str | None) -> VisibleSite:
    """The site `ref` (public id or domain) if the caller may read it; without `ref`, a site key's own site.

    404 for a site the caller may not read, with the same message as for one that does not exist.
    """
    if ref is not None and not ref.strip():
        ref = None
    if ref is None and caller.site_id is None:
        raise HttpError(400, "site_id: is required with an account token: the site's public id or domain")
    site = await run_in_threadpool(visible_site, services_of(request).metadata, caller, ref)
    if site is None:
        raise HttpError(404, f"site_id: site {ref!r} not found")
    return site


def visible_site(sessions: sessionmaker[Session], caller: Caller, ref: str | None) -> VisibleSite | None:
    """The site `ref` if `caller` may read it (blocking: run it in a thread)."""
    with sessions() as session:
        site = get_site(session, ref if ref is not None else caller.site_id)
        if site is None:
            return None
        if caller.site_id is not None and site.id != caller.site_id:
            return None
        role = None
        if caller.user_id is not None:
            role = session.scalar(
                select(SiteMember.role).where(SiteMember.site_id == site.id, SiteMember.user_id == caller.user_id)
            )
            if role is None:
                return None
        return VisibleSite(site.id, site.public_id, site.domain, site.timezone, site.currency, role)
