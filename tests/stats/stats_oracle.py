"""The stats definitions of SPEC §5 in plain Python, event by event: what the SQL engine
must agree with exactly. Written from the definitions, not from the compiler:

- a visit and its events belong to the range and time bucket of the visit's start
  (realtime: of each event's own time, and a visit counts in every minute it was active);
- engagement events never make a visitor, visit or event, but lengthen visits;
- filters test each event; a visit is in a group when one of its matching events is;
- a visit's pageviews, bounce, duration and exit page come from all its events in the
  scope and bucket;
- a payment counts by its own time; split or filtered by anything but time, it belongs to
  the visit its payer's `attribution` picks among the visits of the payer's person (every
  visitor whose latest identify names the same user_id, else email; first visit; or the
  linked visit, else the last non-Direct one begun by then, else the last begun by then,
  else the first), and event values are those of the paying visitor's events from the
  range's start up to the payment.
- an event's goal is a goal event's name (or its definition's display name), or the display name
  of the first page goal (by id) whose pattern matches a pageview's whole path (`*`: anything);
  `conversions` counts events with a goal; with a goal in context (event:goal dimension or
  filter), `conversion_rate` is the group's visitors over those of the same group by the other
  dimensions, under the filters that do not mention event:goal;
- `scroll_depth` of a group: the mean of each visitor's deepest scroll among the engagement
  events in scope that pass the filters (on the engagement event), null without any.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo

from postmetric.ingest.event import Event
from postmetric.store.columns import VISIT_FIELDS
from postmetric.store.payments import Payment
from postmetric.stats.engine import metric_value
from postmetric.stats.registry import REVENUE_METRICS
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
    scroll_depth: int | None = None  # engagement events: how far down the page (0–100)

    @classmethod
    def of(cls, e: Event) -> Row:
        return cls(
            e.site_id, round(e.timestamp * 1e6), e.type.value, e.name, e.hostname, e.pathname,
            tuple(sorted(e.props.items())), e.visit.visitor_id, e.visit.session_id,
            round(e.visit.started_at * 1e6), dict(zip(VISIT_FIELDS, e.visit.attributes)), e.scroll_depth,
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
           by_event_time: bool = False, payments: list[Payment] = (), currency: str = "USD",
           goals: tuple = (),
           ) -> tuple[list[dict], int]:
    """(results, total_rows) for `query` over `rows` and `payments`, paginated like the engine;
    `goals` are the site's goal definitions (sites.goals.GoalDefinition)."""
    goal_of = _goal_namer(goals)
    goal_context = "event:goal" in query.dimensions or any(
        leaf.dimension == "event:goal" for leaf in _leaves(query.filters))
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
            return goal_of(r)
        event_columns = {"event:page": r.pathname, "event:hostname": r.hostname, "event:name": r.name}
        if dimension in event_columns:
            return event_columns[dimension]
        return r.visit[dimension.removeprefix("visit:")]

    def passes(r: Row, f, value_of=None) -> bool:
        if isinstance(f, Logical):
            if f.operator == "not":
                return not passes(r, f.children[0], value_of)
            results = (passes(r, c, value_of) for c in f.children)
            return all(results) if f.operator == "and" else any(results)
        v = value_of(f.dimension) if value_of else value(r, f.dimension)
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
        and ("event:goal" not in query.dimensions or goal_of(r))
    ]
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for r in matched:
        groups[tuple(value(r, d) for d in query.dimensions)].append(r)
    if not query.dimensions and not groups:
        groups[()] = []

    total_visitors = len({r.visitor_id for r in matched})
    revenue = {}
    if any(m in REVENUE_METRICS and not (m == "conversion_rate" and goal_context) for m in query.metrics):
        revenue = _revenue_groups(rows, payments, query, site_id=site_id, low=low, high=high, tz=tz, unit=unit,
                                  currency=currency, passes=passes, goal_of=goal_of)
        if all(m in LEDGER_ONLY for m in query.metrics):  # nothing about visitors: groups of payments only
            groups = defaultdict(list) if query.dimensions else {(): []}
    for key in revenue:
        groups.setdefault(key, [])
    # Who could have converted: visitors by the dimensions but event:goal, without goal filters.
    base_dimensions = [i for i, d in enumerate(query.dimensions) if d != "event:goal"]
    base_filters = [f for f in query.filters if not any(leaf.dimension == "event:goal" for leaf in _leaves([f]))]
    could_convert: dict[tuple, set] = defaultdict(set)
    for r in scope:
        if r.type != "engagement" and all(passes(r, f) for f in base_filters):
            could_convert[tuple(value(r, query.dimensions[i]) for i in base_dimensions)].add(r.visitor_id)
    raws = {}
    people = _people([r for r in rows if r.site_id == site_id])
    for key, events in groups.items():
        visits = {(r.session_id, bucket_of[r]) for r in events}
        span_stats = [_span(spans[v]) for v in visits]
        raws[key] = {
            "visitors": len({r.visitor_id for r in events}),
            "pageviews": sum(r.type == "pageview" for r in events),
            "events": len(events),
            "conversions": sum(goal_of(r) != "" for r in events),
            "visits": len(visits),
            "visit_pageviews": sum(s[0] for s in span_stats),
            "bounces": sum(s[0] == 1 and not s[1] for s in span_stats),
            "duration_us": sum(s[2] for s in span_stats),
            "total_visitors": total_visitors,
            "base_visitors": len(could_convert.get(tuple(key[i] for i in base_dimensions), ())),
            **_revenue_raw(revenue.get(key, []), currency, people),
        }

    if "scroll_depth" in query.metrics:
        deepest: dict[tuple, dict] = defaultdict(dict)
        for r in scope:
            if r.type == "engagement" and r.scroll_depth is not None and all(passes(r, f) for f in query.filters):
                key = tuple(value(r, d) for d in query.dimensions)
                deepest[key][r.visitor_id] = max(deepest[key].get(r.visitor_id, 0), r.scroll_depth)
        for key, raw in raws.items():
            raw["scroll_sum"], raw["scroll_visitors"] = sum(deepest[key].values()), len(deepest[key])

    order = list(query.order_by) or [(d, "asc") for d in query.dimensions if d.startswith("time:")] + [
        (query.metrics[0], "desc")]
    keys = sorted(raws, key=lambda k: tuple(k))
    for name, direction in reversed(order):  # stable sorts, last key first
        keys.sort(key=lambda k: _sort_value(name, k, raws[k], query, goal_context), reverse=direction == "desc")
    page = keys[query.offset: query.offset + query.limit] if query.dimensions else keys
    results = [{"dimensions": list(k), "metrics": [metric_value(m, raws[k], goal_rate=goal_context)
                                                   for m in query.metrics]} for k in page]
    return results, len(raws) if query.dimensions else 1


