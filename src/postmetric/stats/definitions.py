"""Every metric and dimension of the query model, each defined once.

A `Metric` says what it is called and shown as, what kind of thing it counts, how it reads
(its format), what it needs (the sums of a group it is computed from, and so the sources the
compiler must read), how its value comes from those sums, and the SQL that orders groups by
it. A `Dimension` says its name, label, kind and the column it reads. From these:

- `stats/registry.py` derives the name tuples that parsing, validation messages and the
  OpenAPI enums use;
- the compiler (stats/compiler.py) picks its plans from the metrics' sums and orders by
  their sort keys, and reads dimension columns from here;
- the engine (stats/engine.py) computes values, changes and empty groups from here;
- the dashboard reads labels, formats and metric kinds from the JSON this module prints
  (`python -m postmetric.stats.definitions`, written to dashboard/src/generated/ by
  `make`; tests/stats/test_definitions.py fails when the committed copy is stale).

Adding a metric is one entry in METRIC_DEFINITIONS (plus its tests); a metric whose sums
are new also needs the plan that computes them in the compiler.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

import orjson

from postmetric.store.dialects import Dialect

Number = int | float
# A group's sum by column name (0 when the group has none).
Sums = Callable[[str], int]


class Source(StrEnum):
    """Where the compiler finds a sum: what a metric needs read."""

    EVENTS = "events"  # matching events
    SESSIONS = "sessions"  # the visits' spans (one row per visit)
    TOTAL = "total"  # all groups together
    PAYMENTS = "payments"  # the payments ledger
    ENGAGEMENT = "engagement"  # engagement events' scroll depths
    GOAL_BASE = "goal_base"  # who could have converted: the group's visitors without the goal
    SEARCH = "search"  # Google Search Console's rows (store/search.py), never mixed with the others


# Every sum the compiler returns, and where it is read.
SUMS: dict[str, Source] = {
    "visitors": Source.EVENTS, "pageviews": Source.EVENTS, "events": Source.EVENTS, "conversions": Source.EVENTS,
    "visits": Source.SESSIONS, "visit_pageviews": Source.SESSIONS, "bounces": Source.SESSIONS,
    "duration_us": Source.SESSIONS,
    "total_visitors": Source.TOTAL,
    "new_minor": Source.PAYMENTS, "renewal_minor": Source.PAYMENTS, "refund_minor": Source.PAYMENTS,
    "payment_count": Source.PAYMENTS, "customer_count": Source.PAYMENTS, "payer_count": Source.PAYMENTS,
    "scroll_sum": Source.ENGAGEMENT, "scroll_visitors": Source.ENGAGEMENT,
    "base_visitors": Source.GOAL_BASE,
    # search_position_milli: the rows' positions weighted by their impressions, in thousandths, summed as
    # integers so that every engine adds up the same.
    "search_clicks": Source.SEARCH, "search_impressions": Source.SEARCH, "search_position_milli": Source.SEARCH,
}


def sums_from(source: Source) -> tuple[str, ...]:
    return tuple(name for name, where in SUMS.items() if where is source)


class MetricKind(StrEnum):
    EVENT = "event"  # counted from events (and the visitors who had them)
    VISIT = "visit"  # of whole visits: cannot be split by a single event's name, goal or props
    REVENUE = "revenue"  # of the payments ledger, attributed to visits by the query's model
    ENGAGEMENT = "engagement"  # measured by engagement events, per page
    SEARCH = "search"  # of Google Search results (Search Console), by day: search:* dimensions only


class Format(StrEnum):
    COUNT = "count"
    PERCENT = "percent"
    SECONDS = "seconds"
    MONEY = "money"  # major units of the site's currency
    DECIMAL = "decimal"  # a ratio with two decimals


class Change(StrEnum):
    """How a comparison tells a metric's change."""

    PERCENT = "percent"
    POINTS = "points"  # a rate: 40 → 50 is +10 points, not +25 %


@dataclass(frozen=True, slots=True)
class Plan:
    """How a metric is computed: from which `sums` of a group, its `value` (given the sums and the
    currency's minor digits), and the SQL over the sums that orders groups by it."""

    sums: tuple[str, ...]
    value: Callable[[Sums, int], Number | None]
    sort_key: Callable[[Dialect], str]


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    label: str
    kind: MetricKind
    format: Format
    plan: Plan
    # The plan when a goal is in the query's context (an event:goal dimension or filter).
    goal_plan: Plan | None = None
    change: Change = Change.PERCENT
    lower_is_better: bool = False
    measured: bool = False  # null, not 0, for a group where nothing was measured
    pending: str | None = None  # why it cannot be asked yet (a clear 400 until its data exists)

    @property
    def needs(self) -> tuple[Source, ...]:
        plans = (self.plan,) + ((self.goal_plan,) if self.goal_plan else ())
        return tuple(dict.fromkeys(SUMS[column] for plan in plans for column in plan.sums))

    def plan_for(self, *, goal_in_context: bool) -> Plan:
        return self.goal_plan if goal_in_context and self.goal_plan else self.plan


