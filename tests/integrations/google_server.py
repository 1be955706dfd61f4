"""A local Google for the Search Console tests: OAuth 2 (authorization and token endpoints) and the
Search Console API (webmasters v3), as Starlette under uvicorn on a free port (`live_app.serving`).

Served, as Google's references document them:
- `GET /o/oauth2/v2/auth`: auto-approves, redirecting to `redirect_uri` with `code`, `state` and
  `scope` (or `error=access_denied` after `deny_next_consent()`); an unknown client is a 400 page.
- `POST /token` (form; client credentials in HTTP Basic or the body): `authorization_code` (one use,
  the same `redirect_uri`, PKCE S256 checked when the authorization had a challenge),
  `refresh_token`, and `urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523: the assertion's
  RS256 signature is checked with the public half of the service account's key, `aud` must be this
  token endpoint, `exp - iat` at most an hour, `scope` must name Search Console). Errors are
  `{"error", "error_description"}`: `invalid_grant` for a revoked, unknown or reused grant or a
  bad signature, `invalid_client` (401) for a wrong client secret.
- `GET /webmasters/v3/sites` → `{"siteEntry": [{"siteUrl", "permissionLevel"}]}` (`{}` when none).
- `POST /webmasters/v3/sites/{siteUrl}/searchAnalytics/query` → `{"rows": [{"keys", "clicks",
  "impressions", "ctr", "position"}], "responseAggregationType"}` grouped by the asked dimensions,
  the rows of the asked dates sorted by clicks descending, `startRow`/`rowLimit` paging (at most
  25,000; more is a 400); no `rows` key when the page is empty.
API errors are `{"error": {"code", "message", "errors": [...], "status"}}` (fixtures `error_*.json`):
401 for an unknown access token, 403 for a property the caller may not read.

Knobs: `add_service_account()` (a key whose public half the server knows), `revoke(refresh_token)`,
`rotate_refresh_tokens`, `fail_next(path_part, status, fixture)` (the next matching request answers
it), `rows[property]` (stored rows, see `daily_rows`), `forbidden` (properties answering 403).
`before_query` runs once as the next query arrives (to disconnect mid-sync). `requests` records what was asked. `now` is the test's clock for JWT times; nothing sleeps.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

FIXTURES = Path(__file__).parent / "fixtures" / "google"
SCOPE = "https://www.googleapis.com/auth/webmasters.readonly"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_ROW_LIMIT = 25_000
DIMENSIONS = ("date", "query", "page", "country", "device")


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def recorded_rows() -> list[dict]:
    """The recorded Search Analytics rows as dicts by dimension (the fixture's keys are in DIMENSIONS order)."""
    return [{**dict(zip(DIMENSIONS, row["keys"])), "clicks": row["clicks"], "impressions": row["impressions"],
             "position": row["position"]} for row in fixture("search_analytics_rows.json")["rows"]]


def daily_rows(start: date, end: date, *, scale: int = 1) -> list[dict]:
    """The recorded rows repeated on every day from `start` to `end`, clicks and impressions times `scale`."""
    rows = []
    day = start
    while day <= end:
        rows += [{**row, "date": day.isoformat(), "clicks": row["clicks"] * scale,
                  "impressions": row["impressions"] * scale} for row in recorded_rows()]
        day += timedelta(days=1)
    return rows


@dataclass
class ServiceAccount:
    client_email: str
    private_key_pem: str
    private_key_id: str
    public_key_pem: str

    def key_json(self, token_uri: str) -> dict:
        """The JSON key file Google's console downloads for this account."""
        return {"type": "service_account", "project_id": "postmetric-test", "private_key_id": self.private_key_id,
                "private_key": self.private_key_pem, "client_email": self.client_email,
                "client_id": "104857600000000000001", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": token_uri, "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
                                        + self.client_email.replace("@", "%40"),
                "universe_domain": "googleapis.com"}


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str] = field(default_factory=dict)
    json: Any = None


