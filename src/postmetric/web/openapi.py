"""The OpenAPI 3.1 document of the HTTP API, and the HTML page that renders it offline.

The document is written by hand, as data; the parts that follow a registry (the analytics
reports, their `filter_*` parameters) are generated from it, so they cannot drift. A test checks
that every `/api/…` route of the app is described here.

Secondary responsibility: `docs_html`, a self-contained page (no scripts, no CDN: instances may
be offline) listing every operation with its parameters and examples.
"""

from __future__ import annotations

import html
from typing import Any

import orjson

from postmetric.web.analytics import BREAKDOWNS, FILTERS, OPERATORS, REPORTS
from postmetric.web.openapi_accounts import ACCOUNT_PATHS, ACCOUNT_TAGS, SECURITY_SCHEMES
from postmetric.web.openapi_funnels import FUNNEL_PATHS, FUNNEL_TAGS
from postmetric.web.openapi_goals import GOAL_PATHS, GOAL_TAGS
from postmetric.web.openapi_privacy import PRIVACY_PATHS, PRIVACY_TAGS
from postmetric.web.openapi_revenue import REVENUE_PATHS, REVENUE_TAGS
from postmetric.web.openapi_server_events import SERVER_EVENT_PATHS

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{name}"}


def _json(example: Any, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {JSON: {"schema": schema or {"type": "object"}, "example": example}}


def _error(description: str, example: str) -> dict[str, Any]:
    return {"description": description, "content": _json({"error": example}, _ref("schemas/Error"))}


RATE_HEADERS = {
    "X-RateLimit-Limit": {"description": "Requests allowed per window for this credential.",
                          "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in the current window.", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "Unix time (seconds) at which the window resets.",
                          "schema": {"type": "integer"}},
}
API_ERRORS = {
    "400": _ref("responses/BadRequest"),
    "401": _ref("responses/Unauthorized"),
    "404": _ref("responses/NotFound"),
    "429": _ref("responses/TooManyRequests"),
}
SITE_ID = {
    "name": "site_id", "in": "query", "required": False, "schema": {"type": "string"}, "example": "pm_AbC123xyz987",
    "description": "The site's public id or domain. Required with an account token; a site key reads its own site.",
}


def _ok(description: str, example: Any) -> dict[str, Any]:
    return {"description": description, "headers": RATE_HEADERS, "content": _json(example)}


# -- the analytics reports ----------------------------------------------------------------

_PAGINATION = {"limit": 100, "offset": 0, "total": 2}
_SAMPLE_KEYS = {
    "hostname": ["example.com", "blog.example.com"], "path": ["/", "/pricing"], "referrer": ["Google", "Direct/None"],
    "channel": ["Organic Search", "Direct"], "country": ["DE", "US"], "region": ["Berlin", "California"],
    "city": ["Berlin", "San Francisco"], "browser": ["Chrome", "Safari"], "operating_system": ["Windows", "iOS"],
    "device": ["desktop", "mobile"], "goal": ["signup", "checkout"],
    "utm_source": ["newsletter", "twitter"], "utm_medium": ["email", "social"],
    "utm_campaign": ["launch", "spring"], "utm_term": ["", ""], "utm_content": ["", "hero"],
}


def _breakdown_example(name: str) -> dict[str, Any]:
    report = BREAKDOWNS[name]
    rows = []
    for i, counts in enumerate(((1200, 3400, 1520.5), (310, 720, 0.0))):
        keys = {key: _SAMPLE_KEYS[key][i] for key in report.keys}
        rows.append(({report.nest: keys} if report.nest else keys)
                    | {key: count for (key, _), count in zip(report.metrics, counts)})
    return {"status": "success", "data": rows, "pagination": _PAGINATION}


_REPORT_EXAMPLES: dict[str, Any] = {
    "overview": {"status": "success", "data": [{
        "visitors": 12450, "sessions": 16890, "pageviews": 40210, "bounce_rate": 41,
        "avg_session_duration": 146000, "views_per_visit": 2.38, "revenue": 4820.0,
        "revenue_per_visitor": 0.39, "conversion_rate": 0.82, "payments": 104, "currency": "EUR"}]},
    "timeseries": {
        "status": "success", "fields": ["visitors", "sessions", "pageviews", "revenue"], "interval": "day",
        "timezone": "Europe/Berlin", "currency": "EUR",
        "totals": {"visitors": 830, "sessions": 1010, "pageviews": 2300, "revenue": 148.0},
        "data": [{"name": "17 Nov", "timestamp": "2026-11-17T00:00:00+01:00", "visitors": 410, "sessions": 500,
                  "pageviews": 1130, "revenue": 99.0},
                 {"name": "18 Nov", "timestamp": "2026-11-18T00:00:00+01:00", "visitors": 420, "sessions": 510,
                  "pageviews": 1170, "revenue": 49.0}],
        "pagination": _PAGINATION},
    "realtime": {"status": "success", "data": [{"visitors": 42}]},
    **{name: _breakdown_example(name) for name in BREAKDOWNS},
    "goals": {"status": "success", "pagination": _PAGINATION, "data": [
        {"goal": "Sign up", "completions": 410, "visitors": 380, "conversion_rate": 3.05, "revenue": 1520.5},
        {"goal": "Visit /thank-you", "completions": 120, "visitors": 118, "conversion_rate": 0.95, "revenue": 0.0}]},
}
_REPORT_SUMMARIES = {
    "overview": "Headline numbers: visitors, sessions, pageviews, bounce rate, average session duration (ms), "
                "net revenue, revenue per visitor, conversion rate (% of visitors who paid; with filter_goal, "
                "who completed the goal), payments.",
    "timeseries": "Visitors, sessions, pageviews and net revenue per hour, day, week or month.",
    "realtime": "Visitors active in the last 5 minutes.",
    "pages": "Visitors, pageviews and revenue by hostname and path.",
    "referrers": "Visitors, pageviews and revenue by source name (Direct/None for visits without one).",
    "channels": "Visitors, pageviews and revenue by channel (GA4 grouping plus AI assistants).",
    "campaigns": "Visitors, pageviews and revenue by UTM values; visits without UTM tags are left out.",
    "countries": "Visitors, pageviews and revenue by country (ISO 3166-1 alpha-2 code).",
    "regions": "Visitors, pageviews and revenue by region.",
    "cities": "Visitors, pageviews and revenue by city.",
    "browsers": "Visitors, pageviews and revenue by browser.",
    "operating-systems": "Visitors, pageviews and revenue by operating system.",
    "devices": "Visitors, pageviews and revenue by device type.",
    "hostnames": "Visitors, pageviews and revenue by hostname.",
    "goals": "Completions, converting visitors, conversion rate (% of visitors) and revenue of converters by "
             "goal: custom events by name, defined goals by display name, page-visit goals.",
}


def _report_parameters(report: str) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [SITE_ID]
    if report != "realtime":
        parameters += [
            {"name": "startAt", "in": "query", "schema": {"type": "string"}, "example": "2026-11-01",
             "description": "Start, an ISO date (the whole day) or datetime; with endAt. Both absent: all time "
                            "(timeseries: 24h, 30d or 12mo by interval)."},
            {"name": "endAt", "in": "query", "schema": {"type": "string"}, "example": "2026-11-30",
             "description": "End, an ISO date (inclusive) or datetime; with startAt."},
            {"name": "timezone", "in": "query", "schema": {"type": "string"}, "example": "Europe/Berlin",
             "description": "IANA time zone of dates and buckets; default the site's."},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000,
                                                        "default": 100}, "description": "Rows per page."},
            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0},
             "description": "Rows to skip."},
            {"name": "attribution", "in": "query",
             "schema": {"type": "string", "enum": ["first_touch", "last_touch"], "default": "first_touch"},
             "description": "Which visit a payment's revenue is credited to when split by visit attributes."},
        ]
    if report == "timeseries":
        parameters.append({"name": "interval", "in": "query",
                           "schema": {"type": "string", "enum": ["hour", "day", "week", "month"], "default": "day"},
                           "description": "Bucket size."})
    if report in ("overview", "timeseries"):
        parameters.append({"name": "fields", "in": "query", "schema": {"type": "string"},
                           "example": "visitors,sessions", "description": "Comma list of the row keys to return."})
    operators = ", ".join(OPERATORS)
    for name, dimension in FILTERS.items():
        parameter = {"name": f"filter_{name}", "in": "query", "schema": {"type": "string"},
                     "description": f"Filter by {dimension}: `<operator>:<comma list>`, operators {operators}."}
        if name in _FILTER_EXAMPLES:
            parameter["example"] = _FILTER_EXAMPLES[name]
        parameters.append(parameter)
    return parameters


