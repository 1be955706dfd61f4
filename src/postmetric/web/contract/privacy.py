"""Erasure and export: shapes, examples and paths."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from postmetric.privacy.erasure import MAX_SELECTOR_LENGTH
from postmetric.privacy.export import MAX_PERSON_ROWS
from postmetric.web.contract.accounts import Shape
from postmetric.web.contract.common import COOKIE, E400, E401, E403, E404, SITE_PARAM
from postmetric.web.contract.operation import Answer, JsonObject, Operation

SelectorText = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SELECTOR_LENGTH)]
VisitorId = Annotated[str, msgspec.Meta(extra_json_schema={"format": "uuid"})]


class SelectorBody(msgspec.Struct, forbid_unknown_fields=True):
    """Exactly one of the three: a `visitor_id` is one device, a `user_id` or `email` a person."""

    visitor_id: VisitorId | UnsetType = UNSET
    user_id: SelectorText | UnsetType = UNSET
    email: Annotated[SelectorText, msgspec.Meta(extra_json_schema={"format": "email"})] | UnsetType = UNSET


class Erasure(Shape):
    id: int
    selector: str
    erased_at: str
    visitors: int
    events: int
    visits: int
    identities: int
    payments_scrubbed: int


class ErasureRecord(Erasure):
    """`erased_by` is null for `postmetric erase`."""

    erased_by: str | None


class Erasures(Shape):
    erasures: list[ErasureRecord]


class PersonExport(Shape):
    selector: str
    visitor_ids: list[str]
    events: list[JsonObject]
    visits: list[JsonObject]
    payments: list[JsonObject]
    truncated: bool


ERASURE = {"id": 7, "selector": "email", "erased_at": "2026-12-07T10:00:00Z", "visitors": 2, "events": 41,
           "visits": 6, "identities": 2, "payments_scrubbed": 3}
PERSON_EXPORT = {"selector": "email", "visitor_ids": ["8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"],
                 "events": [{"timestamp": "2026-12-01T09:30:00Z", "type": "pageview", "pathname": "/pricing"}],
                 "visits": [{"session_started_at": "2026-12-01T09:30:00Z", "entry_page": "/pricing"}],
                 "payments": [{"transaction_id": "pi_3PXYZ", "amount": 2999, "currency": "USD"}], "truncated": False}

_TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_SELECTOR_LENGTH}
_SELECTOR_PARAMETERS = {"visitor_id": {"type": "string", "format": "uuid"}, "user_id": _TEXT,
                        "email": {**_TEXT, "format": "email"}}
_WHO = ("A `visitor_id` is one device; a `user_id` or `email` is a person: every visitor their identify and "
        "payment events tie to that key, or to another key an event names with it.")
_WHAT = ("Their events, visits and identities are deleted from the event store; their payments stay, so revenue "
         "totals stay right, without email, customer id, visitor, visit or checkout id. Events acknowledged but "
         "not yet stored are included. An audit row records who erased, when and how much, with a keyed hash of "
         "the selector instead of its value.")

P = "Privacy"
TAGS = [{"name": P}]
ERRORS = {**E401, **E403, **E404}

OPERATIONS = [
    Operation("delete", "/api/v1/sites/{id}/visitors/{visitor_id}", "erase_visitor",
              P, "Erase one visitor (device) from the site (owners and admins).",
              {200: Answer("OK", Erasure, ERASURE), **E400, **ERRORS}, security=COOKIE, description=_WHAT,
              parameters=[SITE_PARAM, {"name": "visitor_id", "in": "path", "required": True,
                                       "schema": _SELECTOR_PARAMETERS["visitor_id"]}]),
    Operation("get", "/api/v1/sites/{id}/erasures", "list_erasures",
              P, "The site's erasures, newest first, the last 100 (owners and admins).",
              {200: Answer("OK", Erasures, {"erasures": [ERASURE | {"erased_by": "owner@example.com"}]}), **ERRORS},
              security=COOKIE, parameters=[SITE_PARAM],
              description="The audit: who asked (null for `postmetric erase`), when, and how much went; never whom."),
    Operation("post", "/api/v1/sites/{id}/erasures", "erase_person",
              P, "Erase a visitor or a person from the site (owners and admins).",
              {200: Answer("OK", Erasure, ERASURE), **E400, **ERRORS}, security=COOKIE, parameters=[SITE_PARAM],
              description=f"{_WHO} {_WHAT} Exactly one of the three fields.",
              body=SelectorBody, body_example={"email": "ada@example.com"}),
    Operation("get", "/api/v1/sites/{id}/export", "export_site",
              P, "The site's raw data: a zip of events.csv, visits.csv and payments.csv (owners and admins).",
              {200: Answer("A zip file", media="application/zip", schema={"type": "string", "format": "binary"}), **ERRORS}, security=COOKIE,
              parameters=[SITE_PARAM],
              description="Streamed as it is read, batch by batch; every stored event appears once. Times are ISO "
                          "8601 UTC, empty cells are missing values."),
    Operation("get", "/api/v1/sites/{id}/people/export", "export_person",
              P, "One visitor's or person's data as JSON (owners and admins).",
              {200: Answer("OK", PersonExport, PERSON_EXPORT), **E400, **ERRORS}, security=COOKIE,
              parameters=[SITE_PARAM, *({"name": name, "in": "query", "required": False, "schema": schema}
                                        for name, schema in _SELECTOR_PARAMETERS.items())],
              description=f"{_WHO} Exactly one of the three parameters. Their events, visits and payments, oldest "
                          f"first, at most {MAX_PERSON_ROWS:,} of each (`truncated` says whether some were left out; "
                          "the site export has them all)."),
]