class GoogleServer:
    def __init__(self, *, client_id: str = "1234-test.apps.googleusercontent.com",
                 client_secret: str = "GOCSPX-test-secret") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.base_url = ""  # set by the test once served: the token endpoint is `{base_url}/token`
        self.now: datetime | None = None
        self.properties: list[dict] = fixture("sites_list.json")["siteEntry"]
        self.forbidden: set[str] = set()
        self.rows: dict[str, list[dict]] = {}
        self.rotate_refresh_tokens = False
        self.requests: list[RecordedRequest] = []
        self.service_accounts: dict[str, ServiceAccount] = {}
        self.refresh_tokens: set[str] = set()
        self.revoked: set[str] = set()
        self.access_tokens: dict[str, str] = {}  # token → who (a refresh token or a service account)
        self._codes: dict[str, dict] = {}
        self._failures: list[tuple[str, int, dict]] = []
        self._deny_consent = False
        self.before_query: Callable[[dict], None] | None = None  # runs (once) as a query arrives
        self.app = Starlette(routes=[
            Route("/o/oauth2/v2/auth", self.authorize, methods=["GET"]),
            Route("/token", self.token, methods=["POST"]),
            Route("/webmasters/v3/sites", self.sites, methods=["GET"]),
            Route("/webmasters/v3/sites/{site:path}/searchAnalytics/query", self.search_analytics, methods=["POST"]),
        ])

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    # Knobs ---------------------------------------------------------------------------------------

    def add_service_account(self, client_email: str = "postmetric@postmetric-test.iam.gserviceaccount.com"
                            ) -> ServiceAccount:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        account = ServiceAccount(
            client_email=client_email,
            private_key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode(),
            private_key_id=secrets.token_hex(20),
            public_key_pem=key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode())
        self.service_accounts[client_email] = account
        return account

    def issue_refresh_token(self) -> str:
        token = "1//0g" + secrets.token_urlsafe(24)
        self.refresh_tokens.add(token)
        return token

    def revoke(self, refresh_token: str) -> None:
        self.revoked.add(refresh_token)

    def fail_next(self, path_part: str, status: int, fixture_name: str) -> None:
        """The next request whose path contains `path_part` answers `status` with the fixture's body."""
        self._failures.append((path_part, status, fixture(fixture_name)))

    def deny_next_consent(self) -> None:
        self._deny_consent = True

    def queries(self) -> list[dict]:
        """The bodies of the searchAnalytics/query requests, in order."""
        return [r.json for r in self.requests if r.path.endswith("/searchAnalytics/query")]

    # Endpoints -----------------------------------------------------------------------------------

    async def _record(self, request: Request) -> RecordedRequest:
        recorded = RecordedRequest(request.method, request.url.path, dict(request.query_params))
        body = await request.body()
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            recorded.form = dict(parse_qsl(body.decode()))
        elif body:
            recorded.json = json.loads(body)
        self.requests.append(recorded)
        return recorded

    def _injected_failure(self, path: str) -> Response | None:
        for index, (part, status, body) in enumerate(self._failures):
            if part in path:
                del self._failures[index]
                return JSONResponse(body, status)
        return None

    async def authorize(self, request: Request) -> Response:
        recorded = await self._record(request)
        query = recorded.query
        if query.get("client_id") != self.client_id:
            return PlainTextResponse("Error 401: invalid_client\nThe OAuth client was not found.", 401)
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri or query.get("response_type") != "code":
            return PlainTextResponse("Error 400: invalid_request\nMissing required parameter: redirect_uri", 400)
        if SCOPE not in query.get("scope", "").split():
            return PlainTextResponse("Error 400: invalid_scope", 400)
        if self._deny_consent:
            self._deny_consent = False
            return RedirectResponse(f"{redirect_uri}?{urlencode({'error': 'access_denied', 'state': query.get('state', '')})}", 302)
        code = "4/0A" + secrets.token_urlsafe(24)
        self._codes[code] = {"redirect_uri": redirect_uri, "challenge": query.get("code_challenge"),
                             "method": query.get("code_challenge_method")}
        return RedirectResponse(f"{redirect_uri}?{urlencode({'state': query.get('state', ''), 'code': code, 'scope': SCOPE})}", 302)

    async def token(self, request: Request) -> Response:
        recorded = await self._record(request)
        if failure := self._injected_failure(recorded.path):
            return failure
        form = recorded.form
        grant_type = form.get("grant_type")
        if grant_type == JWT_BEARER:
            return self._jwt_bearer(form.get("assertion", ""))
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization := request.headers.get("authorization", ""):
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() == "basic":
                client_id, _, client_secret = base64.b64decode(credentials).decode().partition(":")
        if client_id != self.client_id or client_secret != self.client_secret:
            return JSONResponse(fixture("token_invalid_client.json"), 401)
        if grant_type == "authorization_code":
            grant = self._codes.pop(form.get("code", ""), None)
            if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
                return JSONResponse(fixture("token_invalid_grant_code.json"), 400)
            if grant["challenge"] is not None:
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if grant["method"] != "S256" or digest != grant["challenge"]:
                    return JSONResponse({"error": "invalid_grant", "error_description": "Invalid code verifier."}, 400)
            refresh_token = self.issue_refresh_token()
            return JSONResponse({**fixture("token_authorization_code.json"),
                                 "access_token": self._access_token(refresh_token), "refresh_token": refresh_token})
        if grant_type == "refresh_token":
            refresh_token = form.get("refresh_token", "")
            if refresh_token not in self.refresh_tokens or refresh_token in self.revoked:
                return JSONResponse(fixture("token_invalid_grant_revoked.json"), 400)
            answer = {**fixture("token_refresh.json"), "access_token": self._access_token(refresh_token)}
            if self.rotate_refresh_tokens:
                self.revoked.add(refresh_token)
                answer["refresh_token"] = self.issue_refresh_token()
                self.access_tokens[answer["access_token"]] = answer["refresh_token"]
            return JSONResponse(answer)
        return JSONResponse({"error": "unsupported_grant_type", "error_description": f"Invalid grant_type: {grant_type}"}, 400)

    def _jwt_bearer(self, assertion: str) -> Response:
        try:
            unverified = json.loads(base64.urlsafe_b64decode(assertion.split(".")[1] + "=="))
            account = self.service_accounts[unverified["iss"]]
            token = jwt.decode(assertion, RSAKey.import_key(account.public_key_pem), algorithms=["RS256"])
        except KeyError:
            return JSONResponse({"error": "invalid_grant", "error_description": "Invalid grant: account not found"}, 400)
        except (JoseError, ValueError, IndexError):
            return JSONResponse(fixture("token_invalid_grant_signature.json"), 400)
        claims = token.claims
        issued, expires = claims.get("iat", 0), claims.get("exp", 0)
        reasonable = 0 < expires - issued <= 3600
        if self.now is not None:
            reasonable = reasonable and issued <= self.now.timestamp() + 60 < expires + 60
        if not reasonable:
            return JSONResponse({"error": "invalid_grant", "error_description":
                                 "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
                                 "timeframe. Check your iat and exp values in the JWT claim."}, 400)
        if claims.get("aud") != self.token_url:
            return JSONResponse({"error": "invalid_grant", "error_description": "Invalid JWT: Failed audience check."}, 400)
        if SCOPE not in str(claims.get("scope", "")).split():
            return JSONResponse({"error": "invalid_scope", "error_description": "Invalid OAuth scope or ID token audience provided."}, 400)
        if token.header.get("kid") not in (None, account.private_key_id):
            return JSONResponse(fixture("token_invalid_grant_signature.json"), 400)
        return JSONResponse({**fixture("token_jwt_bearer.json"), "access_token": self._access_token(account.client_email)})

    def _access_token(self, who: str) -> str:
        token = "ya29." + secrets.token_urlsafe(24)
        self.access_tokens[token] = who
        return token

    def _caller(self, request: Request) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        who = self.access_tokens.get(token) if scheme.lower() == "bearer" else None
        if who is None or who in self.revoked:
            return None
        return who

    async def sites(self, request: Request) -> Response:
        recorded = await self._record(request)
        if failure := self._injected_failure(recorded.path):
            return failure
        if self._caller(request) is None:
            return JSONResponse(fixture("error_401.json"), 401)
        return JSONResponse({"siteEntry": self.properties} if self.properties else {})

    async def search_analytics(self, request: Request) -> Response:
        recorded = await self._record(request)
        if failure := self._injected_failure(recorded.path):
            return failure
        if self._caller(request) is None:
            return JSONResponse(fixture("error_401.json"), 401)
        site = request.path_params["site"]
        raw_site = request.scope["raw_path"].decode().removeprefix("/webmasters/v3/sites/").removesuffix("/searchAnalytics/query")
        if raw_site != quote(site, safe=""):  # Google needs the property as one encoded path segment
            return JSONResponse({"error": {"code": 404, "message": "Requested entity was not found.",
                                           "errors": [{"message": "Requested entity was not found.",
                                                       "domain": "global", "reason": "notFound"}],
                                           "status": "NOT_FOUND"}}, 404)
        known = {entry["siteUrl"] for entry in self.properties if entry["permissionLevel"] != "siteUnverifiedUser"}
        if site not in known or site in self.forbidden:
            error = fixture("error_403.json")
            message = f"User does not have sufficient permission for site '{site}'. See also: https://support.google.com/webmasters/answer/2451999."
            error["error"]["message"] = error["error"]["errors"][0]["message"] = message
            return JSONResponse(error, 403)
        body = recorded.json or {}
        if self.before_query is not None:
            hook, self.before_query = self.before_query, None
            hook(body)
        row_limit, start_row = body.get("rowLimit", 1000), body.get("startRow", 0)
        if not 1 <= row_limit <= MAX_ROW_LIMIT:
            return JSONResponse(fixture("error_400_row_limit.json"), 400)
        start, end = body["startDate"], body["endDate"]
        dimensions = body.get("dimensions", [])
        grouped: dict[tuple, dict] = {}
        for row in self.rows.get(site, []):
            if start <= row["date"] <= end:
                keys = tuple(row[d] for d in dimensions)
                group = grouped.setdefault(keys, {"clicks": 0, "impressions": 0, "weighted": 0.0})
                group["clicks"] += row["clicks"]
                group["impressions"] += row["impressions"]
                group["weighted"] += row["position"] * row["impressions"]
        ordered = sorted(grouped.items(), key=lambda item: (-item[1]["clicks"], item[0]))
        page = ordered[start_row:start_row + row_limit]
        answer: dict[str, Any] = {"responseAggregationType": "byPage" if "page" in dimensions else "byProperty"}
        if page:
            answer["rows"] = [{"keys": list(keys), "clicks": g["clicks"], "impressions": g["impressions"],
                               "ctr": g["clicks"] / g["impressions"] if g["impressions"] else 0,
                               "position": g["weighted"] / g["impressions"] if g["impressions"] else 0}
                              for keys, g in page]
        return JSONResponse(answer)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)
