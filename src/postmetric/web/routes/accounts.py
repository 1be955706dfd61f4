"""The dashboard's account routes (SPEC §8): signup, login, logout, session, password reset, invitations,
account tokens.

Signup and login answer `{"user": {"id", "email"}, "csrf_token"}` and set the `pm_session`
cookie; the dashboard echoes `csrf_token` in `X-CSRF-Token` on every state-changing request.

Secondary responsibilities:
1. Login rate limits, per email and per client IP (`POSTMETRIC_LOGIN_RATE_LIMIT`).
2. Not telling who has an account: a password reset answers 202 for every address, and the
   mail is sent after the answer, so its timing says nothing either.
3. Who may sign up (`POSTMETRIC_SIGNUP`, accounts/signup.py); the routes without a session take
   JSON from this instance's own pages only (`public_endpoint`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.accounts.password_reset import confirm_reset, request_reset
from postmetric.accounts.keys import create_account_token, list_account_tokens, revoke_account_token
from postmetric.accounts.signup import sign_up, signup_policy
from postmetric.accounts.users import authenticate
from postmetric.accounts.web_sessions import end_session, start_session
from postmetric.sites.members import accept_invitation
from postmetric.store.metadata import AccountToken, User
from postmetric.web.auth import (
    SESSION_COOKIE,
    Caller,
    account_user_id,
    api_endpoint,
    path_id,
    public_endpoint,
    set_session_cookie,
)
from postmetric.web.bodies import decode_body, json_object
from postmetric.web.client_ip import client_ip
from postmetric.web.contract import accounts as contract
from postmetric.web.db import transaction
from postmetric.web.errors import HttpError
from postmetric.web.responses import iso_time, json_response
from postmetric.web.services import services_of

log = logging.getLogger(__name__)


def _logged_in(user: User, csrf_token: str) -> contract.SessionInfo:
    return contract.SessionInfo(user=contract.User(id=user.id, email=user.email), csrf_token=csrf_token)


def now_of(request: Request) -> datetime:
    return datetime.fromtimestamp(services_of(request).clock(), timezone.utc)


async def _answer_with_session(request: Request, user: User, status: int) -> Response:
    def start(session: Session) -> tuple[str, str]:
        web_session, raw = start_session(session, user=user, now=now_of(request))
        return web_session.csrf_token, raw

    csrf_token, raw = await transaction(request, start)
    response = json_response(_logged_in(user, csrf_token), status)
    set_session_cookie(request, response, raw)
    return response


@public_endpoint
async def get_signup(request: Request) -> Response:
    """`GET /api/v1/auth/signup` → `{"mode", "open", "reason"}`: may someone without an invitation sign up?"""
    mode = services_of(request).settings.signup
    policy = await transaction(request, lambda session: signup_policy(session, mode))
    return json_response(contract.SignupPolicy(**policy), headers={"Cache-Control": "no-store"})


@public_endpoint
async def signup(request: Request) -> Response:
    """`POST /api/v1/auth/signup {email, password, invitation?}` → 201, logged in; 403 saying why
    when `POSTMETRIC_SIGNUP` does not let this person in."""
    body = await decode_body(request, contract.SignupBody)
    email, password, invitation = body.email, body.password, body.invitation
    mode = services_of(request).settings.signup
    user = await transaction(request, lambda session: sign_up(
        session, mode=mode, email=email, password=password, invitation=invitation, now=now_of(request)))
    return await _answer_with_session(request, user, 201)


@public_endpoint
async def login(request: Request) -> Response:
    """`POST /api/v1/auth/login {email, password}` → 200, logged in; 401 for a wrong pair; 429 past the limit."""
    body = await decode_body(request, contract.LoginBody)
    email, password = body.email, body.password
    count_login_attempt(request, f"login-email:{email.strip().lower()}")
    user = await transaction(request, lambda session: authenticate(session, email=email, password=password))
    if user is None:
        raise HttpError(401, "email or password is wrong")
    return await _answer_with_session(request, user, 200)


def count_login_attempt(request: Request, key: str) -> None:
    """429 when `key` or the client's IP is past the login limit; every attempt counts."""
    services = services_of(request)
    limiter = services.login_limiter
    if limiter is None:
        return
    peer = request.client.host if request.client else ""
    ip = client_ip(peer, request.headers, services.trusted_proxies)
    for status in (limiter.check(key), limiter.check(f"login-ip:{ip}")):
        if not status.allowed:
            raise HttpError(429, f"too many attempts: {limiter.limit} per {limiter.window_seconds // 60} minutes; "
                                 f"retry after {status.retry_after} s", {"Retry-After": str(status.retry_after)})


