"""The stats API: the query model (parsed by `stats/parse.py`, described here once), the analytics
reports, realtime and the visitor profile: shapes, examples and paths.

The query's enums come from `postmetric.stats.registry`, so a new metric or dimension appears in
the document and the dashboard's generated types without an edit here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
import orjson
from msgspec import UNSET, UnsetType

from postmetric.stats import registry
from postmetric.web.analytics import BREAKDOWNS, FILTERS, INTERVALS, OPERATORS, REPORTS
from postmetric.web.contract.accounts import Shape
from postmetric.web.contract.common import API_ERRORS, BEARER, RATE_HEADERS, SITE_ID, ok
from postmetric.web.contract.operation import Answer, JsonObject, Operation, error
from postmetric.web.contract.revenue import Payment


def _enum(names: tuple[str, ...]) -> Any:
    return Literal[names]  # type: ignore[valid-type]  # a registry tuple as an enum


Metric = _enum(registry.METRICS)
Dimension = _enum((*registry.TIME_DIMENSIONS, *registry.EVENT_DIMENSIONS, *registry.VISIT_DIMENSIONS,
                   *registry.SEARCH_DIMENSIONS)) | Annotated[
    str, msgspec.Meta(pattern=registry.PROPERTY_DIMENSION.pattern)]
DateRangeName = _enum(registry.DATE_RANGES)
Attribution = _enum(registry.ATTRIBUTIONS)
Comparison = _enum(registry.COMPARISONS)

# -- the query API -------------------------------------------------------------------------


class QueryInclude(msgspec.Struct, forbid_unknown_fields=True):
    comparison: Comparison | None = None
    time_labels: bool = False
    total_rows: bool = False


class QueryPagination(msgspec.Struct, forbid_unknown_fields=True):
    limit: Annotated[int, msgspec.Meta(ge=1, le=registry.MAX_LIMIT)] = 100
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0


# A filter is [operator, dimension, [values]], or ["and"|"or", [filters]], or ["not", filter]. msgspec
# takes one array type per union, so the three forms are written as JSON Schema; the nesting is
# left open and checked by the parser.
_VALUES = {"type": "array", "items": {"type": "string"}}
Filter = Annotated[Any, msgspec.Meta(extra_json_schema={"anyOf": [
    {"type": "array", "prefixItems": [{"enum": list(registry.FILTER_OPERATORS)}, {"type": "string"}, _VALUES],
     "minItems": 3, "maxItems": 3},
    {"type": "array", "prefixItems": [{"enum": ["and", "or"]}, {"type": "array"}], "minItems": 2, "maxItems": 2},
    {"type": "array", "prefixItems": [{"const": "not"}, {"type": "array"}], "minItems": 2, "maxItems": 2},
]})]


class Query(msgspec.Struct, forbid_unknown_fields=True):
    """A stats query (SPEC §5). `timezone` defaults to the site's; `attribution` to first_touch."""

    site_id: str
    date_range: DateRangeName | tuple[str, str]
    metrics: Annotated[list[Metric], msgspec.Meta(min_length=1)]
    dimensions: list[Dimension] = []
    filters: list[Filter] = []
    order_by: list[tuple[str, Literal["asc", "desc"]]] = []
    include: QueryInclude | UnsetType = UNSET
    pagination: QueryPagination | UnsetType = UNSET
    timezone: str | UnsetType = UNSET
    attribution: Attribution | UnsetType = UNSET


class NormalizedQuery(Shape):
    """The query as run: every default filled in, `date_range` resolved to [start, end)."""

    site_id: str
    date_range: tuple[str, str]
    metrics: list[Metric]
    dimensions: list[Dimension]
    filters: list[Filter]
    order_by: list[tuple[str, Literal["asc", "desc"]]]
    include: QueryInclude
    pagination: QueryPagination
    timezone: str
    attribution: Attribution


class RowComparison(Shape):
    metrics: list[float | None]
    change: list[float | None]


