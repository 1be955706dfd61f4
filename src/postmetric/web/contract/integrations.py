"""A site's integrations (GitHub, X, Search Console): shapes, examples and paths."""

from __future__ import annotations

from typing import Any

import msgspec

from postmetric.web.contract.accounts import Shape
from postmetric.web.contract.common import COOKIE, E400, E401, E403, E404, NO_CONTENT, SITE_PARAM, path_text
from postmetric.web.contract.operation import Answer, Operation, error


class Integration(Shape):
    """One provider's connection for the site and the state of its sync; `connected` false: never connected.

    `state`: not_connected, pending (due, not synced yet), ok, error (retried with back-off), rate_limited
    (retried at `next_sync_at`), token_rejected, forbidden or not_found (not retried until the connection
    changes). `message` says what went wrong and what to do. The token is never returned: `has_token`."""

    kind: str
    label: str
    connected: bool
    config: dict[str, Any]
    has_token: bool
    state: str
    message: str | None
    summary: str | None
    last_synced_at: str | None
    last_attempt_at: str | None
    next_sync_at: str | None


class Integrations(Shape):
    integrations: list[Integration]


class ConnectBody(msgspec.Struct, omit_defaults=True):
    """The fields of every provider's connect body; each provider reads its own and refuses the others."""

    repository: str | None = None  # GitHub: owner/name
    branch: str | None = None  # GitHub: default the repository's default branch
    query: str | None = None  # X: a recent-search query; default the site's domain and handle
    handle: str | None = None  # X: @handle
    property: str | None = None  # Search Console: sc-domain:example.com or https://example.com/
    service_account_key: str | None = None  # Search Console: a service account's JSON key
    token: str | None = None  # GitHub token, X bearer token; left out: the stored one stays


GITHUB = {"kind": "github", "label": "GitHub", "connected": True,
          "config": {"repository": "example/app", "branch": "main"}, "has_token": True, "state": "ok",
          "message": None, "summary": "3 new commits", "last_synced_at": "2026-12-08T09:30:00Z",
          "last_attempt_at": "2026-12-08T09:30:00Z", "next_sync_at": "2026-12-08T09:45:00Z"}
X_LIMITED = {"kind": "x", "label": "X", "connected": True, "config": {"query": "\"example.com\" -is:retweet"},
             "has_token": True, "state": "rate_limited", "message": "X rate limit reached; next try at 14:05 UTC",
             "summary": None, "last_synced_at": None, "last_attempt_at": "2026-12-08T13:50:00Z",
             "next_sync_at": "2026-12-08T14:05:00Z"}
KIND = path_text("kind")
NOT_FOUND = {404: error("The site does not exist, the caller is not a member, or there is no such integration "
                        "(or it is not connected).", "integration 'gitlab' not found")}
E409_SYNC = {409: error("Not connected, or a sync of it is already running.",
                        "a sync of GitHub is running; its result shows here when it ends")}

I = "Integrations"
TAGS = [{"name": I}]

OPERATIONS = [
    Operation("get", "/api/v1/sites/{id}/integrations", "list_integrations", I,
              "Every integration of the site, connected or not, with its sync state (any member).",
              {200: Answer("OK", Integrations, {"integrations": [GITHUB, X_LIMITED]}), **E401, **E403, **E404},
              security=COOKIE, parameters=[SITE_PARAM]),
    Operation("put", "/api/v1/sites/{id}/integrations/{kind}", "connect_integration", I,
              "Connect the integration, or change its connection (owners and admins); it syncs within a minute.",
              {200: Answer("OK", Integration, GITHUB), **E400, **E401, **E403, **NOT_FOUND},
              security=COOKIE, parameters=[SITE_PARAM, KIND],
              description="The body is the provider's: GitHub `{\"repository\": \"owner/name\", \"branch\"?, "
                          "\"token\"?}`, X `{\"query\"?, \"handle\"?, \"token\"?}`, Search Console `{\"property\", "
                          "\"service_account_key\"?}`. A token left out keeps the stored one.",
              body=ConnectBody, body_example={"repository": "example/app", "token": "github_pat_…"}),
    Operation("post", "/api/v1/sites/{id}/integrations/{kind}/sync", "sync_integration", I,
              "Sync now (owners and admins): answers when the run ends, with the new state.",
              {200: Answer("OK", Integration, GITHUB), **E401, **E403, **NOT_FOUND, **E409_SYNC},
              security=COOKIE, parameters=[SITE_PARAM, KIND]),
    Operation("delete", "/api/v1/sites/{id}/integrations/{kind}", "disconnect_integration", I,
              "Disconnect (owners and admins): the token is deleted; with delete_data=true, what was synced too.",
              {204: NO_CONTENT, **E400, **E401, **E403, **NOT_FOUND}, security=COOKIE, parameters=[
                  SITE_PARAM, KIND,
                  {"name": "delete_data", "in": "query", "required": False,
                   "schema": {"type": "boolean", "default": False},
                   "description": "Also delete the commits, posts or keywords its syncs stored."}]),
]
