"""Connect with Google (Search Console's OAuth 2 web flow), and the properties to choose from.

`GET /api/v1/sites/{id}/integrations/search_console/authorize` (owners and admins) → 302 to Google's
consent page for read-only Search Console access (offline, PKCE), with a signed `state` binding the
user, the site and 15 minutes (integrations/google_oauth.py). 409 when the server has no Google
OAuth client configured.

`GET /integrations/google/callback?code=&state=` → the code exchanged for a refresh token, stored
sealed as the site's Search Console connection, then 303 to the site's Settings → Integrations. A
forged or expired state, one started by another user (or without that user's dashboard session),
a user no longer managing the site, or a refusal at Google answers a plain 400 page and changes
nothing.

`GET /api/v1/sites/{id}/integrations/search_console/oauth` (owners and admins) → `{"configured": bool,
"redirect_uri"}`: whether "Connect with Google" is offered, and the redirect URI the OAuth client
must list.

`GET /api/v1/sites/{id}/integrations/search_console/properties` (owners and admins) →
`{"properties": [{"site_url", "permission_level"}]}`: what the stored authorization may read, for
the admin to choose (the choice is saved with `PUT …/integrations/search_console {"property"}`).
"""

from __future__ import annotations

import html
from datetime import datetime, timezone

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from postmetric.integrations import google_oauth
from postmetric.integrations.connections import integration_of
from postmetric.integrations.search_console import connect_with_google, list_properties
from postmetric.integrations.sync import RateLimited, SyncError, TokenRejected, default_http, token_context
from postmetric.secrets_box import SecretUnreadable, derive_key
from postmetric.sites.members import MANAGERS, require_role, role_of
from postmetric.store.metadata import Integration, Site
from postmetric.web.auth import SESSION_COOKIE, Caller, api_endpoint, authenticate_session, require_account_site
from postmetric.web.contract import search_console as contract
from postmetric.web.db import transaction
from postmetric.web.errors import HttpError
from postmetric.web.responses import json_response
from postmetric.web.services import Services, services_of

KIND = "search_console"
STATE_KEY_PURPOSE = "google oauth state v1"


def _state_key(services: Services) -> bytes:
    return derive_key(services.secret_key, purpose=STATE_KEY_PURPOSE)


def _now(services: Services) -> datetime:
    return datetime.fromtimestamp(services.clock(), timezone.utc)