_FILTER_EXAMPLES = {"country": "is:DE,FR", "page": "contains:/blog", "referrer": "is:Direct/None"}


def _report_path(report: str) -> dict[str, Any]:
    return {"get": {
        "tags": ["Analytics (DataFast-style)"],
        "operationId": f"analytics_{report.replace('-', '_')}",
        "summary": _REPORT_SUMMARIES[report],
        "description": "A thin wrapper over `POST /api/v1/query`; field names follow DataFast's analytics API "
                       "where it has them.",
        "security": [{"bearerAuth": []}],
        "parameters": _report_parameters(report),
        "responses": {"200": _ok("The report.", _REPORT_EXAMPLES[report]), **API_ERRORS},
    }}


# -- the document --------------------------------------------------------------------------

QUERY_EXAMPLE = {
    "site_id": "pm_AbC123xyz987",
    "date_range": "7d",
    "metrics": ["visitors", "pageviews", "bounce_rate"],
    "dimensions": ["visit:source"],
    "filters": [["is", "visit:country", ["DE", "FR"]]],
    "order_by": [["visitors", "desc"]],
    "include": {"total_rows": True},
    "pagination": {"limit": 2, "offset": 0},
}
QUERY_RESPONSE_EXAMPLE = {
    "results": [{"dimensions": ["Google"], "metrics": [320, 910, 38]},
                {"dimensions": [""], "metrics": [150, 240, 61]}],
    "meta": {"currency": "EUR", "total_rows": 7},
    "query": {"site_id": "pm_AbC123xyz987",
              "date_range": ["2026-11-20T00:00:00+01:00", "2026-11-27T00:00:00+01:00"],
              "metrics": ["visitors", "pageviews", "bounce_rate"], "dimensions": ["visit:source"],
              "filters": [["is", "visit:country", ["DE", "FR"]]], "order_by": [["visitors", "desc"]],
              "include": {"comparison": None, "time_labels": False, "total_rows": True},
              "pagination": {"limit": 2, "offset": 0}, "timezone": "Europe/Berlin", "attribution": "first_touch"},
}
REALTIME_EXAMPLE = {
    "site_id": "pm_AbC123xyz987", "at": "2026-11-26T14:03:00Z", "window_seconds": 300, "visitors": 3,
    "pages": [{"page": "/pricing", "visitors": 2}, {"page": "/", "visitors": 1}],
    "sources": [{"source": "Google", "visitors": 2}, {"source": "Direct/None", "visitors": 1}],
    "countries": [{"country": "DE", "visitors": 2}, {"country": "US", "visitors": 1}],
    "recent_visitors": [{"visitor_id": "3f1c2a9e-8b7d-4c6e-9f00-1a2b3c4d5e6f", "page": "/pricing", "source": "Google",
                         "country": "DE", "last_seen": "2026-11-26T14:02:41Z"}],
}
VISITOR_EXAMPLE = {
    "visitor_id": "3f1c2a9e-8b7d-4c6e-9f00-1a2b3c4d5e6f",
    "first_seen": "2026-11-20T09:00:00Z", "last_seen": "2026-11-26T10:01:00Z",
    "identity": {"user_id": "u_42", "email": "ada@example.com", "name": "Ada",
                 "props": {"user_id": "u_42", "email": "ada@example.com", "name": "Ada"},
                 "identified_at": "2026-11-26T10:01:00Z"},
    "geo": {"country": "DE", "region": "Berlin", "city": "Berlin"},
    "device": {"type": "desktop", "browser": "Chrome", "browser_version": "131.0", "os": "Windows",
               "os_version": "10", "viewport": {"width": 1280, "height": 800}},
    "first_touch": {"source": "Google", "channel": "Organic Search", "referrer": "https://www.google.com/",
                    "referrer_host": "google.com", "utm_source": "", "utm_medium": "", "utm_campaign": "",
                    "utm_term": "", "utm_content": "", "ref": "", "entry_page": "/", "click_ids": {}},
    "totals": {"visits": 2, "pageviews": 3, "goals": 1},
    "sessions": [{"session_id": "0b6f…", "started_at": "2026-11-20T09:00:00Z", "ended_at": "2026-11-20T09:05:00Z",
                  "duration": 300, "entry_page": "/", "exit_page": "/pricing", "pageviews": 2, "source": "Google",
                  "channel": "Organic Search", "country": "DE", "device": "desktop"}],
    "pages": [{"page": "/", "hostname": "example.com", "title": "Home", "timestamp": "2026-11-20T09:00:00Z",
               "session_id": "0b6f…"}],
    "goals": [{"name": "signup", "timestamp": "2026-11-20T09:05:00Z", "page": "/pricing", "props": {"plan": "pro"}}],
    "person": {"key": "user:u_42", "visitor_ids": ["3f1c2a9e-8b7d-4c6e-9f00-1a2b3c4d5e6f",
                                                    "9d2e7b10-4c3a-4f5e-8a61-0b1c2d3e4f50"]},
    "payments": [],
    "truncated": False,
}
PAYMENT_EXAMPLE = {"transaction_id": "pi_3PXYZ", "amount": 29.99, "currency": "USD",
                   "visitor_id": "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10", "email": "ada@example.com",
                   "customer_id": "cus_123", "renewal": False, "refunded": False}
