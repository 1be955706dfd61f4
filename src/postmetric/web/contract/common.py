"""What the areas share: credentials, rate-limit headers, the site parameters, the common errors."""

from __future__ import annotations

from typing import Any

import msgspec

from postmetric.web.contract.operation import Answer, Error, Ref, error

BEARER = [{"bearerAuth": []}]
COOKIE = [{"sessionCookie": [], "csrfHeader": []}, {"bearerAuth": []}]
SESSION_ONLY = [{"sessionCookie": []}]
READERS = [{"bearerAuth": []}, {"sessionCookie": []}, {"shareLink": []}]

SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http", "scheme": "bearer",
        "description": "A site key (`pmk_…`, one site) or an account token (`pmt_…`, the sites its user owns), "
                       "from `postmetric keys create` / `postmetric tokens create`.",
    },
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "pm_session",
                      "description": "The dashboard session (POST /api/v1/auth/login)."},
    "csrfHeader": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                   "description": "With the session cookie, on every POST/PUT/PATCH/DELETE: the session's "
                                  "`csrf_token`."},
    "shareLink": {"type": "apiKey", "in": "header", "name": "X-Postmetric-Share",
                  "description": "A share link's token (or the pm_share cookie): POST /api/v1/query and "
                                 "GET /api/v1/realtime*, the funnels' GET routes and the annotations' GET routes (with "
                                 "impact and mentions) for that site only."},
}

RATE_HEADERS = {
    "X-RateLimit-Limit": {"description": "Requests allowed per window for this credential.",
                          "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the current window.", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "Unix time (seconds) at which the window resets.",
                          "schema": {"type": "integer"}},
}

# The stats API's shared answers (components/responses).
SHARED_RESPONSES = {
    "BadRequest": Answer("An invalid query or parameter; the message names it.", Error,
                         {"error": "metrics: unknown metric 'visits_total'; known: visitors, …"},
                         headers=RATE_HEADERS),
    "Unauthorized": Answer("No key, a malformed key, or an unknown or revoked one.", Error,
                           {"error": "the API key is unknown or revoked"},
                           headers={"WWW-Authenticate": {"schema": {"type": "string"}}}),
    "NotFound": Answer("The site does not exist or the key cannot read it (the same answer).", Error,
                       {"error": "site_id: site 'pm_AbC123xyz987' not found"}, headers=RATE_HEADERS),
    "TooManyRequests": Answer("Over the credential's rate limit (`POSTMETRIC_API_RATE_LIMIT`).", Error,
                              {"error": "too many requests for this key: 600 per 60 s; retry after 12 s"},
                              headers={**RATE_HEADERS, "Retry-After": {"schema": {"type": "integer"}}}),
}
API_ERRORS: dict[int, Answer | Ref] = {400: Ref("BadRequest"), 401: Ref("Unauthorized"), 404: Ref("NotFound"),
                                       429: Ref("TooManyRequests")}


def ok(description: str, shape: Any, example: Any) -> Answer:
    """A stats API answer: JSON with the rate-limit headers."""
    return Answer(description, shape, example, headers=RATE_HEADERS)


SITE_ID = {
    "name": "site_id", "in": "query", "required": False, "schema": {"type": "string"}, "example": "pm_AbC123xyz987",
    "description": "The site's public id or domain. Required with an account token; a site key reads its own site.",
}
SITE_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "The site's public id or domain."}


def path_integer(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def path_text(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


# The account and settings routes' errors.
E400 = {400: error("A missing or invalid field; the message names it.", "timezone: 'Mars' is not an IANA time zone")}
E401 = {401: error("No session, account token or share access.", "the session has ended; log in again")}
E403 = {403: error("A cookie request without X-CSRF-Token, a site key (it only reads stats), or a role "
                   "that may not do this.", "role: viewers cannot change settings")}
E404 = {404: error("The site does not exist or the caller is not a member (the same answer).",
                   "site_id: site 'pm_AbC123xyz987' not found")}
E409 = {409: error("Already exists.", "a site with domain 'example.com' already exists")}
E429 = {429: error("Too many attempts (POSTMETRIC_LOGIN_RATE_LIMIT); see Retry-After.",
                   "too many attempts: 10 per 15 minutes; retry after 600 s")}
E503 = {503: error("No SMTP server configured.", "email is not configured on this instance (POSTMETRIC_SMTP_URL)")}
E415 = {415: error("Not a JSON body (a cross-site form could send it).",
                   "content-type: must be application/json, not 'text/plain'")}
E403_ORIGIN = {403: error("Sent by another site's page (Origin or Sec-Fetch-Site).",
                          "origin: 'https://evil.example' is not this instance; use its own dashboard")}
BROWSER_ERRORS = {**E403_ORIGIN, **E415}
SITE_ERRORS = {**E400, **E401, **E403, **E404}
NO_CONTENT = Answer("OK")


class Health(msgspec.Struct, forbid_unknown_fields=True):
    status: str
    events_pending: int
