"""Search Console's own routes (web/routes/google_oauth.py): "Connect with Google" and the properties
to choose from. The connection itself is the integrations API's (`PUT …/integrations/search_console`)."""

from __future__ import annotations

from postmetric.web.contract.accounts import Shape
from postmetric.web.contract.common import COOKIE, E401, E403, E404, SITE_PARAM
from postmetric.web.contract.integrations import I
from postmetric.web.contract.operation import Answer, Operation, error


class GoogleOAuthSetup(Shape):
    """Whether "Connect with Google" is offered (POSTMETRIC_GOOGLE_CLIENT_ID and _SECRET are set), and the
    redirect URI the OAuth client must list in Google Cloud console."""

    configured: bool
    redirect_uri: str


class SearchConsoleProperty(Shape):
    """A property the connection may read: `sc-domain:example.com` or a URL prefix; `permission_level` is
    Google's (siteOwner, siteFullUser, siteRestrictedUser)."""

    site_url: str
    permission_level: str


class SearchConsoleProperties(Shape):
    properties: list[SearchConsoleProperty]


BASE = "/api/v1/sites/{id}/integrations/search_console"
E409_NOT_CONNECTED = {409: error("Not connected yet (properties), or no Google OAuth client configured (authorize); "
                                 "or Google refused the stored authorization.",
                                 "Search Console is not connected: connect with Google or give a service account key")}

OPERATIONS = [
    Operation("get", f"{BASE}/oauth", "search_console_oauth", I,
              "Whether Connect with Google is available, and the OAuth redirect URI (owners and admins).",
              {200: Answer("OK", GoogleOAuthSetup, {
                  "configured": True, "redirect_uri": "https://analytics.example.com/integrations/google/callback"}),
               **E401, **E403, **E404}, security=COOKIE, parameters=[SITE_PARAM]),
    Operation("get", f"{BASE}/authorize", "search_console_authorize", I,
              "Start Connect with Google (owners and admins): a redirect to Google's consent page.",
              {302: Answer("To Google's consent page (read-only Search Console access, offline, PKCE); Google sends "
                           "the browser back to /integrations/google/callback, which stores the refresh token sealed "
                           "and redirects to Settings → Integrations.",
                           headers={"Location": {"schema": {"type": "string"}}}),
               **E401, **E403, **E404, **E409_NOT_CONNECTED}, security=COOKIE, parameters=[SITE_PARAM]),
    Operation("get", f"{BASE}/properties", "search_console_properties", I,
              "The Search Console properties the stored authorization may read, to choose one (owners and admins).",
              {200: Answer("OK", SearchConsoleProperties, {"properties": [
                  {"site_url": "sc-domain:example.com", "permission_level": "siteOwner"},
                  {"site_url": "https://www.example.com/", "permission_level": "siteFullUser"}]}),
               **E401, **E403, **E404, **E409_NOT_CONNECTED,
               429: error("Google's quota is used up.", "Google's Search Console quota is used up"),
               502: error("Google failed or could not be reached.", "Google answered 500: Internal error encountered.")},
              security=COOKIE, parameters=[SITE_PARAM]),
]