class DimensionKind(StrEnum):
    TIME = "time"
    EVENT = "event"  # a value of each event
    VISIT = "visit"  # the same for all of a visit's events (the exit page: of its span)
    SEARCH = "search"  # of a Search Console row: for search:* metrics only


@dataclass(frozen=True, slots=True)
class Dimension:
    name: str
    label: str
    kind: DimensionKind
    # The column of the events and sessions tables it reads; None where the compiler computes the
    # value (the time bucket, a goal's display name).
    column: str | None
    per_event_only: bool = False  # a single event's, never a whole visit's (no visit metric splits by it)
    unit: str | None = None  # a time dimension's bucket: minute, hour, day, week or month

    @property
    def filterable(self) -> bool:
        """Filters take any dimension but the time buckets."""
        return self.kind is not DimensionKind.TIME


# -- values ------------------------------------------------------------------------------


def round_half_up(value: Fraction, digits: int) -> Fraction:
    scale = 10**digits
    scaled = value * scale
    rounded = (scaled + Fraction(1, 2)).__floor__() if scaled >= 0 else -((-scaled + Fraction(1, 2)).__floor__())
    return Fraction(rounded, scale)


def _money(minor: Fraction | int, digits: int, places: int) -> Number:
    value = round_half_up(Fraction(minor, 10**digits), places)
    return int(value) if places == 0 else float(value)


def _net(get: Sums) -> int:
    return get("new_minor") + get("renewal_minor") - get("refund_minor")


def _rate(numerator: str, denominator: str, digits: int, *, scale: int = 100,
          as_int: bool = False) -> Callable[[Sums, int], Number]:
    """`scale` × numerator / denominator rounded to `digits`, 0 without a denominator."""
    def value(get: Sums, _: int) -> Number:
        below = get(denominator)
        if not below:
            return 0
        rounded = round_half_up(Fraction(scale * get(numerator), below), digits)
        return int(rounded) if as_int else float(rounded)
    return value


def _column(name: str) -> Callable[[Dialect], str]:
    return lambda d: name


def _ratio(numerator: str, denominator: str) -> Callable[[Dialect], str]:
    return lambda d: d.ratio(numerator, denominator)


def _count(sum_name: str) -> Plan:
    return Plan((sum_name,), lambda get, _: get(sum_name), _column(sum_name))


def _money_sum(*signed: tuple[str, int]) -> Plan:
    columns = tuple(column for column, _ in signed)
    sort = columns[0] if len(columns) == 1 else NET_MINOR
    return Plan(columns, lambda get, digits: _money(sum(sign * get(c) for c, sign in signed), digits, digits),
                _column(sort))


# The net and gross revenue of a group, in minor units, over the payments' sums.
NET_MINOR = "(coalesce(new_minor, 0) + coalesce(renewal_minor, 0) - coalesce(refund_minor, 0))"
GROSS_MINOR = "(coalesce(new_minor, 0) + coalesce(renewal_minor, 0))"


def _revenue_per_visitor(get: Sums, digits: int) -> Number:
    visitors = get("visitors")
    return _money(Fraction(_net(get), visitors), digits, max(digits, 2)) if visitors else 0


def _average_order_value(get: Sums, digits: int) -> Number:
    count = get("payment_count")
    return _money(Fraction(get("new_minor") + get("renewal_minor"), count), digits, max(digits, 2)) if count else 0


def _scroll_depth(get: Sums, _: int) -> Number | None:
    measured = get("scroll_visitors")
    return int(round_half_up(Fraction(get("scroll_sum"), measured), 0)) if measured else None


def _search_ctr(get: Sums, digits: int) -> Number | None:
    """Clicks per 100 impressions, two decimals; none without impressions (nothing was shown)."""
    return _rate("search_clicks", "search_impressions", 2)(get, digits) if get("search_impressions") else None


def _search_position(get: Sums, _: int) -> Number | None:
    """The impression-weighted average position, one decimal as Search Console shows it."""
    impressions = get("search_impressions")
    return float(round_half_up(Fraction(get("search_position_milli"), impressions * 1000), 1)) if impressions else None


def _visit_duration(get: Sums, _: int) -> Number:
    visits = get("visits")
    return int(round_half_up(Fraction(get("duration_us"), visits * 1_000_000), 0)) if visits else 0


# -- the metrics -------------------------------------------------------------------------

