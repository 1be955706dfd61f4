"""Google access for the Search Console integration: the OAuth 2 web flow, service account keys,
and the access tokens both give, through authlib (no hand-written token exchange).

Two ways to connect a site:
1. OAuth 2 (the admin configured `POSTMETRIC_GOOGLE_CLIENT_ID` / `_SECRET`): `authorization_url`
   sends the user to `{google_oauth_url}/o/oauth2/v2/auth` for the read-only Search Console scope,
   offline access and a consent prompt (so Google gives a refresh token every time), with PKCE
   (S256); `exchange_code` turns the callback's code into that refresh token at the token endpoint
   (`POSTMETRIC_GOOGLE_TOKEN_URL`, default https://oauth2.googleapis.com/token).
2. A service account key (the JSON file from Google Cloud console): a JWT signed with its private
   key (RFC 7523 JWT bearer grant, authlib's `AssertionClient`) is traded for an access token.

`state`: the OAuth `state` parameter is signed (HMAC-SHA256 under a key derived from the secret
key) and binds the user, the site and an expiry, so a callback with a forged, expired or another
user's state changes nothing. The PKCE verifier is derived from the same key and the state, so
no server-side storage is needed and it never travels through the browser.

`access_token` gives the token the API calls carry; it is kept for one sync run only. Token
endpoint failures become the sync errors (integrations/sync.py): `invalid_grant` → TokenRejected.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import OAuthError

with warnings.catch_warnings():
    # authlib prefers the httpx2 fork and warns, at import, that it runs on httpx (what we pin) instead.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AssertionClient, OAuth2Client
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from joserfc.jwk import RSAKey

from postmetric.config import Settings
from postmetric.errors import ValidationError
from postmetric.integrations.sync import AccessDenied, RateLimited, TokenRejected, UpstreamFailed

SCOPE = "https://www.googleapis.com/auth/webmasters.readonly"
AUTHORIZATION_PATH = "/o/oauth2/v2/auth"
CALLBACK_PATH = "/integrations/google/callback"
STATE_LIFETIME = timedelta(minutes=15)
TOKEN_RATE_LIMIT_WAIT = timedelta(minutes=5)
REVOKED = "the Google authorization was revoked — reconnect"
MAX_KEY_CHARS = 20_000  # a service account key file is about 2.3 KB


def redirect_uri(settings: Settings) -> str:
    """Where Google sends the user back: give exactly this in the OAuth client's redirect URIs."""
    return settings.base_url.rstrip("/") + CALLBACK_PATH


def oauth_configured(settings: Settings) -> bool:
    return bool(settings.google_client_id and settings.google_client_secret)


# The signed state ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OAuthState:
    user_id: int
    site_id: int
    expires_at: int  # Unix seconds


def sign_state(key: bytes, *, user_id: int, site_id: int, now: datetime) -> str:
    payload = {"u": user_id, "s": site_id, "e": int((now + STATE_LIFETIME).timestamp()),
               "n": secrets.token_urlsafe(12)}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_b64(hmac.new(key, body.encode(), hashlib.sha256).digest())}"


def open_state(key: bytes, state: str, *, now: datetime) -> OAuthState | None:
    """The state's user, site and expiry if `key` signed it and it has not expired; None otherwise."""
    body, _, signature = state.partition(".")
    expected = _b64(hmac.new(key, body.encode(), hashlib.sha256).digest())
    if not signature or not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        opened = OAuthState(int(payload["u"]), int(payload["s"]), int(payload["e"]))
    except (ValueError, KeyError, TypeError):
        return None
    return opened if now.timestamp() < opened.expires_at else None


