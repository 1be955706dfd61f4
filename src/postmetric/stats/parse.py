"""JSON query → `Query`, once, with a user-facing error for every problem (SPEC §5).

Date ranges are resolved here, in the query's timezone, against `now` (a parameter, so
tests need no clock).

Secondary responsibility: bounding the work a query may ask for before any is done. Dates lie
in QUERY_YEARS, so no date arithmetic can overflow; offsets and filter nesting are capped; and
where every time bucket is listed (`time_labels`, comparisons) a time dimension may cut the
range into at most MAX_TIME_BUCKETS buckets (`check_time_buckets`, which the engine calls again
once `all` is resolved to the site's first visit): listing `time:minute` over years would
otherwise cost seconds of CPU before any answer.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import re2

from postmetric.stats import registry
from postmetric.stats.definitions import METRICS_BY_NAME, MetricKind, Source
from postmetric.stats.query import DateRange, Filter, FilterExpression, Logical, Query, QueryError, leaves

KNOWN_FIELDS = frozenset({
    "site_id", "date_range", "metrics", "dimensions", "filters", "order_by", "include", "pagination",
    "timezone", "attribution",
})
KNOWN_INCLUDE = frozenset({"comparison", "time_labels", "total_rows"})
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
QUERY_YEARS = range(1970, 2100)  # the years a date in a query may name
MAX_TIME_BUCKETS = registry.MAX_LIMIT
MAX_OFFSET = 1_000_000_000  # rows; past this no store answers quickly, and SQL integers stay small
MAX_FILTER_DEPTH = 8  # and/or/not inside one another; deeper only costs recursion
# The shortest a bucket of each unit can be (a day loses an hour to daylight saving time):
# dividing a range by it overestimates its buckets, never under.
_SHORTEST_BUCKET = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(hours=23),
                    "week": timedelta(days=7, hours=-1), "month": timedelta(days=28, hours=-1)}
# Patterns are checked by RE2 itself, the engine DuckDB and ClickHouse match with: Python's
# `re` accepts lookarounds and backreferences that would fail there.
_RE2_QUIET = re2.Options()
_RE2_QUIET.log_errors = False


def parse_query(raw: object, *, site_timezone: str, now: datetime) -> Query:
    if not isinstance(raw, dict):
        raise QueryError("query", "must be a JSON object")
    unknown = sorted(set(raw) - KNOWN_FIELDS)
    if unknown:
        raise QueryError(unknown[0], f"is not a query field; known fields: {', '.join(sorted(KNOWN_FIELDS))}")

    site_id = raw.get("site_id")
    if not isinstance(site_id, str) or not site_id.strip():
        raise QueryError("site_id", "is required: the site's public id or domain")
    tz_name = raw.get("timezone", site_timezone)
    tz = _timezone(tz_name)
    metrics = _metrics(raw.get("metrics"))
    dimensions = _dimensions(raw.get("dimensions", []))
    include = raw.get("include", {})
    if not isinstance(include, dict):
        raise QueryError("include", "must be an object")
    unknown = sorted(set(include) - KNOWN_INCLUDE)
    if unknown:
        raise QueryError(f"include.{unknown[0]}", f"is not known; known: {', '.join(sorted(KNOWN_INCLUDE))}")
    comparison = include.get("comparison")
    if comparison is not None and comparison not in registry.COMPARISONS:
        raise QueryError("include.comparison", f"must be one of {', '.join(registry.COMPARISONS)} or null")
    pagination = raw.get("pagination", {})
    if not isinstance(pagination, dict):
        raise QueryError("pagination", "must be an object")
    attribution = raw.get("attribution", "first_touch")
    if attribution not in registry.ATTRIBUTIONS:
        raise QueryError("attribution", f"must be one of {', '.join(registry.ATTRIBUTIONS)}")
    filters = _filters(raw.get("filters", []))
    _check_search(metrics, dimensions, filters)
    share = next((m for m in metrics if Source.TOTAL in METRICS_BY_NAME[m].needs), None)
    if share and not dimensions:
        raise QueryError("metrics", f"{share} needs a dimension to divide by")
    _check_combinations(metrics, dimensions)
    for metric in metrics:
        if METRICS_BY_NAME[metric].kind is MetricKind.ENGAGEMENT:
            _check_measured_per_page(metric, dimensions, filters)
    date_range = _date_range(raw.get("date_range"), tz, now)
    if date_range.name == "realtime" and metrics[0] in registry.SEARCH_METRICS:
        raise QueryError("date_range", f"Search Console reports whole days: {metrics[0]} cannot cover the last "
                                       "30 minutes; choose day or longer")
    time_labels = _boolean("include.time_labels", include.get("time_labels", False))
    if (time_labels or comparison) and date_range.name != "all":  # `all`: once the engine knows its start
        check_time_buckets(dimensions, date_range.start, date_range.end)

    return Query(
        site_id=site_id.strip(),
        date_range=date_range,
        metrics=metrics,
        dimensions=dimensions,
        filters=filters,
        order_by=_order_by(raw.get("order_by", []), metrics, dimensions),
        comparison=comparison,
        time_labels=time_labels,
        total_rows=_boolean("include.total_rows", include.get("total_rows", False)),
        limit=_integer("pagination.limit", pagination.get("limit", 100), 1, registry.MAX_LIMIT),
        offset=_integer("pagination.offset", pagination.get("offset", 0), 0, MAX_OFFSET),
        timezone=tz_name,
        attribution=attribution,
    )


def _timezone(name: object) -> ZoneInfo:
    if not isinstance(name, str):
        raise QueryError("timezone", "must be an IANA time zone name such as Europe/Berlin")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory ("Europe"), a name too long
        raise QueryError("timezone", f"{name[:100]!r} is not a known IANA time zone") from None


def check_time_buckets(dimensions: tuple[str, ...], start: datetime, end: datetime) -> None:
    """QueryError unless a time dimension among `dimensions` cuts [start, end) into at most
    MAX_TIME_BUCKETS buckets; an estimate from the range's length, so it costs nothing."""
    unit = next((d.partition(":")[2] or "day" for d in dimensions if d in registry.TIME_DIMENSIONS), None)
    if unit is None:
        return
    buckets = (end - start) // _SHORTEST_BUCKET[unit] + 1
    if buckets > MAX_TIME_BUCKETS:
        raise QueryError("dimensions", f"time:{unit} cuts this date range into about {buckets} buckets, more than "
                                       f"{MAX_TIME_BUCKETS}; choose a larger interval or a shorter date range")