METRIC_DEFINITIONS: tuple[Metric, ...] = (
    Metric("visitors", "Visitors", MetricKind.EVENT, Format.COUNT, _count("visitors")),
    Metric("visits", "Visits", MetricKind.VISIT, Format.COUNT, _count("visits")),
    Metric("pageviews", "Pageviews", MetricKind.EVENT, Format.COUNT, _count("pageviews")),
    Metric("events", "Events", MetricKind.EVENT, Format.COUNT, _count("events")),
    Metric("views_per_visit", "Views per visit", MetricKind.VISIT, Format.DECIMAL,
           Plan(("visits", "visit_pageviews"), _rate("visit_pageviews", "visits", 2, scale=1),
                _ratio("visit_pageviews", "visits"))),
    Metric("bounce_rate", "Bounce rate", MetricKind.VISIT, Format.PERCENT,
           Plan(("visits", "bounces"), _rate("bounces", "visits", 0, as_int=True), _ratio("bounces", "visits")),
           change=Change.POINTS, lower_is_better=True),
    Metric("visit_duration", "Visit duration", MetricKind.VISIT, Format.SECONDS,
           Plan(("visits", "duration_us"), _visit_duration, _ratio("duration_us", "visits"))),
    Metric("scroll_depth", "Scroll depth", MetricKind.ENGAGEMENT, Format.PERCENT,
           Plan(("scroll_sum", "scroll_visitors"), _scroll_depth, _ratio("scroll_sum", "scroll_visitors")),
           measured=True),
    Metric("conversions", "Conversions", MetricKind.EVENT, Format.COUNT, _count("conversions")),
    # The share of visitors who paid; with a goal in context, the goal's converters over the
    # visitors of the group who could have converted (see the compiler's `_with_goal_base`).
    Metric("conversion_rate", "Conversion rate", MetricKind.REVENUE, Format.PERCENT,
           Plan(("payer_count", "visitors"), _rate("payer_count", "visitors", 2), _ratio("payer_count", "visitors")),
           goal_plan=Plan(("visitors", "base_visitors"), _rate("visitors", "base_visitors", 2),
                          _ratio("visitors", "base_visitors")),
           change=Change.POINTS),
    Metric("revenue", "Revenue", MetricKind.REVENUE, Format.MONEY,
           _money_sum(("new_minor", 1), ("renewal_minor", 1), ("refund_minor", -1))),
    Metric("revenue_new", "New", MetricKind.REVENUE, Format.MONEY, _money_sum(("new_minor", 1))),
    Metric("revenue_renewal", "Renewal", MetricKind.REVENUE, Format.MONEY, _money_sum(("renewal_minor", 1))),
    Metric("refunds", "Refunds", MetricKind.REVENUE, Format.MONEY, _money_sum(("refund_minor", 1))),
    Metric("payments", "Payments", MetricKind.REVENUE, Format.COUNT, _count("payment_count")),
    Metric("customers", "Customers", MetricKind.REVENUE, Format.COUNT, _count("customer_count")),
    Metric("revenue_per_visitor", "Revenue per visitor", MetricKind.REVENUE, Format.MONEY,
           Plan(("new_minor", "renewal_minor", "refund_minor", "visitors"), _revenue_per_visitor,
                _ratio(NET_MINOR, "visitors"))),
    Metric("average_order_value", "Average order", MetricKind.REVENUE, Format.MONEY,
           Plan(("new_minor", "renewal_minor", "payment_count"), _average_order_value,
                _ratio(GROSS_MINOR, "payment_count"))),
    # Search Console (store/search.py): a query's clicks and impressions in Google Search, the share of
    # impressions clicked, and the average position (1 = top) weighted by impressions.
    Metric("search:clicks", "Clicks", MetricKind.SEARCH, Format.COUNT, _count("search_clicks")),
    Metric("search:impressions", "Impressions", MetricKind.SEARCH, Format.COUNT, _count("search_impressions")),
    Metric("search:ctr", "CTR", MetricKind.SEARCH, Format.PERCENT,
           Plan(("search_clicks", "search_impressions"), _search_ctr, _ratio("search_clicks", "search_impressions")),
           change=Change.POINTS, measured=True),
    Metric("search:position", "Position", MetricKind.SEARCH, Format.DECIMAL,
           Plan(("search_position_milli", "search_impressions"), _search_position,
                _ratio("search_position_milli", "search_impressions")),
           change=Change.POINTS, lower_is_better=True, measured=True),
    # A group's share of all groups' visitors.
    Metric("percentage", "%", MetricKind.EVENT, Format.PERCENT,
           Plan(("visitors", "total_visitors"), _rate("visitors", "total_visitors", 1), _column("visitors"))),
)
METRICS_BY_NAME: dict[str, Metric] = {metric.name: metric for metric in METRIC_DEFINITIONS}