@api_endpoint
async def logout(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/auth/logout` (CSRF) → 204; the session row is deleted."""
    raw = request.cookies.get(SESSION_COOKIE)
    if caller.kind != "user_session" or not raw:
        raise HttpError(400, "session: only a dashboard session can log out; revoke API keys instead")
    await transaction(request, lambda session: end_session(session, raw))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@api_endpoint
async def get_session(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/auth/session` → 200 `{"user", "csrf_token"}`; 401 without a live session."""
    if caller.kind != "user_session":
        raise HttpError(401, "session: no dashboard session; log in")
    user = await transaction(request, lambda session: session.get_one(User, caller.user_id))
    return json_response(_logged_in(user, caller.csrf_token),
                         headers={"Cache-Control": "no-store"})


@public_endpoint
async def post_password_reset(request: Request) -> Response:
    """`POST /api/v1/auth/password-reset {email}` → 202 for every address; 503 without SMTP."""
    services = services_of(request)
    if services.mailer is None:
        raise HttpError(503, "email is not configured on this instance (POSTMETRIC_SMTP_URL); "
                            "an administrator can set a password with the CLI")
    email = (await decode_body(request, contract.PasswordResetBody)).email
    count_login_attempt(request, f"reset-email:{email.strip().lower()}")
    found = await transaction(request, lambda session: request_reset(session, email=email, now=now_of(request)))
    response = Response(status_code=202)
    if found is not None:
        user, token = found
        link = f"{services.settings.base_url.rstrip('/')}/reset-password?token={token}"
        response.background = BackgroundTask(
            send_mail, services.mailer, to=user.email, subject="Reset your Postmetric password",
            text=f"Someone (hopefully you) asked to reset the password of {user.email}.\n\n"
                 f"Choose a new one within an hour at:\n{link}\n\nIf it was not you, ignore this mail.\n",
        )
    return response


@public_endpoint
async def confirm_password_reset(request: Request) -> Response:
    """`POST /api/v1/auth/password-reset/confirm {token, password}` → 204; the user's sessions end, their
    account tokens are revoked and their other reset links stop working."""
    body = await json_object(request)
    await transaction(request, lambda session: confirm_reset(
        session, token=body.get("token"), password=body.get("password"), now=now_of(request)))
    return Response(status_code=204)


@api_endpoint
async def post_accept_invitation(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/invitations/{token}/accept` → 200 `{"site_id", "role"}` for the invited user."""
    if caller.user_id is None:
        raise HttpError(403, "invitation: log in as the invited user to accept it")
    token = request.path_params["token"]

    def accept(session: Session) -> contract.AcceptedInvitation:
        member = accept_invitation(session, token=token, user=session.get_one(User, caller.user_id),
                                   now=now_of(request))
        return contract.AcceptedInvitation(site_id=member.site.public_id, role=member.role)

    return json_response(await transaction(request, accept))


# -- account tokens ------------------------------------------------------------------------


def _token_fields(token: AccountToken) -> dict:
    return {"id": token.id, "name": token.name, "prefix": token.prefix, "created_at": iso_time(token.created_at),
            "last_used_at": iso_time(token.last_used_at), "revoked_at": iso_time(token.revoked_at)}


@api_endpoint
async def get_tokens(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/tokens` → `{"tokens": […]}`: the account's tokens, revoked ones included, never a secret."""
    user_id = account_user_id(caller, "account tokens")
    return json_response(contract.AccountTokens(tokens=await transaction(request, lambda session: [
        contract.AccountToken(**_token_fields(token))
        for token in list_account_tokens(session, user=session.get_one(User, user_id))])))


@api_endpoint
async def post_token(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/tokens {name}` → 201 the token with its raw value in `token`, shown this once.

    Only from a dashboard session: a token that could mint tokens would outlive its own revocation.
    """
    if caller.kind != "user_session":
        raise HttpError(403, "credential: create account tokens from the dashboard (or `postmetric tokens create`)")
    name = (await decode_body(request, contract.NameBody)).name

    def create(session: Session) -> contract.NewAccountToken:
        token, raw = create_account_token(session, user=session.get_one(User, caller.user_id), name=name)
        return contract.NewAccountToken(**_token_fields(token), token=raw)

    return json_response(await transaction(request, create), 201)


@api_endpoint
async def delete_token(request: Request, caller: Caller) -> Response:
    """`DELETE /api/v1/tokens/{id}` → 204; the token stops working at once. Another account's is a 404."""
    user_id = account_user_id(caller, "account tokens")
    token_id = path_id(request, "id", "account token")
    await transaction(request, lambda session: revoke_account_token(
        session, user=session.get_one(User, user_id), token_id=token_id, now=now_of(request)))
    return Response(status_code=204)


def send_mail(mailer, *, to: str, subject: str, text: str) -> None:
    """Send one mail (blocking; runs in the thread pool). A failure is logged: the answer is already out."""
    try:
        mailer.send(to=to, subject=subject, text=text)
    except Exception:
        log.exception("could not send %r to %s", subject, to)


routes = [
    Route("/api/v1/auth/signup", get_signup, methods=["GET"]),
    Route("/api/v1/auth/signup", signup, methods=["POST"]),
    Route("/api/v1/auth/login", login, methods=["POST"]),
    Route("/api/v1/auth/logout", logout, methods=["POST"]),
    Route("/api/v1/auth/session", get_session, methods=["GET"]),
    Route("/api/v1/auth/password-reset", post_password_reset, methods=["POST"]),
    Route("/api/v1/auth/password-reset/confirm", confirm_password_reset, methods=["POST"]),
    Route("/api/v1/invitations/{token}/accept", post_accept_invitation, methods=["POST"]),
    Route("/api/v1/tokens", get_tokens, methods=["GET"]),
    Route("/api/v1/tokens", post_token, methods=["POST"]),
    Route("/api/v1/tokens/{id}", delete_token, methods=["DELETE"]),
]