# Metrics computed from payments alone.
LEDGER_ONLY = ("revenue", "revenue_new", "revenue_renewal", "refunds", "payments", "customers", "average_order_value")


def _revenue_groups(rows: list[Row], payments: list[Payment], query: Query, *, site_id: int, low: int, high: int, tz, unit,
                    currency: str, passes, goal_of) -> dict[tuple, list]:
    """The payments of each group, each payment once per group."""
    paid = [p for p in payments if p.site_id == site_id and low <= _micros(p.timestamp) < high]
    time_only = all(d.startswith("time") for d in query.dimensions) and not query.filters
    groups: dict[tuple, dict] = defaultdict(dict)
    if time_only:
        for p in paid:
            groups[tuple(bucket(unit, _micros(p.timestamp), tz) for _ in query.dimensions)][_key(p)] = p
        return {k: list(v.values()) for k, v in groups.items()}

    site_rows = [r for r in rows if r.site_id == site_id]
    visits: dict[str, list[Row]] = defaultdict(list)
    for r in site_rows:
        visits[r.session_id].append(r)
    visits = {sid: events for sid, events in visits.items() if any(r.type != "engagement" for r in events)}
    per_event = any(d.startswith("event:") for d in query.dimensions) or any(
        leaf.dimension.startswith("event:") for leaf in _leaves(query.filters))
    person = _people(site_rows)
    for p in paid:
        if p.visitor_id is None:
            continue
        payer = person.get(p.visitor_id, p.visitor_id)
        own = [sid for sid, events in visits.items() if person.get(events[0].visitor_id, events[0].visitor_id) == payer]
        if not own:
            continue
        chosen = max(own, key=lambda sid: _touch_key(query.attribution, p, sid, visits[sid]))
        visit = visits[chosen][0].visit | {"exit_page": _exit(visits[chosen])}
        if per_event:
            candidates = [r for r in site_rows if r.visitor_id == p.visitor_id and r.type != "engagement"
                          and low <= r.timestamp <= _micros(p.timestamp)
                          and ("event:goal" not in query.dimensions or goal_of(r))]
        else:
            candidates = [visits[chosen][0]]
        for r in candidates:
            def value(dimension: str, r=r) -> str:
                if dimension.startswith("time:"):
                    return bucket(unit, _micros(p.timestamp), tz)
                if dimension.startswith("visit:"):
                    return visit[dimension.removeprefix("visit:")]
                if dimension.startswith("event:props:"):
                    return dict(r.props).get(dimension.removeprefix("event:props:"), "(none)")
                if dimension == "event:goal":
                    return goal_of(r)
                return {"event:page": r.pathname, "event:hostname": r.hostname, "event:name": r.name}[dimension]

            if all(passes(r, f, value) for f in query.filters):
                groups[tuple(value(d) for d in query.dimensions)][_key(p)] = p
    return {k: list(v.values()) for k, v in groups.items()}