def _metrics(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise QueryError("metrics", "must be a non-empty list of metric names")
    for metric in value:
        if metric not in registry.METRICS:
            raise QueryError("metrics", f"unknown metric {metric!r}; known: {', '.join(registry.METRICS)}")
    if len(set(value)) != len(value):
        raise QueryError("metrics", "lists a metric twice")
    return tuple(value)


def _check_combinations(metrics: tuple[str, ...], dimensions: tuple[str, ...]) -> None:
    for metric in metrics:
        if metric in registry.PENDING_METRICS:
            raise QueryError("metrics", f"{metric} is not available yet: {registry.PENDING_METRICS[metric]}")
    for dimension in dimensions:
        per_event = dimension in registry.PER_EVENT_ONLY_DIMENSIONS or dimension.startswith("event:props:")
        visit_metric = next((m for m in metrics if m in registry.VISIT_METRICS), None)
        if per_event and visit_metric:
            raise QueryError(
                "metrics", f"{visit_metric} describes whole visits and cannot be split by {dimension}; "
                           "use visitors, events or conversions, or a visit:* or event:page dimension")


def _check_search(metrics: tuple[str, ...], dimensions: tuple[str, ...], filters: tuple[FilterExpression, ...]
                  ) -> None:
    """search:* metrics read Search Console's rows (stats/search_plan.py), which know days, queries,
    pages, countries and devices, and nothing of visits; search:* dimensions describe only those rows."""
    search = next((m for m in metrics if m in registry.SEARCH_METRICS), None)
    if search is None:
        named = next((d for d in dimensions if d in registry.SEARCH_DIMENSIONS), None)
        if named:
            raise QueryError("dimensions", f"{named} splits search:* metrics only (Search Console data); ask for "
                                           f"{', '.join(registry.SEARCH_METRICS)}")
        filtered = next((leaf.dimension for leaf in leaves(filters) if leaf.dimension in registry.SEARCH_DIMENSIONS),
                        None)
        if filtered:
            raise QueryError("filters", f"{filtered} filters search:* metrics only (Search Console data)")
        return
    other = next((m for m in metrics if m not in registry.SEARCH_METRICS), None)
    if other:
        raise QueryError("metrics", f"{other} cannot be asked together with {search}: search:* metrics come from "
                                    "Search Console, not from visits; ask for them in a query of their own")
    for dimension in dimensions:
        if dimension in registry.TIME_DIMENSIONS:
            unit = dimension.partition(":")[2] or "day"
            if unit not in registry.SEARCH_TIME_UNITS:
                raise QueryError("dimensions", f"Search Console reports whole days: {dimension} cannot split "
                                               f"{search}; use time:day, time:week or time:month")
        elif dimension == "event:page":  # a filter on it is the dashboard's page filter, but a split names its own
            raise QueryError("dimensions", f"{search} splits by search:page, the result's path, not event:page")
        elif dimension not in registry.SEARCH_DIMENSIONS:
            raise QueryError("dimensions", f"{dimension} is not in Search Console data: {search} splits by "
                                           f"{', '.join(registry.SEARCH_DIMENSIONS)} and time:day, week or month")
    for leaf in leaves(filters):
        if leaf.dimension not in registry.SEARCH_FILTERS:
            raise QueryError("filters", f"{leaf.dimension} is not in Search Console data: {search} is filtered by "
                                        f"{', '.join(registry.SEARCH_FILTERS)} (the result's path)")


def _check_measured_per_page(metric: str, dimensions: tuple[str, ...], filters: tuple[FilterExpression, ...]) -> None:
    """Engagement metrics (scroll depth) are measured per page, by engagement events, which have
    no goal, name or props."""
    named = list(dimensions) + [leaf.dimension for leaf in leaves(filters)]
    if "event:page" not in named:
        raise QueryError("metrics", f"{metric} is measured per page: add event:page as a dimension or filter")
    unmeasured = next((name for name in named if name in registry.PER_EVENT_ONLY_DIMENSIONS
                       or name.startswith("event:props:")), None)
    if unmeasured:
        raise QueryError("metrics", f"{metric} is measured by engagement events, which have no {unmeasured}; "
                                    "ask for it without that dimension or filter")


def _dimensions(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise QueryError("dimensions", "must be a list of dimension names")
    for dimension in value:
        if not isinstance(dimension, str) or not registry.is_dimension(dimension):
            raise QueryError("dimensions", f"unknown dimension {dimension!r}")
    if sum(d in registry.TIME_DIMENSIONS for d in value) > 1:
        raise QueryError("dimensions", "at most one time dimension")
    if len(set(value)) != len(value):
        raise QueryError("dimensions", "lists a dimension twice")
    return tuple(value)


def _filters(value: object) -> tuple[FilterExpression, ...]:
    if not isinstance(value, list):
        raise QueryError("filters", "must be a list of filters like [\"is\", \"visit:country\", [\"DE\"]]")
    return tuple(_filter(item, f"filters[{i}]") for i, item in enumerate(value))


def _filter(item: object, path: str, depth: int = 0) -> FilterExpression:
    if not isinstance(item, list) or not item or not isinstance(item[0], str):
        raise QueryError(path, "must be [operator, dimension, [values]] or [\"and\"|\"or\", [filters]] or [\"not\", filter]")
    operator = item[0]
    if operator in registry.LOGICAL_OPERATORS and depth == MAX_FILTER_DEPTH:
        raise QueryError(path, f"and, or and not nest at most {MAX_FILTER_DEPTH} deep")
    if operator in ("and", "or"):
        if len(item) != 2 or not isinstance(item[1], list) or not item[1]:
            raise QueryError(path, f"{operator} takes a non-empty list of filters")
        return Logical(operator, tuple(_filter(child, f"{path}[1][{i}]", depth + 1) for i, child in enumerate(item[1])))
    if operator == "not":
        if len(item) != 2:
            raise QueryError(path, "not takes exactly one filter")
        return Logical("not", (_filter(item[1], f"{path}[1]", depth + 1),))
    if operator not in registry.FILTER_OPERATORS:
        raise QueryError(path, f"unknown operator {operator!r}; known: "
                               f"{', '.join(registry.FILTER_OPERATORS + registry.LOGICAL_OPERATORS)}")
    if len(item) != 3:
        raise QueryError(path, "must be [operator, dimension, [values]]")
    _, dimension, values = item
    if not isinstance(dimension, str) or not registry.is_filterable(dimension):
        raise QueryError(path, f"cannot filter by {dimension!r}")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise QueryError(path, "values must be a non-empty list of strings")
    if operator in ("matches", "matches_not"):
        for pattern in values:
            try:
                re2.compile(pattern, _RE2_QUIET)
            except re2.error as exc:
                reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
                raise QueryError(path, f"invalid regular expression {pattern!r} ({reason}); "
                                       "patterns use RE2 syntax, as DuckDB and ClickHouse do") from None
    return Filter(operator, dimension, tuple(values))


def _order_by(value: object, metrics: tuple[str, ...], dimensions: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        raise QueryError("order_by", "must be a list of [name, \"asc\"|\"desc\"]")
    order = []
    for i, item in enumerate(value):
        if not (isinstance(item, list) and len(item) == 2 and item[1] in ("asc", "desc")):
            raise QueryError(f"order_by[{i}]", "must be [name, \"asc\"|\"desc\"]")
        if item[0] not in metrics and item[0] not in dimensions:
            raise QueryError(f"order_by[{i}]", f"{item[0]!r} is neither a queried metric nor a dimension")
        order.append((item[0], item[1]))
    return tuple(order)


def _boolean(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise QueryError(field, "must be true or false")
    return value


def _integer(field: str, value: object, low: int, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise QueryError(field, f"must be an integer {bounds}")
    return value


def _date_range(value: object, tz: ZoneInfo, now: datetime) -> DateRange:
    if value is None:
        raise QueryError("date_range", f"is required: one of {', '.join(registry.DATE_RANGES)} or [start, end]")
    if isinstance(value, str):
        if value not in registry.DATE_RANGES:
            raise QueryError("date_range", f"unknown range {value!r}; known: {', '.join(registry.DATE_RANGES)}")
        start, end = _named_range(value, tz, now)
        return DateRange(start, end, value)
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise QueryError("date_range", "must be a range name or [start, end] as ISO dates or datetimes")
    start, end = (_instant(v, tz, is_end=i == 1) for i, v in enumerate(value))
    if start >= end:
        raise QueryError("date_range", "start must be before end")
    return DateRange(start, end)


def _named_range(name: str, tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    today = now.astimezone(tz).date()
    tomorrow = _midnight(today + timedelta(days=1), tz)
    first_of_month = today.replace(day=1)
    if name == "realtime":
        return now - timedelta(minutes=30), now
    if name == "24h":
        return now - timedelta(hours=24), now
    if name == "day":
        return _midnight(today, tz), tomorrow
    if name in ("7d", "30d"):
        return _midnight(today - timedelta(days=int(name[:-1]) - 1), tz), tomorrow
    if name == "month":
        return _midnight(first_of_month, tz), _midnight(_add_months(first_of_month, 1), tz)
    if name in ("6mo", "12mo"):
        first = _add_months(first_of_month, -(int(name[:-2]) - 1))
        return _midnight(first, tz), _midnight(_add_months(first_of_month, 1), tz)
    if name == "year":
        return _midnight(date(today.year, 1, 1), tz), _midnight(date(today.year + 1, 1, 1), tz)
    return EPOCH, tomorrow  # "all"; the engine starts it at the site's first visit


def _instant(text: str, tz: ZoneInfo, *, is_end: bool) -> datetime:
    """An ISO date means the whole day (an end date is inclusive); a datetime is taken as given.
    The year is checked before any arithmetic: year 1 or 9999 with an offset would overflow."""
    shown = text[:100]
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(0))
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise QueryError("date_range", f"{shown!r} is not an ISO date (2026-11-26) or datetime") from None
    if moment.year not in QUERY_YEARS:
        raise QueryError("date_range", f"{shown!r} is not between {QUERY_YEARS[0]}-01-01 "
                                       f"and {QUERY_YEARS[-1]}-12-31")
    if len(text) == 10:
        return _midnight(moment.date() + timedelta(days=1) if is_end else moment.date(), tz)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(timezone.utc)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)


def _add_months(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
