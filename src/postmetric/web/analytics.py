"""DataFast-style analytics reports and the realtime snapshot, as thin translations over the query model.

`GET /api/v1/analytics/<report>?startAt=&endAt=&timezone=&interval=&limit=&offset=&fields=&filter_<name>=<op>:<values>`
becomes one or two SPEC §5 queries (validated by `parse_query`, run by `StatsEngine`), and their
results are reshaped into DataFast's response: `{"status": "success", "data": [...], "pagination":
{limit, offset, total}}`. A bad parameter raises `QueryError` named after the parameter
(`limit`, `filter_country`, `startAt`…), never after the query field it became.

Secondary responsibility: `realtime_snapshot`, the body of `GET /api/v1/realtime` and of each
frame of its event stream, with the visitors active in its window (`recent_visitors`, newest first,
read straight from the event store: the query model has no per-visitor rows).

Where DataFast and Postmetric differ, the choices made:
- Errors keep Postmetric's one shape, `{"error": "<parameter>: <message>"}`, rather than DataFast's
  `{"status": "error", "error": {code, message}}`: one error shape across the whole API.
- `avg_session_duration` is in milliseconds, as DataFast's example (245678.45) implies; the query
  API's `visit_duration` is whole seconds, so it is a multiple of 1,000 here.
- `sessions` is Postmetric's `visits`. `currency` is the site's ISO code ("EUR"), not a symbol.
- Money (`revenue`, `revenue_per_visitor`) is a number in major units of `currency`; revenue is
  net of refunds, and split by visit attributes with the `attribution` parameter (`first_touch`,
  the default, or `last_touch`). `conversion_rate` is the % of visitors who paid; with a
  `filter_goal` it is the % of visitors who completed the goal.
- Breakdown rows carry `visitors`, `pageviews` and `revenue` (DataFast: `visitors`, `revenue`);
  `goals` rows `goal`, `completions`, `visitors` as in DataFast, plus `conversion_rate` (% of the
  range's visitors, under the other filters, who completed it) and `revenue` (paid by its
  converters after completing it). Goals are named by the site's goal definitions (display
  names, page-visit goals), custom events without one by their name.
- `countries` rows hold the ISO code (`"DE"`), not DataFast's English name and flag image URL
  (the instance may be offline); `filter_country` takes codes too.
- `referrers` is by source name ("Google", "X"), which is what DataFast calls a referrer; visits
  without one are "Direct/None", and `filter_referrer=is:Direct/None` selects them.
- `campaigns` rows nest the five UTM values under `campaign`; visits without any UTM are left
  out. DataFast's `ref`/`source`/`via` are not dimensions of the query model.
- Without `startAt`/`endAt` a report covers all time, except `timeseries`, which (like DataFast)
  defaults by interval: hour → 24h, day and week → 30d, month → 12mo.
- `fields` selects the keys of `overview` and `timeseries` rows; other reports ignore it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from postmetric.store.dialects import DIALECTS
from postmetric.stats.parse import parse_query
from postmetric.stats.query import DateRange, Query, QueryError
from postmetric.store.events import EventStore

DIRECT = "Direct/None"
INTERVALS = ("hour", "day", "week", "month")
TIMESERIES_DEFAULT_RANGE = {"hour": "24h", "day": "30d", "week": "30d", "month": "12mo"}
REALTIME_WINDOW = timedelta(minutes=5)
REALTIME_TOP = 10
REALTIME_RECENT_VISITORS = 20
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# filter_<name> → the query dimension it filters.
FILTERS: dict[str, str] = {
    "page": "event:page",
    "hostname": "event:hostname",
    "goal": "event:goal",
    "entry_page": "visit:entry_page",
    "exit_page": "visit:exit_page",
    "source": "visit:source",
    "referrer": "visit:source",  # DataFast's "referrer" is the source name ("Google", "X")
    "channel": "visit:channel",
    "utm_source": "visit:utm_source",
    "utm_medium": "visit:utm_medium",
    "utm_campaign": "visit:utm_campaign",
    "utm_term": "visit:utm_term",
    "utm_content": "visit:utm_content",
    "country": "visit:country",
    "region": "visit:region",
    "city": "visit:city",
    "browser": "visit:browser",
    "os": "visit:os",
    "device": "visit:device",
}
# DataFast's operator names, and the query model's own.
OPERATORS: dict[str, str] = {
    "is": "is", "is_not": "is_not", "contains": "contains", "does_not_contain": "contains_not",
    "contains_not": "contains_not", "matches": "matches", "matches_not": "matches_not",
}
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

# Output key → query metric, per report family.
OVERVIEW_FIELDS: dict[str, str] = {
    "visitors": "visitors", "sessions": "visits", "pageviews": "pageviews", "bounce_rate": "bounce_rate",
    "avg_session_duration": "visit_duration", "views_per_visit": "views_per_visit",
    "revenue": "revenue", "revenue_per_visitor": "revenue_per_visitor", "conversion_rate": "conversion_rate",
    "payments": "payments",
}
TIMESERIES_FIELDS: dict[str, str] = {"visitors": "visitors", "sessions": "visits", "pageviews": "pageviews",
                                     "revenue": "revenue"}


@dataclass(frozen=True, slots=True)
class Breakdown:
    dimensions: tuple[str, ...]
    keys: tuple[str, ...]  # a row's key for each dimension
    metrics: tuple[tuple[str, str], ...] = (  # (key, metric)
        ("visitors", "visitors"), ("pageviews", "pageviews"), ("revenue", "revenue"))
    nest: str | None = None  # put the dimension keys in one object under this key


BREAKDOWNS: dict[str, Breakdown] = {
    "pages": Breakdown(("event:hostname", "event:page"), ("hostname", "path")),
    "referrers": Breakdown(("visit:source",), ("referrer",)),
    "channels": Breakdown(("visit:channel",), ("channel",)),
    "campaigns": Breakdown(tuple(f"visit:{u}" for u in UTM), UTM, nest="campaign"),
    "countries": Breakdown(("visit:country",), ("country",)),
    "regions": Breakdown(("visit:region",), ("region",)),
    "cities": Breakdown(("visit:city",), ("city",)),
    "browsers": Breakdown(("visit:browser",), ("browser",)),
    "operating-systems": Breakdown(("visit:os",), ("operating_system",)),
    "devices": Breakdown(("visit:device",), ("device",)),
    "hostnames": Breakdown(("event:hostname",), ("hostname",)),
    "goals": Breakdown(("event:goal",), ("goal",), (("completions", "conversions"), ("visitors", "visitors"),
                                                    ("conversion_rate", "conversion_rate"), ("revenue", "revenue"))),
}
REPORTS: tuple[str, ...] = ("overview", "timeseries", *BREAKDOWNS, "realtime")


class Engine(Protocol):
    def run(self, query: Query, *, site_id: int, currency: str = "USD") -> dict[str, Any]: ...


class Site(Protocol):
    id: int
    public_id: str
    timezone: str
    currency: str


def run_report(engine: Engine, report: str, params: Mapping[str, str], filter_params: list[tuple[str, str]],
               site: Site, *, now: datetime) -> dict[str, Any]:
    """The DataFast-shaped body of `report`. `filter_params` are the `filter_*` (name, value) pairs
    in request order; blocking (the engine runs queries): call it from a thread."""
    if report not in REPORTS:
        raise ValueError(f"unknown report {report!r}")
    filters = [_filter(name, value) for name, value in filter_params]
    filter_names = [name for name, _ in filter_params]
    interval = _interval(params) if report == "timeseries" else None
    base = {
        "site_id": site.public_id,
        "date_range": _date_range(params, TIMESERIES_DEFAULT_RANGE[interval] if interval else "all"),
        "filters": filters,
        "pagination": {"limit": _integer(params, "limit", 100), "offset": _integer(params, "offset", 0)},
        "attribution": params.get("attribution", "first_touch"),
    }
    if "timezone" in params:
        base["timezone"] = params["timezone"]

    def run(query: dict[str, Any], realtime: bool = False) -> dict[str, Any]:
        try:
            parsed = parse_query(query, site_timezone=site.timezone, now=now)
            if realtime:
                parsed = replace(parsed, date_range=DateRange(now - REALTIME_WINDOW, now, "realtime"))
            return engine.run(parsed, site_id=site.id, currency=site.currency)
        except QueryError as error:
            raise _renamed(error, params, filter_names) from None

    if report == "overview":
        fields = _fields(params, OVERVIEW_FIELDS, extra=("currency",))
        values = run(base | {"metrics": list(OVERVIEW_FIELDS.values())})["results"][0]["metrics"]
        row = dict(zip(OVERVIEW_FIELDS, values)) | {"currency": site.currency}
        row["avg_session_duration"] *= 1000
        return {"status": "success", "data": [{key: row[key] for key in fields}]}
    if report == "timeseries":
        return _timeseries(run, base, interval, _fields(params, TIMESERIES_FIELDS), site.currency)
    if report == "realtime":
        result = run(base | {"date_range": "realtime", "metrics": ["visitors"]}, realtime=True)
        return {"status": "success", "data": [{"visitors": result["results"][0]["metrics"][0]}]}
    return _breakdown(run, base, BREAKDOWNS[report])


def realtime_snapshot(engine: Engine, site: Site, *, now: datetime, events: EventStore) -> dict[str, Any]:
    """Visitors active in the last five minutes, with the top pages, sources and countries, and the
    latest of those visitors (blocking)."""
    query = parse_query({"site_id": site.public_id, "date_range": "realtime", "metrics": ["visitors"]},
                        site_timezone=site.timezone, now=now)
    query = replace(query, date_range=DateRange(now - REALTIME_WINDOW, now, "realtime"))

    def top(dimension: str, key: str) -> list[dict[str, Any]]:
        ranked = replace(query, dimensions=(dimension,), order_by=(("visitors", "desc"), (dimension, "asc")),
                         limit=REALTIME_TOP)
        rows = engine.run(ranked, site_id=site.id, currency=site.currency)["results"]
        return [{key: _direct(dimension, row["dimensions"][0]), "visitors": row["metrics"][0]} for row in rows]

    return {
        "site_id": site.public_id,
        "at": now.isoformat().replace("+00:00", "Z"),
        "window_seconds": int(REALTIME_WINDOW.total_seconds()),
        "visitors": engine.run(query, site_id=site.id, currency=site.currency)["results"][0]["metrics"][0],
        "pages": top("event:page", "page"),
        "sources": top("visit:source", "source"),
        "countries": top("visit:country", "country"),
        "recent_visitors": _recent_visitors(events, site.id, now - REALTIME_WINDOW, now),
    }


def _recent_visitors(events: EventStore, site_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Up to REALTIME_RECENT_VISITORS visitors with an event in [start, end), newest first: the page,
    source and country of their latest event, and when it happened."""
    d = DIALECTS[events.dialect]
    rows = events.fetch(
        f"SELECT {d.text('visitor_id')} AS visitor, {d.arg_max('pathname', 'timestamp')} AS page,"
        f" {d.arg_max('source', 'timestamp')} AS source, {d.arg_max('country', 'timestamp')} AS country,"
        f" {d.epoch_micros('max(timestamp)')} AS last_seen"
        f" FROM events WHERE site_id = {d.param('site', 'int')}"
        f" AND timestamp >= {d.param('start', 'timestamp')} AND timestamp < {d.param('end', 'timestamp')}"
        f" GROUP BY visitor_id ORDER BY last_seen DESC, visitor LIMIT {REALTIME_RECENT_VISITORS}",
        {"site": d.param_value(site_id, "int"), "start": d.param_value(_epoch_micros(start), "timestamp"),
         "end": d.param_value(_epoch_micros(end), "timestamp")},
    )
    return [{"visitor_id": row["visitor"], "page": row["page"], "source": _direct("visit:source", row["source"]),
             "country": row["country"], "last_seen": _iso_micros(row["last_seen"])} for row in rows]


