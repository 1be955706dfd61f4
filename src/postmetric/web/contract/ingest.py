"""Ingestion: the tracker's event (`ingest.request.Payload`, the Struct the route decodes with), the
server-side events, goals and identify calls: shapes, examples and paths."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from postmetric.ingest.request import MAX_PROP_VALUE_CHARS, MAX_PROPS, PROP_KEY, Payload
from postmetric.sites.goals import GOAL_NAME
from postmetric.web.contract.accounts import Shape
from postmetric.web.contract.common import BEARER
from postmetric.web.contract.operation import JSON, Answer, Operation, Ref, error

VisitorId = Annotated[str, msgspec.Meta(
    extra_json_schema={"format": "uuid",
                       "description": "The `_pm_vid` cookie, or `postmetric.getVisitorId()` in the browser."})]
PropValue = Annotated[str, msgspec.Meta(max_length=MAX_PROP_VALUE_CHARS)] | float | bool | None
Props = Annotated[dict[Annotated[str, msgspec.Meta(pattern=PROP_KEY.pattern)], PropValue], msgspec.Meta(
    max_length=MAX_PROPS, description=f"Flat: at most {MAX_PROPS} keys matching ^[a-z0-9_-]{{1,64}}$, values at most "
                                      f"{MAX_PROP_VALUE_CHARS} characters.")]
Timestamp = Annotated[str, msgspec.Meta(
    extra_json_schema={"format": "date-time"},
    description="When it happened (ISO 8601, UTC without an offset); now if left out; at most 5 minutes ahead.")]
Ip = Annotated[str, msgspec.Meta(description="The visitor's IP, for geolocation of a visit this event starts; never "
                                             "stored.")]
UserAgent = Annotated[str, msgspec.Meta(
    max_length=1024, description="The visitor's user agent (also `user_agent`), for the device of a visit this event "
                                 "starts.")]


class ServerGoalBody(msgspec.Struct, forbid_unknown_fields=True):
    """DataFast's body (`datafast_visitor_id`, `metadata`) is accepted as is; send `props` or `metadata`."""

    name: Annotated[str, msgspec.Meta(pattern=GOAL_NAME.pattern)]
    visitor_id: VisitorId | UnsetType = UNSET
    datafast_visitor_id: VisitorId | UnsetType = UNSET
    props: Props | UnsetType = UNSET
    metadata: Props | UnsetType = UNSET
    timestamp: Timestamp | UnsetType = UNSET
    ip: Ip | UnsetType = UNSET
    userAgent: UserAgent | UnsetType = UNSET


class IdentifyBody(msgspec.Struct):
    """`user_id` or `email` is required; any other flat field is kept with them."""

    visitor_id: VisitorId
    user_id: str | int | UnsetType = UNSET
    email: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    timestamp: Timestamp | UnsetType = UNSET
    ip: Ip | UnsetType = UNSET
    userAgent: UserAgent | UnsetType = UNSET


class Accepted(Shape):
    ok: bool


class DroppedEvent(Shape):
    """An event of the batch dropped on purpose (an excluded IP, country, path…): its index and why."""

    index: int
    reason: str


class ServerEventsAccepted(Shape):
    ok: bool
    accepted: int
    dropped: list[DroppedEvent]


class ServerEventAccepted(Shape):
    """`session_id` is null and `dropped` says why for an event the site's exclusions dropped."""

    ok: bool
    visitor_id: str | None
    session_id: str | None
    dropped: str | UnsetType = UNSET


VISITOR = "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"
SESSION = "3f2a9c61-0d4e-4c8b-b1a7-5e6f7a8b9c0d"
ACCEPTED = {"ok": True, "visitor_id": VISITOR, "session_id": SESSION}
EVENT_EXAMPLE = {"websiteId": "pm_AbC123xyz987", "type": "pageview", "href": "https://example.com/pricing",
                 "referrer": "https://www.google.com/"}
GOAL_EXAMPLE = {"datafast_visitor_id": VISITOR, "name": "signup", "metadata": {"plan": "pro", "seats": 3}}
IDENTIFY_EXAMPLE = {"visitor_id": VISITOR, "user_id": "u_42", "email": "ada@example.com", "name": "Ada Lovelace",
                    "plan": "pro"}
QUEUE_FULL = {503: error("The write queue is full.", "too many events waiting to be written; retry shortly")}
TOO_LARGE = {413: error("Body over 16 KiB.", "the request body is larger than 16384 bytes")}
_JOINING = ("The event joins the visitor's visit active in the last 30 minutes (its session id, source, geo and "
            "device), recorded on the page of the visit's latest pageview, and extends it; with no active visit "
            "it starts one (Direct, on the site's domain at `/`, geo and device from `ip` and `userAgent` if sent). "
            "202 once committed, like tracker events. Site key only: the event belongs to the key's site.")