@api_endpoint
async def authorize(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/integrations/search_console/authorize` → 302 to Google."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "connect integrations")
    services = services_of(request)
    if not google_oauth.oauth_configured(services.settings):
        raise HttpError(409, "Google sign-in is not configured on this server: set POSTMETRIC_GOOGLE_CLIENT_ID and "
                             "POSTMETRIC_GOOGLE_CLIENT_SECRET, or connect with a service account key")
    key = _state_key(services)
    state = google_oauth.sign_state(key, user_id=caller.user_id or 0, site_id=visible.id, now=_now(services))
    url = google_oauth.authorization_url(services.settings, state=state,
                                         verifier=google_oauth.code_verifier(key, state))
    return RedirectResponse(url, 302)


@api_endpoint
async def oauth_setup(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/integrations/search_console/oauth` → `{"configured", "redirect_uri"}`."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "connect integrations")
    settings = services_of(request).settings
    return json_response(contract.GoogleOAuthSetup(configured=google_oauth.oauth_configured(settings),
                                                   redirect_uri=google_oauth.redirect_uri(settings)))


def _refused(message: str, status: int = 400) -> HTMLResponse:
    page = ("<!doctype html><meta charset=utf-8><title>Search Console not connected</title>"
            "<body>"
            f"<h1>Search Console was not connected</h1><p>{html.escape(message)}</p>"
            "<p>Nothing was changed. Start again from the site's Settings → Integrations.</p></body>")
    return HTMLResponse(page, status, headers={"Cache-Control": "no-store"})


async def callback(request: Request) -> Response:
    """`GET /integrations/google/callback?code=&state=` → 303 to Settings → Integrations, or a 400 page."""
    services = services_of(request)
    params = request.query_params
    now = _now(services)
    state = params.get("state", "")
    opened = google_oauth.open_state(_state_key(services), state, now=now) if len(state) < 1000 else None
    if opened is None:
        return _refused("The sign-in answer is not one this server started, or it is older than 15 minutes.")
    if params.get("error"):
        return _refused(f"Google did not grant access ({params['error'][:100]}).")
    code = params.get("code", "")
    if not code or len(code) > 2000:
        return _refused("Google's answer has no authorization code.")
    raw_session = request.cookies.get(SESSION_COOKIE)
    caller = await run_in_threadpool(authenticate_session, services.metadata, raw_session, now=now) \
        if raw_session else None
    if caller is None or caller.user_id != opened.user_id:
        return _refused("This sign-in was started by another user, or your dashboard session ended: log in as "
                        "the user who clicked “Connect with Google”.")

    def manages(session) -> Site | None:
        site = session.get(Site, opened.site_id)
        if site is None:
            return None
        role = role_of(session, site_id=site.id, user_id=opened.user_id)
        return site if role in MANAGERS else None

    site = await transaction(request, manages)
    if site is None:
        return _refused("You no longer manage this site.")
    try:
        refresh_token = await run_in_threadpool(
            google_oauth.exchange_code, services.settings, code=code,
            verifier=google_oauth.code_verifier(_state_key(services), state), timeout=30.0)
    except SyncError as error:
        return _refused(str(error), 400 if isinstance(error, TokenRejected) else 502)
    public_id = await transaction(request, lambda session: connect_with_google(
        session, session.get_one(Site, opened.site_id), refresh_token, box=services.secret_box, now=now).public_id)
    return RedirectResponse(f"/sites/{public_id}/settings/integrations", 303, headers={"Cache-Control": "no-store"})


@api_endpoint
async def properties(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/integrations/search_console/properties` → `{"properties": [...]}`."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "connect integrations")
    services = services_of(request)
    view = await transaction(request, lambda session: integration_of(
        session, session.get_one(Site, visible.id), services.providers, KIND))
    row = view.integration
    if row is None or row.token is None:
        raise HttpError(409, "Search Console is not connected: connect with Google or give a service account key")
    context = token_context(visible.id, KIND)
    try:
        secret = services.secret_box.open(row.token, context=context)
    except SecretUnreadable:
        raise HttpError(409, "the stored Google authorization cannot be opened (the secret key changed): "
                             "connect again") from None
    auth, sealed_before = row.config.get("auth", ""), row.token

    def ask_google():
        with default_http() as http:
            return list_properties(services.settings, http, auth=auth, secret=secret, now=_now(services))

    try:
        found, rotated = await run_in_threadpool(ask_google)
    except RateLimited as error:
        raise HttpError(429, str(error)) from None
    except SyncError as error:
        raise HttpError(502 if error.state == "error" else 409, str(error)) from None
    if rotated is not None:
        await transaction(request, lambda session: _store_rotated(session, row.id, sealed_before,
                                                                  services.secret_box.seal(rotated, context=context)))
    return json_response(contract.SearchConsoleProperties(properties=[
        contract.SearchConsoleProperty(site_url=p.site_url, permission_level=p.permission_level) for p in found]))


def _store_rotated(session, integration_id: int, sealed_before: str, sealed: str) -> None:
    row = session.get(Integration, integration_id)
    if row is not None and row.token == sealed_before:  # not reconnected meanwhile
        row.token = sealed


routes = [
    Route("/api/v1/sites/{id}/integrations/search_console/authorize", authorize, methods=["GET"]),
    Route("/api/v1/sites/{id}/integrations/search_console/oauth", oauth_setup, methods=["GET"]),
    Route("/api/v1/sites/{id}/integrations/search_console/properties", properties, methods=["GET"]),
    Route(google_oauth.CALLBACK_PATH, callback, methods=["GET"]),
]
