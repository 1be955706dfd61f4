"""The OpenAPI paths of the server-side goals and identify calls (merged into `web/openapi.py`)."""

from __future__ import annotations

from typing import Any

from postmetric.ingest.request import GOAL_NAME, MAX_PROP_VALUE_CHARS, MAX_PROPS

JSON = "application/json"
VISITOR = "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"
SESSION = "3f2a9c61-0d4e-4c8b-b1a7-5e6f7a8b9c0d"
ACCEPTED = {"ok": True, "visitor_id": VISITOR, "session_id": SESSION}
GOAL_EXAMPLE = {"datafast_visitor_id": VISITOR, "name": "signup", "metadata": {"plan": "pro", "seats": 3}}
IDENTIFY_EXAMPLE = {"visitor_id": VISITOR, "user_id": "u_42", "email": "ada@example.com", "name": "Ada Lovelace",
                    "plan": "pro"}

_JOINING = ("The event joins the visitor's visit active in the last 30 minutes (its session id, source, geo and "
            "device), recorded on the page of the visit's latest pageview, and extends it; with no active visit "
            "it starts one (Direct, on the site's domain at `/`, geo and device from `ip` and `userAgent` if sent). "
            "202 once committed, like tracker events. Site key only: the event belongs to the key's site.")
_CONTEXT = {
    "timestamp": {"type": "string", "format": "date-time",
                  "description": "When it happened (ISO 8601, UTC without an offset); now if left out; at most 5 "
                                 "minutes ahead."},
    "ip": {"type": "string", "description": "The visitor's IP, for geolocation of a visit this event starts; never "
                                            "stored."},
    "userAgent": {"type": "string", "maxLength": 1024,
                  "description": "The visitor's user agent (also `user_agent`), for the device of a visit this "
                                 "event starts."},
}
_VISITOR_ID = {"type": "string", "format": "uuid",
               "description": "The `_pm_vid` cookie, or `postmetric.getVisitorId()` in the browser."}
_PROPS = {"type": "object", "maxProperties": MAX_PROPS,
          "additionalProperties": {"type": ["string", "number", "boolean", "null"], "maxLength": MAX_PROP_VALUE_CHARS},
          "description": f"Flat: at most {MAX_PROPS} keys matching ^[a-z0-9_-]{{1,64}}$, values at most "
                         f"{MAX_PROP_VALUE_CHARS} characters."}


def _error(description: str, example: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"},
                                                           "example": {"error": example}}}}


def _operation(operation_id: str, summary: str, description: str, schema: dict[str, Any], example: Any,
               bad: str) -> dict[str, Any]:
    return {"post": {
        "tags": ["Ingestion"], "operationId": operation_id, "summary": summary,
        "description": f"{description} {_JOINING}",
        "security": [{"bearerAuth": []}],
        "requestBody": {"required": True, "content": {JSON: {"schema": schema, "example": example}}},
        "responses": {
            "202": {"description": "Committed. `session_id` is the visit it joined or started. An event dropped by "
                                   "the site's IP or country exclusions gets `session_id: null`, `dropped` and "
                                   "`X-Postmetric-Dropped`.",
                    "content": {JSON: {"example": ACCEPTED}}},
            "400": _error("Malformed JSON or an invalid field; the message names it.", bad),
            "401": {"$ref": "#/components/responses/Unauthorized"},
            "403": _error("Not a site key.", "authorization: goals and identify calls are sent with the site's "
                                             "key (pmk_…), not an account token or a session"),
            "413": _error("Body over 16 KiB.", "the request body is larger than 16384 bytes"),
            "429": {"$ref": "#/components/responses/TooManyRequests"},
            "503": _error("The write queue is full.", "too many events waiting to be written; retry shortly"),
        },
    }}


SERVER_EVENT_PATHS: dict[str, Any] = {
    "/api/v1/goals": _operation(
        "track_server_goal", "Record a goal from your backend (site key).",
        "For conversions only the backend sees (a signup confirmed, a trial started). DataFast's body "
        "(`datafast_visitor_id`, `metadata`) is accepted as is.",
        {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
            "visitor_id": _VISITOR_ID, "datafast_visitor_id": _VISITOR_ID,
            "name": {"type": "string", "pattern": GOAL_NAME.pattern},
            "props": _PROPS, "metadata": _PROPS | {"description": "The same as `props`; send one of them."},
            **_CONTEXT}},
        GOAL_EXAMPLE, "name: 'Sign Up' must be 1-64 characters of lowercase a-z, 0-9, '_', '-' or ':'"),
    "/api/v1/identify": _operation(
        "identify_visitor", "Say who a visitor is, from your backend (site key).",
        "`user_id` or `email` is required; `name` and any other flat fields are kept with them, as the script's "
        "`postmetric('identify', {...})` keeps its props. The visitor profile shows the identity, and payments "
        "with this email, or with this user id as their customer id, link to the visitor (`identity`), also "
        "payments recorded before.",
        {"type": "object", "required": ["visitor_id"], "properties": {
            "visitor_id": _VISITOR_ID, "user_id": {"type": ["string", "number"]}, "email": {"type": "string"},
            "name": {"type": "string"}, **_CONTEXT},
         "additionalProperties": {"type": ["string", "number", "boolean", "null"]}},
        IDENTIFY_EXAMPLE, "user_id: user_id or email is required (who the visitor is)"),
}