class QueryRow(Shape):
    """`comparison` is present when the query asked for one."""

    dimensions: list[str | None]
    metrics: list[float | None]
    comparison: RowComparison | UnsetType = UNSET


class QueryMeta(Shape):
    currency: str | UnsetType = UNSET
    total_rows: int | UnsetType = UNSET
    time_labels: list[str] | UnsetType = UNSET


class QueryResult(Shape):
    results: list[QueryRow]
    meta: QueryMeta
    query: NormalizedQuery


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
QUERY_RESULT_EXAMPLE = {
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

# -- realtime and visitors -----------------------------------------------------------------


class PageVisitors(Shape):
    page: str
    visitors: int


class SourceVisitors(Shape):
    source: str
    visitors: int


class CountryVisitors(Shape):
    country: str
    visitors: int


class RecentVisitor(Shape):
    visitor_id: str
    page: str
    source: str
    country: str
    last_seen: str


class Realtime(Shape):
    """`recent_visitors` (up to 20, newest first) is left out for a share link."""

    site_id: str
    at: str
    window_seconds: int
    visitors: int
    pages: list[PageVisitors]
    sources: list[SourceVisitors]
    countries: list[CountryVisitors]
    recent_visitors: list[RecentVisitor] | UnsetType = UNSET


class Identity(Shape):
    user_id: str | None
    email: str | None
    name: str | None
    props: JsonObject
    identified_at: str


class Geo(Shape):
    country: str
    region: str
    city: str


class DeviceViewport(Shape):
    width: int
    height: int


class Device(Shape):
    type: str
    browser: str
    browser_version: str
    os: str
    os_version: str
    viewport: DeviceViewport | None


class FirstTouch(Shape):
    source: str
    channel: str
    referrer: str
    referrer_host: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_term: str
    utm_content: str
    ref: str
    entry_page: str
    click_ids: dict[str, str]


class VisitorTotals(Shape):
    visits: int
    pageviews: int
    goals: int


class VisitorSession(Shape):
    session_id: str
    started_at: str
    ended_at: str
    duration: int
    entry_page: str
    exit_page: str
    pageviews: int
    source: str
    channel: str
    country: str
    device: str


class VisitedPage(Shape):
    page: str
    hostname: str
    title: str
    timestamp: str
    session_id: str


class ReachedGoal(Shape):
    name: str
    timestamp: str
    page: str
    props: JsonObject


class Person(Shape):
    """Who the visitor is across devices: the key of their identity (`user:…`, `email:…`, null when
    never identified) and every visitor of the site with it."""

    key: str | None
    visitor_ids: list[str]


class VisitorProfile(Shape):
    visitor_id: str
    first_seen: str
    last_seen: str
    identity: Identity | None
    geo: Geo
    device: Device
    first_touch: FirstTouch
    totals: VisitorTotals
    sessions: list[VisitorSession]
    pages: list[VisitedPage]
    goals: list[ReachedGoal]
    person: Person
    payments: list[Payment]
    truncated: bool


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

# -- the analytics reports (DataFast-style wrappers over the query API) ---------------------


class ReportPagination(Shape):
    limit: int
    offset: int
    total: int


class AnalyticsReport(Shape):
    """`data` holds the report's rows (keys per report, see the example); `timeseries` adds the fields
    from `fields` to `currency`."""

    status: Literal["success"]
    data: list[JsonObject]
    pagination: ReportPagination | UnsetType = UNSET
    fields: list[str] | UnsetType = UNSET
    interval: str | UnsetType = UNSET
    timezone: str | UnsetType = UNSET
    currency: str | UnsetType = UNSET
    totals: dict[str, float | None] | UnsetType = UNSET


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


REPORT_EXAMPLES: dict[str, Any] = {
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
_FILTER_EXAMPLES = {"country": "is:DE,FR", "page": "contains:/blog", "referrer": "is:Direct/None"}


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
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": registry.MAX_LIMIT,
                                                        "default": 100}, "description": "Rows per page."},
            {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0},
             "description": "Rows to skip."},
            {"name": "attribution", "in": "query",
             "schema": {"type": "string", "enum": list(registry.ATTRIBUTIONS), "default": "first_touch"},
             "description": "Which visit a payment's revenue is credited to when split by visit attributes."},
        ]
    if report == "timeseries":
        parameters.append({"name": "interval", "in": "query",
                           "schema": {"type": "string", "enum": list(INTERVALS), "default": "day"},
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


def _report(report: str) -> Operation:
    return Operation(
        "get", f"/api/v1/analytics/{report}", f"analytics_{report.replace('-', '_')}", "Analytics (DataFast-style)",
        _REPORT_SUMMARIES[report], {200: ok("The report.", AnalyticsReport, REPORT_EXAMPLES[report]), **API_ERRORS},
        description="A thin wrapper over `POST /api/v1/query`; field names follow DataFast's analytics API where it "
                    "has them.",
        security=BEARER, parameters=_report_parameters(report))


TAGS = [{"name": "Stats"}, {"name": "Analytics (DataFast-style)"}]
OPERATIONS = [
    Operation("post", "/api/v1/query", "query", "Stats", "Run a stats query (SPEC §5 query model).",
              {200: ok("The results, the currency and the normalised query.", QueryResult, QUERY_RESULT_EXAMPLE),
               **API_ERRORS, 413: error("Body over 64 KiB.", "body: larger than 65536 bytes")},
              description="`site_id` is the public id or domain; `timezone` defaults to the site's; money is in the "
                          "site currency. Every invalid query is a 400 naming the field.",
              security=BEARER, body=Query, body_example=QUERY_EXAMPLE),
    *(_report(report) for report in REPORTS),
    Operation("get", "/api/v1/realtime", "realtime", "Stats",
              "Visitors in the last 5 minutes, with the top 10 pages, sources and countries, and the 20 latest "
              "visitors (`recent_visitors`, newest first; left out for a share link).",
              {200: ok("The snapshot.", Realtime, REALTIME_EXAMPLE), **API_ERRORS},
              security=BEARER, parameters=[SITE_ID]),
    Operation("get", "/api/v1/realtime/stream", "realtime_stream", "Stats",
              "The realtime snapshot as Server-Sent Events.",
              {200: Answer("text/event-stream", headers=RATE_HEADERS, media="text/event-stream",
                           schema={"type": "string"},
                           example="event: realtime\ndata: " + orjson.dumps(REALTIME_EXAMPLE).decode() + "\n\n"),
               **API_ERRORS},
              description="An `event: realtime` frame with the snapshot of `GET /api/v1/realtime` at once, then every "
                          "5 seconds, until the client disconnects or the server stops. A key revoked while the "
                          "stream is open gets an `event: error` frame and the stream ends.",
              security=BEARER, parameters=[SITE_ID]),
    Operation("get", "/api/v1/visitors/{visitor_id}", "visitor", "Stats", "One visitor's profile and journey.",
              {200: ok("The profile.", VisitorProfile, VISITOR_EXAMPLE), **API_ERRORS},
              description="Identity (from identify events), geo and device (latest visit), first-touch acquisition, "
                          "sessions, pages in order, goals, `person` (who the visitor is across devices: the key "
                          "`user:<id>` or `email:<email>` of its latest identify, null if never identified, and every "
                          "visitor of that person, first seen first), and the payments of all the person's visitors "
                          "(oldest first, each with its `visitor_id`). "
                          "The newest 10,000 events are read (`truncated` says when there were more).",
              security=BEARER,
              parameters=[{"name": "visitor_id", "in": "path", "required": True,
                           "schema": {"type": "string", "format": "uuid"},
                           "description": "The `_pm_vid` cookie id (a UUID)."}, SITE_ID]),
]