def _people(site_rows: list[Row]) -> dict[str, str]:
    """Each identified visitor's person (SPEC §7): the user_id of its latest identify naming one,
    else that identify's email, trimmed and lower-cased; visitors with one key are one person."""
    named: dict[str, tuple[int, str]] = {}
    for r in site_rows:
        if r.type != "identify":
            continue
        props = dict(r.props)
        user_id, email = props.get("user_id", ""), props.get("email", "").strip(" ").lower()
        key = f"user:{user_id}" if user_id else f"email:{email}" if email else None
        if key is not None:
            named[r.visitor_id] = max(named.get(r.visitor_id, (r.timestamp, key)), (r.timestamp, key))
    return {visitor: key for visitor, (_, key) in named.items()}


def _goal_namer(goals):
    """An event's value of event:goal under the site's goal definitions."""
    by_id = sorted(goals, key=lambda g: g.id)
    names = {g.event_name: g.display_name for g in by_id if g.kind == "event"}
    pages = [(re.compile(".*".join(re.escape(part) for part in g.page_path.split("*")), re.DOTALL), g.display_name)
             for g in by_id if g.kind == "page"]

    def goal_of(r: Row) -> str:
        if r.type == "goal":
            return names.get(r.name, r.name)
        if r.type == "pageview":
            return next((name for pattern, name in pages if pattern.fullmatch(r.pathname)), "")
        return ""

    return goal_of


def _key(p) -> tuple:
    return p.provider, p.transaction_id, p.kind


def _touch_key(attribution: str, p, session_id: str, events: list[Row]) -> tuple:
    started = events[0].session_started_at
    if attribution == "first_touch":
        return (-started, session_id)
    begun = started <= _micros(p.timestamp)
    channel = events[0].visit["channel"]
    rank = 3 if session_id == p.session_id else 2 if begun and channel not in ("Direct", "") else 1 if begun else 0
    return (rank, started if begun else -started, session_id)


def _exit(events: list[Row]) -> str:
    views = [(r.timestamp, r.pathname) for r in events if r.type == "pageview"]
    return max(views)[1] if views else ""


def _revenue_raw(payments, currency: str, people: dict[str, str]) -> dict:
    """A group's revenue sums; a customer is the payer's person (one user on several devices, see
    `_people`), else the payment's email, customer id or visitor."""
    def amount(p) -> int:
        return (p.reporting_amount or 0) if p.reporting_currency == currency else 0

    paid = [p for p in payments if p.kind in ("new", "renewal")]
    return {
        "new_minor": sum(amount(p) for p in payments if p.kind == "new"),
        "renewal_minor": sum(amount(p) for p in payments if p.kind == "renewal"),
        "refund_minor": sum(amount(p) for p in payments if p.kind == "refund"),
        "payment_count": len(paid),
        "customer_count": len({people.get(p.visitor_id) or p.email or p.customer_id or p.visitor_id
                               or f"{p.provider}:{p.transaction_id}" for p in paid}),
        "payer_count": len({p.visitor_id for p in payments if p.kind == "new" and p.visitor_id}),
    }


def _leaves(filters):
    for f in filters:
        if isinstance(f, Logical):
            yield from _leaves(f.children)
        else:
            yield f


def _span(events: list[Row]) -> tuple[int, bool, int]:
    pageviews = sum(r.type == "pageview" for r in events)
    interactive = any(r.type in ("goal", "outbound") for r in events)
    times = [r.timestamp for r in events]
    return pageviews, interactive, max(times) - min(times)


def _sort_value(name: str, key: tuple, raw: dict, query: Query, goal_context: bool):
    if name in query.dimensions:
        return key[query.dimensions.index(name)]
    if name == "scroll_depth":
        return Fraction(raw["scroll_sum"], raw["scroll_visitors"]) if raw["scroll_visitors"] else Fraction(0)
    visits = raw["visits"]
    ratios = {"views_per_visit": "visit_pageviews", "bounce_rate": "bounces", "visit_duration": "duration_us"}
    if name in ratios:
        return Fraction(raw[ratios[name]], visits) if visits else Fraction(0)
    net = raw["new_minor"] + raw["renewal_minor"] - raw["refund_minor"]
    revenue = {
        "revenue": net, "revenue_new": raw["new_minor"], "revenue_renewal": raw["renewal_minor"],
        "refunds": raw["refund_minor"], "payments": raw["payment_count"], "customers": raw["customer_count"],
        "revenue_per_visitor": Fraction(net, raw["visitors"]) if raw["visitors"] else Fraction(0),
        "average_order_value": (Fraction(raw["new_minor"] + raw["renewal_minor"], raw["payment_count"])
                                if raw["payment_count"] else Fraction(0)),
        "conversion_rate": Fraction(raw["payer_count"], raw["visitors"]) if raw["visitors"] else Fraction(0),
    }
    if goal_context:
        revenue["conversion_rate"] = (Fraction(raw["visitors"], raw["base_visitors"]) if raw["base_visitors"]
                                      else Fraction(0))
    if name in revenue:
        return revenue[name]
    return raw["visitors" if name == "percentage" else name]
