"""The OpenAPI paths of the account, sites, members, keys and sharing routes (merged into `web/openapi.py`)."""

from __future__ import annotations

from typing import Any

JSON = "application/json"
COOKIE = [{"sessionCookie": [], "csrfHeader": []}, {"bearerAuth": []}]
SESSION_ONLY = [{"sessionCookie": []}]

USER = {"id": 1, "email": "ada@example.com"}
LOGGED_IN = {"user": USER, "csrf_token": "kq3…"}
SITE = {
    "id": "pm_AbC123xyz987", "domain": "example.com", "name": "Example", "timezone": "Europe/Berlin",
    "currency": "EUR", "allowed_hostnames": [], "excluded_ips": [], "excluded_countries": [],
    "excluded_hostnames": [], "excluded_paths": [], "cookieless": False, "retention_days": None,
    "role": "owner", "created_at": "2026-11-26T10:00:00Z", "updated_at": "2026-11-26T10:00:00Z",
}
MEMBER = {"user_id": 2, "email": "bob@example.com", "role": "viewer", "created_at": "2026-11-26T10:00:00Z"}
INVITATION = {"id": 1, "email": "carol@example.com", "role": "admin", "created_at": "2026-11-26T10:00:00Z",
              "expires_at": "2026-12-03T10:00:00Z"}
KEY = {"id": 3, "name": "backend", "prefix": "pmk_Xy1z", "created_at": "2026-11-26T10:00:00Z",
       "last_used_at": None, "revoked_at": None}
SHARING = {"enabled": True, "url": "https://stats.example.com/share/Zk9…", "token": "Zk9…", "has_password": True}
SITE_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "The site's public id or domain."}


def _json(example: Any) -> dict[str, Any]:
    return {JSON: {"schema": {"type": "object"}, "example": example}}


def _error(description: str, example: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {
        "schema": {"$ref": "#/components/schemas/Error"}, "example": {"error": example}}}}


def _op(operation_id: str, summary: str, *, tag: str, ok: tuple[str, Any] | None, errors: dict[str, Any],
        body: Any = None, security: list | None = COOKIE, params: list | None = None,
        description: str | None = None) -> dict[str, Any]:
    status, example = ok if ok is not None else ("204", None)  # no example: an answer without a body
    operation: dict[str, Any] = {
        "tags": [tag], "operationId": operation_id, "summary": summary,
        "responses": {status: {"description": "OK", **({"content": _json(example)} if example is not None else {})},
                      **errors},
    }
    if description:
        operation["description"] = description
    if security is not None:
        operation["security"] = security
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    return operation


E400 = {"400": _error("A missing or invalid field; the message names it.", "timezone: 'Mars' is not an IANA time zone")}
E401 = {"401": _error("No session, account token or share access.", "the session has ended; log in again")}
E403 = {"403": _error("A cookie request without X-CSRF-Token, a site key (it only reads stats), or a role "
                      "that may not do this.",
                      "role: viewers cannot change settings")}
E404 = {"404": _error("The site does not exist or the caller is not a member (the same answer).",
                      "site_id: site 'pm_AbC123xyz987' not found")}
E409 = {"409": _error("Already exists.", "a site with domain 'example.com' already exists")}
E429 = {"429": _error("Too many attempts (POSTMETRIC_LOGIN_RATE_LIMIT); see Retry-After.",
                      "too many attempts: 10 per 15 minutes; retry after 600 s")}
E503 = {"503": _error("No SMTP server configured.", "email is not configured on this instance (POSTMETRIC_SMTP_URL)")}
SITE_ERRORS = {**E400, **E401, **E403, **E404}

A, S, T = "Accounts", "Sites", "Sharing"
ACCOUNT_TAGS = [{"name": A}, {"name": S}, {"name": T}]

E415 = {"415": _error("Not a JSON body (a cross-site form could send it).",
                      "content-type: must be application/json, not 'text/plain'")}
E403_ORIGIN = {"403": _error("Sent by another site's page (Origin or Sec-Fetch-Site).",
                             "origin: 'https://evil.example' is not this instance; use its own dashboard")}
BROWSER_ERRORS = {**E403_ORIGIN, **E415}
TOKEN = {"id": 4, "name": "CI", "prefix": "pmt_Ab3d", "created_at": "2026-11-26T10:00:00Z",
         "last_used_at": "2026-11-27T08:12:00Z", "revoked_at": None}