def _server_event(path: str, operation_id: str, summary: str, description: str, body, example, bad: str) -> Operation:
    return Operation(
        "post", path, operation_id, "Ingestion", summary,
        {202: Answer("Committed. `session_id` is the visit it joined or started. An event dropped by the site's IP "
                     "or country exclusions gets `session_id: null`, `dropped` and `X-Postmetric-Dropped`.",
                     ServerEventAccepted, ACCEPTED),
         400: error("Malformed JSON or an invalid field; the message names it.", bad),
         401: Ref("Unauthorized"),
         403: error("Not a site key.", "authorization: goals and identify calls are sent with the site's key "
                                       "(pmk_…), not an account token or a session"),
         **TOO_LARGE, 429: Ref("TooManyRequests"), **QUEUE_FULL},
        description=f"{description} {_JOINING}", security=BEARER, body=body, body_example=example)


TAGS = [{"name": "Ingestion"}]
OPERATIONS = [
    Operation("post", "/api/events", "track_event", "Ingestion", "Record one event (the tracking script).",
              {202: Answer("Stored (or dropped on purpose).", Accepted, {"ok": True}),
               400: error("Malformed JSON or an invalid field.", "invalid event: missing required field `websiteId`"),
               **TOO_LARGE,
               415: error("Another Content-Type.", "Content-Type must be text/plain or application/json, not 'x'"),
               429: error("Over the per-IP rate limit.", "too many events from this address; slow down"),
               **QUEUE_FULL},
              description="Sent as text/plain (no CORS preflight) or application/json, at most 16 KiB. No key: the "
                          "site is named by `websiteId`. Well-formed events dropped on purpose still get 202, with "
                          "`X-Postmetric-Dropped: <reason>`.",
              body=Payload, body_example=EVENT_EXAMPLE, body_media=("text/plain", JSON)),
    Operation("get", "/api/events.gif", "track_pixel", "Ingestion", "Record one event from query parameters.",
              {200: Answer("A 1×1 GIF.", media="image/gif"), 400: error("An invalid field.", "invalid event: …")},
              description="The fields of `POST /api/events` as query parameters, for no-script pages and emails.",
              parameters=[
                  {"name": "websiteId", "in": "query", "required": True, "schema": {"type": "string"}},
                  {"name": "type", "in": "query", "required": True, "schema": {"type": "string"},
                   "example": "pageview"},
                  {"name": "href", "in": "query", "required": True, "schema": {"type": "string"}},
              ]),
    Operation("post", "/api/v1/events", "track_server_events", "Ingestion",
              "Record events from your backend (site key).",
              {202: Answer("Accepted.", ServerEventsAccepted, {"ok": True, "accepted": 1, "dropped": []}),
               400: error("An invalid event.", "event [0]: …"),
               401: error("No valid site key.", "the API key is unknown or revoked"),
               404: error("An event for another site.", "event [0]: site 'pm_x' not found for this key")},
              description="One event or an array of up to 1,000, each with optional `timestamp` (backfills), `ip` and "
                          "`userAgent`. A key writes only to its own site.",
              security=BEARER, body=Payload | list[Payload], body_example=[EVENT_EXAMPLE | {
                  "timestamp": "2026-11-20T10:00:00Z", "ip": "81.2.69.142", "userAgent": "Mozilla/5.0 …"}]),
    _server_event(
        "/api/v1/goals", "track_server_goal", "Record a goal from your backend (site key).",
        "For conversions only the backend sees (a signup confirmed, a trial started). DataFast's body "
        "(`datafast_visitor_id`, `metadata`) is accepted as is.",
        ServerGoalBody, GOAL_EXAMPLE, "name: 'Sign Up' must be 1-64 characters of lowercase a-z, 0-9, '_', '-' or ':'"),
    _server_event(
        "/api/v1/identify", "identify_visitor", "Say who a visitor is, from your backend (site key).",
        "`user_id` or `email` is required; `name` and any other flat fields are kept with them, as the script's "
        "`postmetric('identify', {...})` keeps its props. The visitor profile shows the identity, and payments "
        "with this email, or with this user id as their customer id, link to the visitor (`identity`), also "
        "payments recorded before.",
        IdentifyBody, IDENTIFY_EXAMPLE, "user_id: user_id or email is required (who the visitor is)"),
]