def code_verifier(key: bytes, state: str) -> str:
    """The PKCE verifier of this state: 43 unreserved characters only this server can compute."""
    return _b64(hmac.new(key, b"pkce:" + state.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# The OAuth 2 web flow -----------------------------------------------------------------------------

def _oauth_client(settings: Settings, timeout: httpx.Timeout | float) -> OAuth2Client:
    return OAuth2Client(settings.google_client_id, settings.google_client_secret, scope=SCOPE,
                        redirect_uri=redirect_uri(settings), code_challenge_method="S256", timeout=timeout)


def authorization_url(settings: Settings, *, state: str, verifier: str) -> str:
    with _oauth_client(settings, 10.0) as client:
        url, _ = client.create_authorization_url(
            settings.google_oauth_url.rstrip("/") + AUTHORIZATION_PATH, state=state, code_verifier=verifier,
            access_type="offline", prompt="consent")
    return url


def exchange_code(settings: Settings, *, code: str, verifier: str, timeout: httpx.Timeout | float) -> str:
    """The refresh token Google gives for the callback's `code`."""
    with _oauth_client(settings, timeout) as client:
        token = _token_call(lambda: client.fetch_token(settings.google_token_url, code=code, code_verifier=verifier),
                            rejected="Google refused the authorization code — connect again", now=None)
    if not token.get("refresh_token"):
        raise UpstreamFailed("Google gave no refresh token — connect again")
    return token["refresh_token"]


# Service account keys -----------------------------------------------------------------------------

def parse_service_account_key(raw: Any) -> dict:
    """The fields of a service account key file that signing needs; ValidationError naming what is wrong.

    The key's own `token_uri` is not kept: its JWT always goes to the configured token endpoint, so a
    pasted key cannot make this server post to an address of its choosing."""
    field = "service_account_key"
    if isinstance(raw, str):
        if len(raw) > MAX_KEY_CHARS:
            raise ValidationError(field, "is too long for a service account key file")
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ValidationError(field, "is not JSON: paste the whole key file Google Cloud console downloaded") from None
    if not isinstance(raw, dict):
        raise ValidationError(field, "must be the key file's JSON object")
    if raw.get("type") != "service_account":
        raise ValidationError(field, 'is not a service account key (its "type" must be "service_account")')
    key = {name: raw.get(name) for name in ("client_email", "private_key", "private_key_id")}
    for name, value in key.items():
        if not isinstance(value, str) or not value or len(value) > MAX_KEY_CHARS:
            raise ValidationError(field, f'has no "{name}"')
    if "@" not in key["client_email"]:
        raise ValidationError(field, '"client_email" is not an email address')
    try:
        private_key = load_pem_private_key(key["private_key"].encode(), password=None)
    except (ValueError, TypeError):
        raise ValidationError(field, '"private_key" is not a PEM private key') from None
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise ValidationError(field, '"private_key" is not an RSA key (Google signs service accounts with RS256)')
    return key


def _service_account_token(settings: Settings, key: dict, *, now: datetime, timeout: httpx.Timeout | float) -> dict:
    with AssertionClient(settings.google_token_url, issuer=key["client_email"], subject=None,
                         audience=settings.google_token_url, claims={"scope": SCOPE}, key=RSAKey.import_key(key["private_key"]),
                         header={"alg": "RS256", "kid": key["private_key_id"]},
                         issued_at=int(now.timestamp()), timeout=timeout) as client:
        return _token_call(client.refresh_token, now=now,
                           rejected=f"Google refused the service account key of {key['client_email']} — "
                                    "give a new key")


# Access tokens ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Grant:
    access_token: str
    rotated: str | None = None  # a new stored secret (a rotated refresh token) to seal in place of the old


def access_token(settings: Settings, *, auth: str, secret: str, now: datetime,
                 timeout: httpx.Timeout | float) -> Grant:
    """An access token for the stored secret (`auth` "oauth": a refresh token; "service_account": a key)."""
    if auth == "service_account":
        return Grant(_service_account_token(settings, json.loads(secret), now=now, timeout=timeout)["access_token"])
    if not oauth_configured(settings):
        raise AccessDenied("Google sign-in is not configured on this server (POSTMETRIC_GOOGLE_CLIENT_ID and "
                           "POSTMETRIC_GOOGLE_CLIENT_SECRET); connect with a service account key instead")
    with _oauth_client(settings, timeout) as client:
        token = _token_call(lambda: client.refresh_token(settings.google_token_url, refresh_token=secret),
                            rejected=REVOKED, now=now)
    rotated = token.get("refresh_token")
    return Grant(token["access_token"], rotated if rotated and rotated != secret else None)


def _token_call(call, *, rejected: str, now: datetime | None) -> dict:
    """Runs one token endpoint request, turning its failures into sync errors."""
    try:
        token = call()
    except OAuthError as error:
        if error.error in ("invalid_grant", "invalid_client", "unauthorized_client"):
            if error.error != "invalid_grant":
                raise TokenRejected(f"Google refused this server's OAuth client ({error.error}): check "
                                    "POSTMETRIC_GOOGLE_CLIENT_ID and POSTMETRIC_GOOGLE_CLIENT_SECRET") from None
            raise TokenRejected(rejected) from None
        raise UpstreamFailed(f"Google's token endpoint refused: {error.error} {error.description or ''}".strip()) from None
    except httpx.HTTPStatusError as error:
        if error.response.status_code == 429 and now is not None:
            raise RateLimited("Google's token endpoint is rate limiting", now + TOKEN_RATE_LIMIT_WAIT) from None
        raise UpstreamFailed(f"Google's token endpoint answered {error.response.status_code}") from None
    except (httpx.HTTPError, ValueError) as error:
        raise UpstreamFailed(f"Google's token endpoint could not be reached: {error}") from None
    if not isinstance(token.get("access_token"), str):
        raise UpstreamFailed("Google's token endpoint gave no access token")
    return dict(token)