PAYMENT_RESPONSE_EXAMPLE = {
    "transaction_id": "pi_3PXYZ", "provider": "api", "kind": "new", "amount": "29.99", "currency": "USD",
    "amount_minor": 2999, "reporting_amount": "29.99", "reporting_currency": "USD",
    "timestamp": "2026-03-11T12:00:00Z", "customer_id": "cus_123", "email": "ada@example.com",
    "visitor_id": "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10", "session_id": None, "link_method": "metadata",
}
CUSTOMERS_EXAMPLE = {
    "results": [{"customer": "ada@example.com", "person": "user:u_42", "email": "ada@example.com",
                 "customer_id": "cus_123",
                 "visitor_id": "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10", "first_source": "Google",
                 "first_channel": "Organic Search", "revenue": 88, "payments": 2, "refunds": 10,
                 "first_payment_at": "2026-11-05T09:00:00Z", "last_payment_at": "2026-11-20T09:00:00Z"}],
    "meta": {"currency": "USD", "total_rows": 1},
}
EVENT_EXAMPLE = {"websiteId": "pm_AbC123xyz987", "type": "pageview", "href": "https://example.com/pricing",
                 "referrer": "https://www.google.com/"}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Postmetric API",
        "version": "1",
        "description": "Ingestion and stats API of a Postmetric instance. Stats endpoints take "
                       "`Authorization: Bearer <key>`: a site key (`pmk_…`) reads its own site, an account token "
                       "(`pmt_…`) the sites its user owns. Errors are `{\"error\": \"<field>: <message>\"}`.",
    },
    "tags": [{"name": "Ingestion"}, {"name": "Stats"}, {"name": "Analytics (DataFast-style)"}, {"name": "Payments"},
             *ACCOUNT_TAGS, *GOAL_TAGS, *FUNNEL_TAGS, *REVENUE_TAGS, *PRIVACY_TAGS, {"name": "Meta"}],
    "paths": {
        "/api/events": {"post": {
            "tags": ["Ingestion"], "operationId": "track_event", "summary": "Record one event (the tracking script).",
            "description": "Sent as text/plain (no CORS preflight) or application/json, at most 16 KiB. No key: "
                           "the site is named by `websiteId`. Well-formed events dropped on purpose still get 202, "
                           "with `X-Postmetric-Dropped: <reason>`.",
            "requestBody": {"required": True, "content": {"text/plain": {"example": EVENT_EXAMPLE},
                                                          **_json(EVENT_EXAMPLE)}},
            "responses": {
                "202": {"description": "Stored (or dropped on purpose).", "content": _json({"ok": True})},
                "400": _error("Malformed JSON or an invalid field.",
                              "invalid event: missing required field `websiteId`"),
                "413": _error("Body over 16 KiB.", "the request body is larger than 16384 bytes"),
                "415": _error("Another Content-Type.", "Content-Type must be text/plain or application/json, not 'x'"),
                "429": _error("Over the per-IP rate limit.", "too many events from this address; slow down"),
                "503": _error("The write queue is full.", "too many events waiting to be written; retry shortly"),
            },
        }},
        "/api/events.gif": {"get": {
            "tags": ["Ingestion"], "operationId": "track_pixel", "summary": "Record one event from query parameters.",
            "description": "The fields of `POST /api/events` as query parameters, for no-script pages and emails.",
            "parameters": [
                {"name": "websiteId", "in": "query", "required": True, "schema": {"type": "string"}},
                {"name": "type", "in": "query", "required": True, "schema": {"type": "string"}, "example": "pageview"},
                {"name": "href", "in": "query", "required": True, "schema": {"type": "string"}},
            ],
            "responses": {"200": {"description": "A 1×1 GIF.", "content": {"image/gif": {}}},
                          "400": _error("An invalid field.", "invalid event: …")},
        }},
        "/api/v1/events": {"post": {
            "tags": ["Ingestion"], "operationId": "track_server_events",
            "summary": "Record events from your backend (site key).",
            "description": "One event or an array of up to 1,000, each with optional `timestamp` (backfills), `ip` "
                           "and `userAgent`. A key writes only to its own site.",
            "security": [{"bearerAuth": []}],
            "requestBody": {"required": True, "content": _json([EVENT_EXAMPLE | {
                "timestamp": "2026-11-20T10:00:00Z", "ip": "81.2.69.142", "userAgent": "Mozilla/5.0 …"}])},
            "responses": {
                "202": {"description": "Accepted.", "content": _json({"ok": True, "accepted": 1, "dropped": []})},
                "400": _error("An invalid event.", "event [0]: …"),
                "401": _error("No valid site key.", "the API key is unknown or revoked"),
                "404": _error("An event for another site.", "event [0]: site 'pm_x' not found for this key"),
            },
        }},
        **SERVER_EVENT_PATHS,
        "/api/v1/query": {"post": {
            "tags": ["Stats"], "operationId": "query", "summary": "Run a stats query (SPEC §5 query model).",
            "description": "`site_id` is the public id or domain; `timezone` defaults to the site's; money is in the "
                           "site currency. Every invalid query is a 400 naming the field.",
            "security": [{"bearerAuth": []}],
            "requestBody": {"required": True, "content": _json(QUERY_EXAMPLE, _ref("schemas/Query"))},
            "responses": {"200": _ok("The results, the currency and the normalised query.", QUERY_RESPONSE_EXAMPLE),
                          **API_ERRORS,
                          "413": _error("Body over 64 KiB.", "body: larger than 65536 bytes")},
        }},
        **{f"/api/v1/analytics/{report}": _report_path(report) for report in REPORTS},
        "/api/v1/realtime": {"get": {
            "tags": ["Stats"], "operationId": "realtime",
            "summary": "Visitors in the last 5 minutes, with the top 10 pages, sources and countries, and the "
                       "20 latest visitors (`recent_visitors`, newest first; left out for a share link).",
            "security": [{"bearerAuth": []}], "parameters": [SITE_ID],
            "responses": {"200": _ok("The snapshot.", REALTIME_EXAMPLE), **API_ERRORS},
        }},
        "/api/v1/realtime/stream": {"get": {
            "tags": ["Stats"], "operationId": "realtime_stream",
            "summary": "The realtime snapshot as Server-Sent Events.",
            "description": "An `event: realtime` frame with the snapshot of `GET /api/v1/realtime` at once, then every "
                           "5 seconds, until the client disconnects or the server stops. A key revoked while the "
                           "stream is open gets an `event: error` frame and the stream ends.",
            "security": [{"bearerAuth": []}], "parameters": [SITE_ID],
            "responses": {"200": {"description": "text/event-stream", "headers": RATE_HEADERS, "content": {
                "text/event-stream": {"schema": {"type": "string"},
                                      "example": "event: realtime\ndata: " + orjson.dumps(REALTIME_EXAMPLE).decode()
                                                 + "\n\n"}}},
                          **API_ERRORS},
        }},
        "/api/v1/visitors/{visitor_id}": {"get": {
            "tags": ["Stats"], "operationId": "visitor", "summary": "One visitor's profile and journey.",
            "description": "Identity (from identify events), geo and device (latest visit), first-touch acquisition, "
                           "sessions, pages in order, goals, `person` (who the visitor is across devices: the key "
                           "`user:<id>` or `email:<email>` of its latest identify, null if never identified, and every "
                           "visitor of that person, first seen first), and the payments of all the person's visitors "
                           "(oldest first, each with its `visitor_id`). "
                           "The newest 10,000 events are read (`truncated` says when there were more).",
            "security": [{"bearerAuth": []}],
            "parameters": [{"name": "visitor_id", "in": "path", "required": True,
                            "schema": {"type": "string", "format": "uuid"},
                            "description": "The `_pm_vid` cookie id (a UUID)."}, SITE_ID],
            "responses": {"200": _ok("The profile.", VISITOR_EXAMPLE), **API_ERRORS},
        }},
        "/api/v1/payments": {
            "post": {
                "tags": ["Payments"], "operationId": "record_payment", "summary": "Record a payment from your backend.",
                "description": "Site key only. `amount` is in major units (a number or a decimal string); `renewal` "
                               "and `refunded` choose the kind (an amount of 0 is a free trial); `visitor_id` and "
                               "`session_id` (or DataFast's `datafast_visitor_id`) link it to the visit. Idempotent "
                               "on the transaction id (a refund is its own entry): a second delivery answers 200 "
                               "with the payment already recorded and changes nothing.",
                "security": [{"bearerAuth": []}],
                "requestBody": {"required": True, "content": _json(PAYMENT_EXAMPLE, _ref("schemas/PaymentIn"))},
                "responses": {"201": _ok("Recorded.", {"ok": True, "payment": PAYMENT_RESPONSE_EXAMPLE}),
                              "200": _ok("Already recorded: the stored payment.",
                                         {"ok": True, "payment": PAYMENT_RESPONSE_EXAMPLE}),
                              "403": _error("Not a site key.", "authorization: payments are recorded with the "
                                                               "site's key (pmk_…), not an account token or a session"),
                              **API_ERRORS},
            },
            "delete": {
                "tags": ["Payments"], "operationId": "delete_payment",
                "summary": "Remove a payment recorded with the Payments API (and its refund).",
                "security": [{"bearerAuth": []}],
                "parameters": [{"name": "transaction_id", "in": "query", "required": True,
                                "schema": {"type": "string"}, "example": "pi_3PXYZ"}],
                "responses": {"204": {"description": "Removed.", "headers": RATE_HEADERS},
                              "403": _error("Not a site key.", "authorization: payments are recorded with the "
                                                               "site's key (pmk_…), not an account token or a session"),
                              **API_ERRORS},
            },
        },
        "/api/v1/customers": {"get": {
            "tags": ["Payments"], "operationId": "customers", "summary": "Who paid in a date range, and how much.",
            "description": "One row per customer over the payments in the range: the person the linked visitor "
                           "is identified as (`person`: `user:<id>`, else `email:<email>`; one user's devices are one "
                           "customer), else the payment's email, else customer id, else linked visitor. Net revenue "
                           "in the site currency (major units), new and renewal payment count, refunded amount, "
                           "first and last payment, and the source and channel of the person's first visit on any "
                           "device. Ordered by revenue, highest first.",
            "security": [{"bearerAuth": []}],
            "parameters": [SITE_ID,
                           {"name": "date_range", "in": "query", "required": False, "schema": {"type": "string"},
                            "example": "30d", "description": "A query API range name (default `30d`) or "
                                                             "`<start>,<end>` ISO dates, in the site's time zone."},
                           {"name": "limit", "in": "query", "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}},
                           {"name": "offset", "in": "query", "required": False,
                            "schema": {"type": "integer", "minimum": 0, "default": 0}}],
            "responses": {"200": _ok("The customers and the total count.", CUSTOMERS_EXAMPLE), **API_ERRORS},
        }},
        **ACCOUNT_PATHS,
        **GOAL_PATHS,
        **FUNNEL_PATHS,
        **REVENUE_PATHS,
        **PRIVACY_PATHS,
        "/api/health": {"get": {
            "tags": ["Meta"], "operationId": "health", "summary": "Liveness, and events waiting to be stored.",
            "responses": {"200": {"description": "OK", "content": _json({"status": "ok", "events_pending": 0})}},
        }},
        "/api/openapi.json": {"get": {
            "tags": ["Meta"], "operationId": "openapi", "summary": "This document.",
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {JSON: {}}}},
        }},
        "/api/docs": {"get": {
            "tags": ["Meta"], "operationId": "docs", "summary": "This document as an HTML page.",
            "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
        }},
    },
    "components": {
        "securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer",
            "description": "A site key (`pmk_…`, one site) or an account token (`pmt_…`, the sites its user owns), "
                           "from `postmetric keys create` / `postmetric tokens create`.",
        }, **SECURITY_SCHEMES},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
            "PaymentIn": {
                "type": "object", "required": ["transaction_id", "amount", "currency"],
                "properties": {
                    "transaction_id": {"type": "string", "maxLength": 255},
                    "amount": {"type": ["number", "string"], "maxLength": 40,
                               "description": "Major units, e.g. 29.99; not negative, below 10^12."},
                    "currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
                    "visitor_id": {"type": "string", "format": "uuid"},
                    "datafast_visitor_id": {"type": "string", "format": "uuid"},
                    "session_id": {"type": "string", "format": "uuid"},
                    "email": {"type": "string"}, "customer_id": {"type": "string"},
                    "renewal": {"type": "boolean"}, "refunded": {"type": "boolean"},
                    "timestamp": {"type": "string", "format": "date-time",
                                  "description": "When it was paid, 2000-01-01 … now + 1 day; now if left out."},
                },
            },
            "Query": {
                "type": "object", "required": ["site_id", "date_range", "metrics"],
                "properties": {
                    "site_id": {"type": "string"},
                    "date_range": {"oneOf": [{"type": "string", "enum": ["realtime", "day", "24h", "7d", "30d",
                                                                          "month", "6mo", "12mo", "year", "all"]},
                                             {"type": "array", "items": {"type": "string"}, "minItems": 2,
                                              "maxItems": 2}]},
                    "metrics": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "dimensions": {"type": "array", "items": {"type": "string"}},
                    "filters": {"type": "array"},
                    "order_by": {"type": "array", "items": {"type": "array"}},
                    "include": {"type": "object", "properties": {
                        "comparison": {"type": ["string", "null"], "enum": ["previous_period", "year_over_year", None]},
                        "time_labels": {"type": "boolean"}, "total_rows": {"type": "boolean"}}},
                    "pagination": {"type": "object", "properties": {
                        "limit": {"type": "integer", "minimum": 1, "maximum": 10000},
                        "offset": {"type": "integer", "minimum": 0}}},
                    "timezone": {"type": "string"},
                    "attribution": {"type": "string", "enum": ["first_touch", "last_touch"]},
                },
            },
        },
        "responses": {
            "BadRequest": {"description": "An invalid query or parameter; the message names it.",
                           "headers": RATE_HEADERS,
                           "content": _json({"error": "metrics: unknown metric 'visits_total'; known: visitors, …"},
                                            _ref("schemas/Error"))},
            "Unauthorized": {"description": "No key, a malformed key, or an unknown or revoked one.",
                             "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                             "content": _json({"error": "the API key is unknown or revoked"}, _ref("schemas/Error"))},
            "NotFound": {"description": "The site does not exist or the key cannot read it (the same answer).",
                         "headers": RATE_HEADERS,
                         "content": _json({"error": "site_id: site 'pm_AbC123xyz987' not found"},
                                          _ref("schemas/Error"))},
            "TooManyRequests": {"description": "Over the credential's rate limit (`POSTMETRIC_API_RATE_LIMIT`).",
                                "headers": {**RATE_HEADERS, "Retry-After": {"schema": {"type": "integer"}}},
                                "content": _json({"error": "too many requests for this key: 600 per 60 s; retry "
                                                           "after 12 s"}, _ref("schemas/Error"))},
        },
    },
}


