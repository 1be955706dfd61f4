"""Run a `Query` against an event store and shape the answer of SPEC §5.

The SQL returns sums per group; ratios, rounding, time labels, comparisons and the
filling of empty time buckets happen here, once for every dialect. A query of search:* metrics
reads Search Console's rows (stats/search_plan.py) instead of the events, and the same shaping
applies to its answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from postmetric.revenue.currency import minor_units
from postmetric.sites.goals import GoalDefinition
from postmetric.stats.compiler import compile_query
from postmetric.stats.definitions import METRICS_BY_NAME, Change, round_half_up
from postmetric.store.dialects import DIALECTS
from postmetric.stats.fragments import Scope, goal_in_context, time_unit
from postmetric.stats.parse import check_time_buckets
from postmetric.stats.query import Filter, FilterExpression, Query
from postmetric.stats.registry import TIME_DIMENSIONS
from postmetric.stats.search_plan import compile_search, is_search_query, previous_days
from postmetric.store.events import EventStore

Number = int | float
# A site's goal definitions by site id (read from the metadata database by the app).
GoalSource = Callable[[int], tuple[GoalDefinition, ...]]


def _no_goals(site_id: int) -> tuple[GoalDefinition, ...]:
    return ()


class StatsEngine:
    def __init__(self, store: EventStore, *, goals: GoalSource = _no_goals) -> None:
        self._store = store
        self._dialect = DIALECTS[store.dialect]
        self._goals = goals

    def run(self, query: Query, *, site_id: int, currency: str = "USD",
            goals: tuple[GoalDefinition, ...] | None = None) -> dict[str, Any]:
        """The answer to `query` over the site's events and payments; `goals` are the site's goal
        definitions (read from the engine's goal source once per run when not given)."""
        goals = self._goals(site_id) if goals is None else goals
        scope = self._scope(query, site_id, currency, goals)
        digits = minor_units(currency)
        unit = time_unit(query)
        # Every bucket's label is listed (for time_labels and for pairing comparisons) only
        # within MAX_TIME_BUCKETS, checked before listing them; `all` is only known here.
        labels = None
        if unit and (query.time_labels or query.comparison):
            check_time_buckets(query.dimensions, scope.start, scope.end)
            labels = bucket_labels(unit, query.timezone, scope.start, scope.end)
        fill = bool(query.time_labels and unit and len(query.dimensions) == 1)
        rows = self._groups(query, scope, paginate=not fill)
        results = [_result(query, row, digits) for row in rows]
        total_rows = rows[0]["total_rows"] if rows else 0
        if not rows and query.offset and query.total_rows:  # a page past the end still tells the total
            first_page = self._groups(replace(query, offset=0, limit=1), scope, paginate=True)
            total_rows = first_page[0]["total_rows"] if first_page else 0
        if fill:
            results = _filled(query, results, labels)
            total_rows = len(results)
            results = results[query.offset: query.offset + query.limit]
        if not query.dimensions and not results:
            results = [{"dimensions": [], "metrics": _nothing(query)}]

        meta: dict[str, Any] = {"currency": currency}
        if query.comparison:
            previous = comparison_scope(query, scope)
            _compare(query, results, self._groups(query, previous, paginate=False, order=False), labels,
                     bucket_labels(unit, query.timezone, previous.start, previous.end) if unit else None, digits)
            meta["comparison_date_range"] = _iso_range(previous, query.timezone)
        if query.total_rows:
            meta["total_rows"] = total_rows
        if query.time_labels and labels is not None:
            meta["time_labels"] = labels
        return {"results": results, "meta": meta, "query": normalised(query, scope)}

    def _groups(self, query: Query, scope: Scope, *, paginate: bool, order: bool = True) -> list[dict[str, Any]]:
        compile = compile_search if is_search_query(query) else compile_query
        compiled = compile(query, scope, self._dialect, paginate=paginate, order=order)
        rows = self._store.fetch(compiled.sql, compiled.params)
        unit = time_unit(query)
        for row in rows:
            for column, dimension in zip(compiled.dimension_columns, query.dimensions):
                value = row.pop(column)
                row[dimension] = _label(unit, value) if dimension in TIME_DIMENSIONS else str(value)
        return rows

    def _scope(self, query: Query, site_id: int, currency: str, goals: tuple[GoalDefinition, ...]) -> Scope:
        start, end = query.date_range.start, query.date_range.end
        if query.date_range.name == "all":
            start = (self._first_search_day(site_id, query.timezone, end) if is_search_query(query)
                     else self._first_visit_day(site_id, query.timezone, end))
        return Scope(site_id, start, end, by_event_time=query.date_range.name == "realtime", currency=currency,
                     goals=goals)

    def _first_visit_day(self, site_id: int, tz_name: str, end: datetime) -> datetime:
        """Where `all` begins: local midnight of the site's first visit (of `end`'s last day if none)."""
        d = self._dialect
        rows = self._store.fetch(
            f"SELECT {d.epoch_micros('min(session_started_at)')} AS first, count(*) AS n"
            f" FROM events WHERE site_id = {d.param('site', 'int')}",
            {"site": d.param_value(site_id, "int")},
        )
        tz = ZoneInfo(tz_name)
        if not rows or not rows[0]["n"]:
            first = end - timedelta(microseconds=1)
        else:
            first = first_stored_moment(rows[0]["first"], end)
        return datetime.combine(first.astimezone(tz).date(), time(0), tzinfo=tz).astimezone(timezone.utc)

    def _first_search_day(self, site_id: int, tz_name: str, end: datetime) -> datetime:
        """Where `all` begins for search:* metrics: local midnight of the site's first Search Console day
        (of `end`'s last day if none)."""
        tz = ZoneInfo(tz_name)
        last = (end - timedelta(microseconds=1)).astimezone(tz).date()
        span = self._store.search_span(site_id)
        first = min(span[0], last) if span else last
        return datetime.combine(first, time(0), tzinfo=tz).astimezone(timezone.utc)


def first_stored_moment(micros: int, end: datetime) -> datetime:
    """A site's earliest stored timestamp (epoch microseconds) as where `all` may begin, kept
    within [EPOCH, end): ingestion refuses timestamps before 2000, but a row stored before it did
    (year 1, even year 0) must not make every all-time query overflow."""
    last = end - timedelta(microseconds=1)
    return datetime.fromtimestamp(min(max(micros / 1_000_000, 0.0), last.timestamp()), timezone.utc)


# -- metrics -----------------------------------------------------------------------------


def metric_value(metric: str, raw: Mapping[str, Any], digits: int = 2, *, goal_rate: bool = False) -> Number | None:
    """A metric from the sums of its group (see its definition's plan), rounded half up.
    Money is in major units of a currency with `digits` minor digits (2 for USD, 0 for JPY).
    `goal_rate`: conversion_rate is a goal's (a goal is in the query's context), not payers'."""

    def get(name: str) -> int:
        return int(raw.get(name) or 0)

    return METRICS_BY_NAME[metric].plan_for(goal_in_context=goal_rate).value(get, digits)


def change(metric: str, current: Number | None, previous: Number | None) -> Number | None:
    """Change from `previous` to `current`: in % (one decimal), in points for rates; None
    when it cannot be told (growth from zero, or a side without a measurement)."""
    if current is None or previous is None:
        return None
    if METRICS_BY_NAME[metric].change is Change.POINTS:
        points = Fraction(current) - Fraction(previous)
        if isinstance(current, int) and isinstance(previous, int):
            return int(points)
        return float(round_half_up(points, 2))
    if previous == 0:
        return 0 if current == 0 else None
    return float(round_half_up(Fraction(current - previous) * 100 / Fraction(previous), 1))


def _nothing(query: Query) -> list[Number | None]:
    """A group's metrics when it has no data."""
    return [None if METRICS_BY_NAME[m].measured else 0 for m in query.metrics]


def _result(query: Query, row: Mapping[str, Any], digits: int) -> dict[str, Any]:
    goal_rate = goal_in_context(query)
    return {
        "dimensions": [row[d] for d in query.dimensions],
        "metrics": [metric_value(m, row, digits, goal_rate=goal_rate) for m in query.metrics],
    }


def _filled(query: Query, results: list[dict[str, Any]], labels: list[str]) -> list[dict[str, Any]]:
    by_label = {r["dimensions"][0]: r for r in results}
    zero = _nothing(query)
    filled = [by_label.get(label, {"dimensions": [label], "metrics": zero}) for label in labels]
    descending = query.order_by and query.order_by[0][1] == "desc" and query.order_by[0][0] == query.dimensions[0]
    return filled[::-1] if descending else filled


def _compare(query: Query, results: list[dict[str, Any]], previous_rows: Sequence[Mapping[str, Any]],
             labels: list[str] | None, previous_labels: list[str] | None, digits: int) -> None:
    """Attach each result's comparison; time buckets pair up by position (the 3rd day of this
    period with the 3rd day of the last)."""
    unit_index = next((i for i, d in enumerate(query.dimensions) if d in TIME_DIMENSIONS), None)
    position = {label: i for i, label in enumerate(previous_labels or ())}
    previous = {}
    for row in previous_rows:
        key = tuple(row[d] for d in query.dimensions)
        if unit_index is not None:
            i = position.get(key[unit_index], len(labels))
            if i >= len(labels):  # the previous period has a bucket more (a longer month)
                continue
            key = key[:unit_index] + (labels[i],) + key[unit_index + 1:]
        previous[key] = [metric_value(m, row, digits, goal_rate=goal_in_context(query)) for m in query.metrics]
    for result in results:
        before = previous.get(tuple(result["dimensions"]), _nothing(query))
        result["comparison"] = {
            "metrics": before,
            "change": [change(m, now, then) for m, now, then in zip(query.metrics, result["metrics"], before)],
        }


def comparison_scope(query: Query, scope: Scope) -> Scope:
    if query.comparison == "previous_period":
        if is_search_query(query):
            return previous_days(scope, query.timezone)
        length = scope.end - scope.start
        return replace(scope, start=scope.start - length, end=scope.start)
    tz = ZoneInfo(query.timezone)
    return replace(scope, start=_year_before(scope.start, tz), end=_year_before(scope.end, tz))


def _year_before(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz).replace(tzinfo=None)
    try:
        earlier = local.replace(year=local.year - 1)
    except ValueError:  # 29 February
        earlier = local.replace(year=local.year - 1, day=28)
    return earlier.replace(tzinfo=tz).astimezone(timezone.utc)


# -- time labels -------------------------------------------------------------------------

_LABEL_FORMATS = {"minute": "%Y-%m-%d %H:%M:00", "hour": "%Y-%m-%d %H:00:00",
                  "day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m-%d"}


def _label(unit: str | None, bucket_start: Any) -> str:
    """A bucket's label from its start: wall-clock epoch seconds from the SQL."""
    wall_clock = datetime(1970, 1, 1) + timedelta(seconds=int(bucket_start))
    return wall_clock.strftime(_LABEL_FORMATS[unit or "day"])


def bucket_labels(unit: str, tz_name: str, start: datetime, end: datetime) -> list[str]:
    """Labels of every `unit` bucket from `start` to `end` in the zone's wall-clock time."""
    tz = ZoneInfo(tz_name)
    labels: list[str] = []
    if unit in ("minute", "hour"):
        # Every wall-clock minute or hour touched, also across DST changes and in zones
        # whose offset is not a whole hour; stepping 15 minutes in UTC meets them all.
        fmt = _LABEL_FORMATS[unit]
        step = timedelta(minutes=1 if unit == "minute" else 15)
        touched = dict.fromkeys((start + step * i).astimezone(tz).strftime(fmt)
                                for i in range(int((end - start) / step) + 1) if start + step * i < end)
        touched[(end - timedelta(microseconds=1)).astimezone(tz).strftime(fmt)] = None
        return list(touched)
    local_end = end.astimezone(tz).replace(tzinfo=None)
    day = start.astimezone(tz).date()
    if unit == "week":
        day -= timedelta(days=day.weekday())
    elif unit == "month":
        day = day.replace(day=1)
    while datetime.combine(day, time(0)) < local_end:
        labels.append(day.isoformat())
        day = _next_bucket(unit, day)
    return labels


def _next_bucket(unit: str, day: date) -> date:
    if unit == "day":
        return day + timedelta(days=1)
    if unit == "week":
        return day + timedelta(days=7)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


# -- the query, echoed -------------------------------------------------------------------


def normalised(query: Query, scope: Scope) -> dict[str, Any]:
    """The query as it was understood: defaults filled in, the date range resolved."""
    return {
        "site_id": query.site_id,
        "date_range": _iso_range(scope, query.timezone),
        "metrics": list(query.metrics),
        "dimensions": list(query.dimensions),
        "filters": [_filter_json(f) for f in query.filters],
        "order_by": [list(o) for o in query.order_by],
        "include": {"comparison": query.comparison, "time_labels": query.time_labels,
                    "total_rows": query.total_rows},
        "pagination": {"limit": query.limit, "offset": query.offset},
        "timezone": query.timezone,
        "attribution": query.attribution,
    }


def _iso_range(scope: Scope, tz_name: str) -> list[str]:
    tz = ZoneInfo(tz_name)
    return [scope.start.astimezone(tz).isoformat(), scope.end.astimezone(tz).isoformat()]


def _filter_json(expression: FilterExpression) -> list[Any]:
    if isinstance(expression, Filter):
        return [expression.operator, expression.dimension, list(expression.values)]
    if expression.operator == "not":
        return ["not", _filter_json(expression.children[0])]
    return [expression.operator, [_filter_json(c) for c in expression.children]]
