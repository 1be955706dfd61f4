"""The stats definitions of SPEC §5 in plain Python, event by event: what the SQL engine
must agree with exactly. Written from the definitions, not from the compiler:

- a visit and its events belong to the range and time bucket of the visit's start
  (realtime: of each event's own time, and a visit counts in every minute it was active);
- engagement events never make a visitor, visit or event, but lengthen visits;
- filters test each event; a visit is in a group when one of its matching events is;
- a visit's pageviews, bounce, duration and exit page come from all its events in the
  scope and bucket.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

from postmetric.ingest.event import Event
from postmetric.ingest.sessions import VISIT_FIELDS
from postmetric.stats.engine import metric_value
from postmetric.stats.query import Logical, Query


@dataclass(frozen=True)
class Row:
    site_id: int
    timestamp: int  # µs
    type: str
    name: str
    hostname: str
    pathname: str
    props: tuple[tuple[str, str], ...]
    visitor_id: str
    session_id: str
    session_started_at: int  # µs
    visit: dict = field(hash=False, compare=False)

    @classmethod
    def of(cls, e: Event) -> Row:
        return cls(
            e.site_id, round(e.timestamp * 1e6), e.type.value, e.name, e.hostname, e.pathname,
            tuple(sorted(e.props.items())), e.visit.visitor_id, e.visit.session_id,
            round(e.visit.started_at * 1e6), dict(zip(VISIT_FIELDS, e.visit.attributes)),
        )


def _micros(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


_FORMATS = {"minute": "%Y-%m-%d %H:%M:00", "hour": "%Y-%m-%d %H:00:00", "day": "%Y-%m-%d",
            "week": "%Y-%m-%d", "month": "%Y-%m-%d"}


def bucket(unit: str, micros: int, tz: ZoneInfo) -> str:
    local = datetime.fromtimestamp(micros / 1e6, timezone.utc).astimezone(tz).replace(tzinfo=None)
    if unit == "week":
        local = (local - timedelta(days=local.weekday()))
    if unit == "month":
        local = local.replace(day=1)
    return local.strftime(_FORMATS[unit])


def answer(rows: list[Row], query: Query, *, site_id: int, start: datetime, end: datetime,
           by_event_time: bool = False) -> tuple[list[dict], int]:
    """(results, total_rows) for `query` over `rows`, paginated like the engine."""
    tz = ZoneInfo(query.timezone)
    unit = next((d.partition(":")[2] for d in query.dimensions if d.startswith("time:")), None)
    low, high = _micros(start), _micros(end)

    def anchor(r: Row) -> int:
        return r.timestamp if by_event_time else r.session_started_at

    scope = [r for r in rows if r.site_id == site_id and low <= anchor(r) < high]
    bucket_of = {r: bucket(unit, anchor(r), tz) if unit else "" for r in scope}

    spans: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in scope:
        spans[(r.session_id, bucket_of[r])].append(r)
    exit_page = {}
    for key, events in spans.items():
        views = [(r.timestamp, r.pathname) for r in events if r.type == "pageview"]
        exit_page[key] = max(views)[1] if views else ""

    def value(r: Row, dimension: str) -> str:
        if dimension.startswith("time:"):
            return bucket_of[r]
        if dimension == "visit:exit_page":
            return exit_page[(r.session_id, bucket_of[r])]
        if dimension.startswith("event:props:"):
            return dict(r.props).get(dimension.removeprefix("event:props:"), "(none)")
        if dimension == "event:goal":
            return r.name if r.type == "goal" else ""
        event_columns = {"event:page": r.pathname, "event:hostname": r.hostname, "event:name": r.name}
        if dimension in event_columns:
            return event_columns[dimension]
        return r.visit[dimension.removeprefix("visit:")]

    def passes(r: Row, f) -> bool:
        if isinstance(f, Logical):
            if f.operator == "not":
                return not passes(r, f.children[0])
            results = (passes(r, c) for c in f.children)
            return all(results) if f.operator == "and" else any(results)
        v = value(r, f.dimension)
        operator = f.operator.removesuffix("_not")
        if operator == "is":
            hit = v in f.values
        elif operator == "contains":
            hit = any(needle in v for needle in f.values)
        else:
            hit = any(re.search(pattern, v) for pattern in f.values)
        return hit != f.operator.endswith("_not")

    matched = [
        r for r in scope
        if r.type != "engagement" and all(passes(r, f) for f in query.filters)
        and ("event:goal" not in query.dimensions or r.type == "goal")
    ]
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for r in matched:
        groups[tuple(value(r, d) for d in query.dimensions)].append(r)
    if not query.dimensions and not groups:
        groups[()] = []

    total_visitors = len({r.visitor_id for r in matched})
    raws = {}
    for key, events in groups.items():
        visits = {(r.session_id, bucket_of[r]) for r in events}
        span_stats = [_span(spans[v]) for v in visits]
        raws[key] = {
            "visitors": len({r.visitor_id for r in events}),
            "pageviews": sum(r.type == "pageview" for r in events),
            "events": len(events),
            "conversions": sum(r.type == "goal" for r in events),
            "visits": len(visits),
            "visit_pageviews": sum(s[0] for s in span_stats),
            "bounces": sum(s[0] == 1 and not s[1] for s in span_stats),
            "duration_us": sum(s[2] for s in span_stats),
            "total_visitors": total_visitors,
        }

    order = list(query.order_by) or [(d, "asc") for d in query.dimensions if d.startswith("time:")] + [
        (query.metrics[0], "desc")]
    keys = sorted(raws, key=lambda k: tuple(k))
    for name, direction in reversed(order):  # stable sorts, last key first
        keys.sort(key=lambda k: _sort_value(name, k, raws[k], query), reverse=direction == "desc")
    page = keys[query.offset: query.offset + query.limit] if query.dimensions else keys
    results = [{"dimensions": list(k), "metrics": [metric_value(m, raws[k]) for m in query.metrics]} for k in page]
    return results, len(raws) if query.dimensions else 1


def _span(events: list[Row]) -> tuple[int, bool, int]:
    pageviews = sum(r.type == "pageview" for r in events)
    interactive = any(r.type in ("goal", "outbound") for r in events)
    times = [r.timestamp for r in events]
    return pageviews, interactive, max(times) - min(times)


def _sort_value(name: str, key: tuple, raw: dict, query: Query):
    if name in query.dimensions:
        return key[query.dimensions.index(name)]
    visits = raw["visits"]
    ratios = {"views_per_visit": "visit_pageviews", "bounce_rate": "bounces", "visit_duration": "duration_us"}
    if name in ratios:
        return Fraction(raw[ratios[name]], visits) if visits else Fraction(0)
    return raw["visitors" if name == "percentage" else name]