def _epoch_micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _iso_micros(micros: int) -> str:
    return (EPOCH + timedelta(microseconds=int(micros))).isoformat().replace("+00:00", "Z")


# -- reports -----------------------------------------------------------------------------


def _timeseries(run, base: dict[str, Any], interval: str, fields: list[str], currency: str) -> dict[str, Any]:
    metrics = [TIMESERIES_FIELDS[f] for f in fields]
    dimension = f"time:{interval}"
    series = run(base | {"metrics": metrics, "dimensions": [dimension], "order_by": [[dimension, "asc"]],
                         "include": {"time_labels": True, "total_rows": True}})
    totals = run(base | {"metrics": metrics, "pagination": {"limit": 1, "offset": 0}})
    tz = ZoneInfo(series["query"]["timezone"])
    data = []
    for row in series["results"]:
        start = datetime.fromisoformat(row["dimensions"][0]).replace(tzinfo=tz)
        data.append({"name": start.strftime(_NAME_FORMATS[interval]), "timestamp": start.isoformat(),
                     **dict(zip(fields, row["metrics"]))})
    return {
        "status": "success",
        "fields": fields,
        "interval": interval,
        "timezone": series["query"]["timezone"],
        "currency": currency,
        "totals": dict(zip(fields, totals["results"][0]["metrics"])),
        "data": data,
        "pagination": _pagination(series),
    }


