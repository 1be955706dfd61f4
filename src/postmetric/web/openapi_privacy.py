"""The OpenAPI paths of erasure and export (merged into `web/openapi.py`)."""

from __future__ import annotations

from typing import Any

from postmetric.privacy.erasure import MAX_SELECTOR_LENGTH
from postmetric.privacy.export import MAX_PERSON_ROWS
from postmetric.web.openapi_accounts import E400, E401, E403, E404, JSON, SITE_PARAM, _op

P = "Privacy"
PRIVACY_TAGS = [{"name": P}]

ERASURE = {"id": 7, "selector": "email", "erased_at": "2026-12-07T10:00:00Z", "visitors": 2, "events": 41,
           "visits": 6, "identities": 2, "payments_scrubbed": 3}
_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_SELECTOR_LENGTH}
_SELECTORS = {"visitor_id": {"type": "string", "format": "uuid"}, "user_id": _TEXT,
              "email": {**_TEXT, "format": "email"}}
SELECTOR_SCHEMA = {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
                   "properties": _SELECTORS}
VISITOR_PARAM = {"name": "visitor_id", "in": "path", "required": True, "schema": _SELECTORS["visitor_id"]}
_WHO = ("A `visitor_id` is one device; a `user_id` or `email` is a person: every visitor their identify and "
        "payment events tie to that key, or to another key an event names with it.")
_WHAT = ("Their events, visits and identities are deleted from the event store; their payments stay, so revenue "
         "totals stay right, without email, customer id, visitor, visit or checkout id. Events acknowledged but "
         "not yet stored are included. An audit row records who erased, when and how much, with a keyed hash of "
         "the selector instead of its value.")
PERSON_EXPORT = {"selector": "email", "visitor_ids": ["8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"],
                 "events": [{"timestamp": "2026-12-01T09:30:00Z", "type": "pageview", "pathname": "/pricing"}],
                 "visits": [{"session_started_at": "2026-12-01T09:30:00Z", "entry_page": "/pricing"}],
                 "payments": [{"transaction_id": "pi_3PXYZ", "amount": 2999, "currency": "USD"}], "truncated": False}

PRIVACY_PATHS: dict[str, Any] = {
    "/api/v1/sites/{id}/visitors/{visitor_id}": {
        "delete": _op("erase_visitor", "Erase one visitor (device) from the site (owners and admins).", tag=P,
                      params=[SITE_PARAM, VISITOR_PARAM], ok=("200", ERASURE),
                      errors={**E400, **E401, **E403, **E404}, description=_WHAT),
    },
    "/api/v1/sites/{id}/erasures": {
        "get": _op("list_erasures", "The site's erasures, newest first, the last 100 (owners and admins).", tag=P,
                   params=[SITE_PARAM], ok=("200", {"erasures": [ERASURE | {"erased_by": "owner@example.com"}]}),
                   errors={**E401, **E403, **E404},
                   description="The audit: who asked (null for `postmetric erase`), when, and how much went; "
                               "never whom."),
        "post": {**_op("erase_person", "Erase a visitor or a person from the site (owners and admins).", tag=P,
                       params=[SITE_PARAM], ok=("200", ERASURE), errors={**E400, **E401, **E403, **E404},
                       description=f"{_WHO} {_WHAT} Exactly one of the three fields."),
                 "requestBody": {"required": True, "content": {JSON: {
                     "schema": SELECTOR_SCHEMA, "example": {"email": "ada@example.com"}}}}},
    },
    "/api/v1/sites/{id}/export": {
        "get": {**_op("export_site", "The site's raw data: a zip of events.csv, visits.csv and payments.csv "
                                     "(owners and admins).", tag=P, params=[SITE_PARAM], ok=None,
                      errors={**E401, **E403, **E404},
                      description="Streamed as it is read, batch by batch; every stored event appears once. "
                                  "Times are ISO 8601 UTC, empty cells are missing values."),
                "responses": {"200": {"description": "A zip file", "content": {"application/zip": {
                    "schema": {"type": "string", "format": "binary"}}}}, **E401, **E403, **E404}},
    },
    "/api/v1/sites/{id}/people/export": {
        "get": _op("export_person", "One visitor's or person's data as JSON (owners and admins).", tag=P,
                   params=[SITE_PARAM, *({"name": name, "in": "query", "required": False, "schema": schema}
                                         for name, schema in _SELECTORS.items())],
                   ok=("200", PERSON_EXPORT), errors={**E400, **E401, **E403, **E404},
                   description=f"{_WHO} Exactly one of the three parameters. Their events, visits and payments, "
                               f"oldest first, at most {MAX_PERSON_ROWS:,} of each (`truncated` says whether some "
                               "were left out; the site export has them all)."),
    },
}