# -- the HTML page -------------------------------------------------------------------------

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
h2{margin-top:2.5rem;border-bottom:1px solid #d0d7de}
section{border:1px solid #d0d7de;border-radius:6px;padding:.25rem 1rem 1rem;margin:1rem 0}
.method{display:inline-block;min-width:3.5rem;font-weight:700;color:#fff;background:#0969da;border-radius:4px;
text-align:center;margin-right:.5rem;padding:0 .4rem}.post{background:#1a7f37}
code,pre{font:13px ui-monospace,monospace}pre{background:#f6f8fa;padding:.75rem;overflow:auto;border-radius:6px}
table{border-collapse:collapse;width:100%}td,th{border-top:1px solid #d0d7de;padding:.3rem;text-align:left;
vertical-align:top}details{margin:.5rem 0}
"""


def docs_html(document: dict[str, Any] = OPENAPI) -> str:
    """The document as one HTML page: operations grouped by tag, each with parameters and examples."""
    e = html.escape
    info = document["info"]
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{e(info['title'])}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{e(info['title'])}</h1><p>{e(info['description'])}</p>"
             "<p>Machine-readable: <a href='/api/openapi.json'>/api/openapi.json</a> (OpenAPI 3.1).</p>"]
    for tag in document["tags"]:
        parts.append(f"<h2>{e(tag['name'])}</h2>")
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                if tag["name"] in operation.get("tags", ()):
                    parts.append(_operation_html(path, method, operation, document))
    parts.append("</body></html>")
    return "".join(parts)


def _operation_html(path: str, method: str, operation: dict[str, Any], document: dict[str, Any]) -> str:
    e = html.escape
    out = [f"<section id='{e(operation['operationId'])}'><h3><span class='method {method}'>{method.upper()}</span>"
           f"<code>{e(path)}</code></h3><p>{e(operation['summary'])}</p>"]
    if "description" in operation:
        out.append(f"<p>{e(operation['description'])}</p>")
    if operation.get("security"):
        out.append("<p><em>Needs <code>Authorization: Bearer &lt;key&gt;</code>.</em></p>")
    if operation.get("parameters"):
        out.append("<table><tr><th>parameter</th><th>in</th><th>meaning</th></tr>")
        for p in operation["parameters"]:
            example = f" e.g. <code>{e(str(p['example']))}</code>" if "example" in p else ""
            required = " (required)" if p.get("required") else ""
            out.append(f"<tr><td><code>{e(p['name'])}</code>{required}</td><td>{e(p['in'])}</td>"
                       f"<td>{e(p.get('description', ''))}{example}</td></tr>")
        out.append("</table>")
    body = operation.get("requestBody")
    if body:
        media, content = next(iter(body["content"].items()))
        out.append(f"<details open><summary>request body ({e(media)})</summary>{_example_html(content)}</details>")
    for status, response in operation["responses"].items():
        response = _resolve(response, document)
        content = next(iter(response.get("content", {}).values()), {})
        out.append(f"<details{' open' if status.startswith('2') else ''}><summary><b>{e(status)}</b> "
                   f"{e(response['description'])}</summary>{_example_html(content)}</details>")
    out.append("</section>")
    return "".join(out)


def _example_html(content: dict[str, Any]) -> str:
    if "example" not in content:
        return ""
    example = content["example"]
    text = example if isinstance(example, str) else orjson.dumps(example, option=orjson.OPT_INDENT_2).decode()
    return f"<pre>{html.escape(text)}</pre>"


def _resolve(item: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in item:
        return item
    node: Any = document
    for part in item["$ref"].removeprefix("#/").split("/"):
        node = node[part]
    return node