_NAME_FORMATS = {"hour": "%d %b %H:%M", "day": "%d %b", "week": "%d %b", "month": "%b %Y"}


def _breakdown(run, base: dict[str, Any], report: Breakdown) -> dict[str, Any]:
    filters = list(base["filters"])
    if report.nest == "campaign":  # visits without any UTM value are not a campaign
        filters.append(["or", [["is_not", d, [""]] for d in report.dimensions]])
    metrics = [metric for _, metric in report.metrics]
    result = run(base | {
        "metrics": metrics,
        "dimensions": list(report.dimensions),
        "filters": filters,
        "order_by": [[metrics[0], "desc"], *([d, "asc"] for d in report.dimensions)],
        "include": {"total_rows": True},
    })
    data = []
    for row in result["results"]:
        keys = {key: _direct(d, value) for key, d, value in zip(report.keys, report.dimensions, row["dimensions"])}
        values = {key: value for (key, _), value in zip(report.metrics, row["metrics"])}
        data.append(({report.nest: keys} if report.nest else keys) | values)
    return {"status": "success", "data": data, "pagination": _pagination(result)}


def _pagination(result: dict[str, Any]) -> dict[str, int]:
    page = result["query"]["pagination"]
    return {"limit": page["limit"], "offset": page["offset"], "total": result["meta"]["total_rows"]}