ACCOUNT_PATHS: dict[str, Any] = {
    "/api/v1/auth/signup": {
        "get": _op("signup_policy", "Whether someone without an invitation may sign up (POSTMETRIC_SIGNUP).",
                   tag=A, security=None, errors={},
                   ok=("200", {"mode": "invite", "open": False, "reason": "signup: this instance takes new "
                               "accounts by invitation only; ask a site's owner to invite you"})),
        "post": _op(
            "signup", "Create an account and log in (sets the pm_session cookie).", tag=A, security=None,
            body={"email": "ada@example.com", "password": "at least 10 characters", "invitation": "…"},
            ok=("201", LOGGED_IN),
            errors={**E400, **E409, **E415, "403": _error(
                "POSTMETRIC_SIGNUP does not let this person in, or another site's page sent it.",
                "signup: this instance takes new accounts by invitation only; ask a site's owner to invite you")},
            description="With POSTMETRIC_SIGNUP=invite (the default) only the first account signs up without "
                        "`invitation`, the token of a live invitation sent to `email`; `closed` refuses all.")},
    "/api/v1/auth/login": {"post": _op(
        "login", "Log in (sets the pm_session cookie).", tag=A, security=None,
        body={"email": "ada@example.com", "password": "…"}, ok=("200", LOGGED_IN),
        errors={**E400, "401": _error("Wrong pair.", "email or password is wrong"), **E429, **BROWSER_ERRORS})},
    "/api/v1/auth/logout": {"post": _op("logout", "End this session.", tag=A, security=SESSION_ONLY, ok=None,
                                        errors={**E401, **E403, "400": _error(
                                            "A credential other than the session cookie.",
                                            "session: only a dashboard session can log out; revoke API keys instead")})},
    "/api/v1/auth/session": {"get": _op("session", "Who is logged in, and the CSRF token for changes.", tag=A,
                                        security=SESSION_ONLY, ok=("200", LOGGED_IN), errors=E401)},
    "/api/v1/auth/password-reset": {"post": _op(
        "password_reset", "Mail a password reset link ({base_url}/reset-password?token=…, 1 hour, single use).",
        tag=A, security=None, body={"email": "ada@example.com"}, ok=("202", None),
        errors={**E400, **E429, **E503, **BROWSER_ERRORS},
        description="Answers 202 whether or not the address has an account.")},
    "/api/v1/auth/password-reset/confirm": {"post": _op(
        "password_reset_confirm", "Set a new password with the mailed token; ends every session of the user, "
        "revokes their account tokens and voids every other reset link.",
        tag=A, security=None, body={"token": "…", "password": "a new long password"}, ok=None,
        errors={**E400, **BROWSER_ERRORS})},
    "/api/v1/tokens": {
        "get": _op("list_tokens", "The account's tokens, revoked ones included; never their secrets.", tag=A,
                   ok=("200", {"tokens": [TOKEN]}), errors={**E401, **E403}),
        "post": _op("create_token", "A new account token; `token` holds its value, shown this once "
                    "(from a dashboard session only).", tag=A, security=SESSION_ONLY, body={"name": "CI"},
                    ok=("201", {**TOKEN, "last_used_at": None, "token": "pmt_…"}), errors={**E400, **E401, **E403}),
    },
    "/api/v1/tokens/{id}": {"delete": _op(
        "revoke_token", "Revoke one of the account's tokens; it stops working at once.", tag=A,
        params=[{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}], ok=None,
        errors={**E401, **E403, "404": _error("Not one of this account's tokens.", "account token 7 not found")})},
    "/api/v1/invitations/{token}/accept": {"post": _op(
        "accept_invitation", "Join a site with a mailed invitation (as the invited email's user).", tag=A,
        params=[{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
        ok=("200", {"site_id": "pm_AbC123xyz987", "role": "admin"}),
        errors={**E401, "403": _error("Invited another email.", "email: this invitation is for another email "
                                                                "address; log in as carol@example.com"),
                "404": _error("Unknown, used or expired.", "invitation 'this link' not found")})},
    "/api/v1/sites": {
        "get": _op("list_sites", "The sites the user is a member of, with their role.", tag=S,
                   ok=("200", {"sites": [SITE]}), errors={**E401, **E403}),
        "post": _op("create_site", "Create a site; the caller becomes its owner.", tag=S,
                    body={"domain": "example.com", "name": "Example", "timezone": "Europe/Berlin", "currency": "EUR"},
                    ok=("201", SITE), errors={**E400, **E401, **E403, **E409}),
    },
    "/api/v1/sites/{id}": {
        "get": _op("get_site", "A site with every setting.", tag=S, params=[SITE_PARAM], ok=("200", SITE),
                   errors={**E401, **E403, **E404}),
        "put": _op("update_site", "Change any subset of the settings (admins and owners), all or nothing.", tag=S,
                   params=[SITE_PARAM], body={"timezone": "UTC", "excluded_paths": ["/admin/*"]}, ok=("200", SITE),
                   errors={**SITE_ERRORS, **E409},
                   description="`retention_days`: 30 to 3650, or null to keep visits forever; older visits are "
                               "deleted within the hour, with their events and identities (payments stay)."),
        "delete": _op("delete_site", "Delete the site (owners only).", tag=S, params=[SITE_PARAM], ok=None,
                      errors=SITE_ERRORS,
                      description="Its events, visits, identities and payments are purged from the event store "
                                  "before the answer; its id is never given to another site."),
    },
    "/api/v1/sites/{id}/members": {
        "get": _op("list_members", "Members and open invitations.", tag=S, params=[SITE_PARAM],
                   ok=("200", {"members": [MEMBER], "invitations": [INVITATION]}), errors={**E401, **E403, **E404}),
        "post": _op("invite_member", "Invite by email (admins and owners; only owners invite owners).", tag=S,
                    params=[SITE_PARAM], body={"email": "carol@example.com", "role": "admin"},
                    ok=("201", {"invitation": INVITATION, "emailed": True}),
                    errors={**SITE_ERRORS, **E409},
                    description="The mail links to {base_url}/invitations/{token}. Without SMTP, `emailed` is "
                                "false and `url` holds the link to pass on."),
    },
    "/api/v1/sites/{id}/members/{user_id}": {
        "put": _op("change_member", "Change a member's role.", tag=S, params=[SITE_PARAM, {
            "name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            body={"role": "admin"}, ok=("200", MEMBER), errors=SITE_ERRORS),
        "delete": _op("remove_member", "Remove a member (a site keeps at least one owner).", tag=S,
                      params=[SITE_PARAM, {"name": "user_id", "in": "path", "required": True,
                                           "schema": {"type": "integer"}}], ok=None, errors=SITE_ERRORS),
    },
    "/api/v1/sites/{id}/keys": {
        "get": _op("list_keys", "The site's keys, revoked ones included (admins and owners).", tag=S,
                   params=[SITE_PARAM], ok=("200", {"keys": [KEY]}), errors=SITE_ERRORS),
        "post": _op("create_key", "A new site key; `key` is the raw value, shown this once.", tag=S,
                    params=[SITE_PARAM], body={"name": "backend"}, ok=("201", {**KEY, "key": "pmk_Xy1z…"}),
                    errors=SITE_ERRORS),
    },
    "/api/v1/sites/{id}/keys/{key_id}": {"delete": _op(
        "revoke_key", "Revoke a key; it stops working at once.", tag=S, params=[SITE_PARAM, {
            "name": "key_id", "in": "path", "required": True, "schema": {"type": "integer"}}], ok=None,
        errors=SITE_ERRORS)},
    "/api/v1/sites/{id}/sharing": {
        "get": _op("get_sharing", "The public share link.", tag=T, params=[SITE_PARAM], ok=("200", SHARING),
                   errors={**E401, **E403, **E404}),
        "put": _op("set_sharing", "Turn the share link on or off; set or remove (null) its password.", tag=T,
                   params=[SITE_PARAM], body={"enabled": True, "password": "optional"}, ok=("200", SHARING),
                   errors=SITE_ERRORS,
                   description="Turning sharing off and on makes a new link; changing the password ends old access."),
    },
    "/api/v1/share/{token}": {"get": _op(
        "share_info", "The shared site, for the public dashboard.", tag=T, security=[],
        params=[{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
        ok=("200", {"site": {k: SITE[k] for k in ("id", "domain", "name", "timezone", "currency")},
                    "has_password": True}),
        errors={"404": _error("Unknown link or sharing off.", "share: this link is unknown or sharing was "
                                                              "turned off")})},
    "/api/v1/share/{token}/unlock": {"post": _op(
        "share_unlock", "Give a share link's password; sets the pm_share cookie.", tag=T, security=[],
        params=[{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
        body={"password": "…"}, ok=None,
        errors={"401": _error("Wrong password.", "password: is wrong"), **E429, **BROWSER_ERRORS,
                "404": _error("Unknown link or sharing off.", "share: this link is unknown or sharing was "
                                                              "turned off")})},
}
SECURITY_SCHEMES = {
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "pm_session",
                      "description": "The dashboard session (POST /api/v1/auth/login)."},
    "csrfHeader": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                   "description": "With the session cookie, on every POST/PUT/PATCH/DELETE: the session's "
                                  "`csrf_token`."},
    "shareLink": {"type": "apiKey", "in": "header", "name": "X-Postmetric-Share",
                  "description": "A share link's token (or the pm_share cookie): POST /api/v1/query and "
                                 "GET /api/v1/realtime* and the funnels' GET routes for that site only."},
}