# -- the dimensions ----------------------------------------------------------------------

_TIME, _EVENT, _VISIT, _SEARCH = DimensionKind.TIME, DimensionKind.EVENT, DimensionKind.VISIT, DimensionKind.SEARCH

DIMENSION_DEFINITIONS: tuple[Dimension, ...] = (
    Dimension("time", "Time", _TIME, None, unit="day"),  # days, as time:day
    Dimension("time:minute", "Minute", _TIME, None, unit="minute"),
    Dimension("time:hour", "Hour", _TIME, None, unit="hour"),
    Dimension("time:day", "Day", _TIME, None, unit="day"),
    Dimension("time:week", "Week", _TIME, None, unit="week"),
    Dimension("time:month", "Month", _TIME, None, unit="month"),
    Dimension("event:page", "Page", _EVENT, "pathname"),
    Dimension("event:hostname", "Hostname", _EVENT, "hostname"),
    # A goal event's name (or its definition's display name), or the first page goal a pageview matches.
    Dimension("event:goal", "Goal", _EVENT, None, per_event_only=True),
    Dimension("event:name", "Event name", _EVENT, "name", per_event_only=True),
    Dimension("visit:entry_page", "Entry page", _VISIT, "entry_page"),
    Dimension("visit:exit_page", "Exit page", _VISIT, "exit_page"),  # the span's last pageview
    Dimension("visit:source", "Source", _VISIT, "source"),
    Dimension("visit:referrer", "Referrer", _VISIT, "referrer"),
    Dimension("visit:channel", "Channel", _VISIT, "channel"),
    Dimension("visit:utm_source", "UTM source", _VISIT, "utm_source"),
    Dimension("visit:utm_medium", "UTM medium", _VISIT, "utm_medium"),
    Dimension("visit:utm_campaign", "Campaign", _VISIT, "utm_campaign"),
    Dimension("visit:utm_term", "UTM term", _VISIT, "utm_term"),
    Dimension("visit:utm_content", "UTM content", _VISIT, "utm_content"),
    Dimension("visit:country", "Country", _VISIT, "country"),
    Dimension("visit:region", "Region", _VISIT, "region"),
    Dimension("visit:city", "City", _VISIT, "city"),
    Dimension("visit:browser", "Browser", _VISIT, "browser"),
    Dimension("visit:browser_version", "Browser version", _VISIT, "browser_version"),
    Dimension("visit:os", "OS", _VISIT, "os"),
    Dimension("visit:os_version", "OS version", _VISIT, "os_version"),
    Dimension("visit:device", "Device", _VISIT, "device"),
    # Search Console rows (store/search.py): the page is the result's path, as event:page is a pageview's.
    Dimension("search:query", "Query", _SEARCH, "query"),
    Dimension("search:page", "Page", _SEARCH, "path"),
    Dimension("search:country", "Country", _SEARCH, "country"),
    Dimension("search:device", "Device", _SEARCH, "device"),
)
DIMENSIONS_BY_NAME: dict[str, Dimension] = {dimension.name: dimension for dimension in DIMENSION_DEFINITIONS}
# A custom property of an event: `event:props:<key>`, read from the event's props.
PROPERTY_DIMENSION = re.compile(r"^event:props:[a-z0-9_-]{1,64}$")


def _check() -> None:
    """Fail at import on a definition that cannot work: a sum nobody computes, a name twice."""
    for metric in METRIC_DEFINITIONS:
        for plan in (metric.plan, metric.goal_plan):
            unknown = [column for column in (plan.sums if plan else ()) if column not in SUMS]
            if unknown:
                raise ValueError(f"metric {metric.name}: no plan computes the sums {unknown}")
    for kind, names in (("metric", [m.name for m in METRIC_DEFINITIONS]),
                        ("dimension", [d.name for d in DIMENSION_DEFINITIONS])):
        if len(set(names)) != len(names):
            raise ValueError(f"a {kind} is defined twice")


_check()


def as_json() -> dict[str, object]:
    """What the dashboard needs of the definitions: names, labels, kinds, formats."""
    return {
        "metrics": [
            {"name": m.name, "label": m.label, "kind": m.kind, "format": m.format, "change": m.change,
             "lower_is_better": m.lower_is_better, "needs": list(m.needs)}
            for m in METRIC_DEFINITIONS
        ],
        "dimensions": [
            {"name": d.name, "label": d.label, "kind": d.kind, "filterable": d.filterable}
            for d in DIMENSION_DEFINITIONS
        ],
        "property_dimension": PROPERTY_DIMENSION.pattern,
    }


def json_text() -> str:
    return orjson.dumps(as_json(), option=orjson.OPT_INDENT_2).decode() + "\n"


if __name__ == "__main__":
    sys.stdout.write(json_text())