def _direct(dimension: str, value: str) -> str:
    return DIRECT if dimension == "visit:source" and value == "" else value


# -- parameters --------------------------------------------------------------------------


def _date_range(params: Mapping[str, str], default: str) -> str | list[str]:
    start, end = params.get("startAt"), params.get("endAt")
    if start is None and end is None:
        return default
    if start is None or end is None:
        raise QueryError("startAt" if start is None else "endAt", "startAt and endAt go together: give both or neither")
    return [start, end]


def _interval(params: Mapping[str, str]) -> str:
    interval = params.get("interval", "day")
    if interval not in INTERVALS:
        raise QueryError("interval", f"must be one of {', '.join(INTERVALS)}, not {interval!r}")
    return interval


def _integer(params: Mapping[str, str], name: str, default: int) -> int | str:
    text = params.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        return text  # the query model refuses it with the bounds in the message


def _fields(params: Mapping[str, str], known: Mapping[str, str], extra: tuple[str, ...] = ()) -> list[str]:
    names = [*known, *extra]
    if "fields" not in params:
        return names
    asked = [f.strip() for f in params["fields"].split(",") if f.strip()]
    for field in asked:
        if field not in names and field not in ("name", "timestamp"):
            raise QueryError("fields", f"unknown field {field!r}; known: {', '.join(names)}")
    chosen = [f for f in names if f in asked]
    if not chosen:
        raise QueryError("fields", f"name at least one of {', '.join(names)}")
    return chosen


def _filter(name: str, value: str) -> list[Any]:
    dimension = FILTERS.get(name.removeprefix("filter_"))
    if dimension is None:
        raise QueryError(name, f"unknown filter; known: {', '.join('filter_' + f for f in FILTERS)}")
    operator, colon, text = value.partition(":")
    if not colon or operator not in OPERATORS:
        raise QueryError(name, f"must be <operator>:<values> with operator {', '.join(OPERATORS)}; e.g. is:DE,FR")
    operator = OPERATORS[operator]
    # A regular expression may contain commas; other values are comma lists.
    values = [text] if operator.startswith("matches") else [v.strip() for v in text.split(",") if v.strip()]
    if not values or values == [""]:
        raise QueryError(name, "needs at least one value after the operator, e.g. is:DE,FR")
    if dimension == "visit:source":
        values = ["" if v == DIRECT else v for v in values]
    return [operator, dimension, values]


def _renamed(error: QueryError, params: Mapping[str, str], filter_names: list[str]) -> QueryError:
    """The query model's error, named after the request parameter that caused it."""
    field = error.field
    if field == "date_range":
        field = next((p for p in ("startAt", "endAt") if p in params and repr(params[p]) in error.message),
                     "startAt/endAt")
    elif field.startswith("pagination."):
        field = field.removeprefix("pagination.")
    elif field == "dimensions":
        field = "interval"  # the only dimension a parameter chooses
    elif field.startswith("filters["):
        index = int(field[len("filters["):field.index("]")])
        field = filter_names[index] if index < len(filter_names) else "filters"
    return QueryError(field, error.message)
