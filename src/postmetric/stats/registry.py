"""The names a query may use: metrics, dimensions, filter operators, date ranges.

Metric and dimension names are derived from their definitions (stats/definitions.py), where
each is defined once; parsing, validation messages and the OpenAPI enums read these tuples.
"""

from __future__ import annotations

from postmetric.stats.definitions import (
    DIMENSION_DEFINITIONS,
    DIMENSIONS_BY_NAME,
    METRIC_DEFINITIONS,
    PROPERTY_DIMENSION,
    DimensionKind,
    Format,
    MetricKind,
)

METRICS: tuple[str, ...] = tuple(m.name for m in METRIC_DEFINITIONS)

# Metrics named by the contract whose data arrives with later work; asking for one is a
# clear 400 until then.
PENDING_METRICS: dict[str, str] = {m.name: m.pending for m in METRIC_DEFINITIONS if m.pending}
# Metrics of the payments ledger (money in the site currency); they count payments by when
# they happened and give visit:* groups by the `attribution` model.
REVENUE_METRICS: tuple[str, ...] = tuple(m.name for m in METRIC_DEFINITIONS if m.kind is MetricKind.REVENUE)
MONEY_METRICS: tuple[str, ...] = tuple(m.name for m in METRIC_DEFINITIONS if m.format is Format.MONEY)
# Metrics of a whole visit: they split by what is the same for all of a visit's events,
# and by the pages and hostnames a visit saw, but not by a single event's name or props.
VISIT_METRICS: tuple[str, ...] = tuple(m.name for m in METRIC_DEFINITIONS if m.kind is MetricKind.VISIT)
PER_EVENT_ONLY_DIMENSIONS: tuple[str, ...] = tuple(d.name for d in DIMENSION_DEFINITIONS if d.per_event_only)
# Metrics of Google Search Console's rows (stats/search_plan.py): they split by search:* and time dimensions
# (days and longer) only, and mix with no other metric.
SEARCH_METRICS: tuple[str, ...] = tuple(m.name for m in METRIC_DEFINITIONS if m.kind is MetricKind.SEARCH)


def _dimensions(kind: DimensionKind) -> tuple[str, ...]:
    return tuple(d.name for d in DIMENSION_DEFINITIONS if d.kind is kind)


TIME_DIMENSIONS: tuple[str, ...] = _dimensions(DimensionKind.TIME)
EVENT_DIMENSIONS: tuple[str, ...] = _dimensions(DimensionKind.EVENT)
VISIT_DIMENSIONS: tuple[str, ...] = _dimensions(DimensionKind.VISIT)
SEARCH_DIMENSIONS: tuple[str, ...] = _dimensions(DimensionKind.SEARCH)
# What search:* metrics are filtered by besides their own dimensions: the dashboard's page filter (the path).
SEARCH_FILTERS: tuple[str, ...] = (*SEARCH_DIMENSIONS, "event:page")
SEARCH_TIME_UNITS: tuple[str, ...] = ("day", "week", "month")
FILTER_OPERATORS: tuple[str, ...] = ("is", "is_not", "contains", "contains_not", "matches", "matches_not")
LOGICAL_OPERATORS: tuple[str, ...] = ("and", "or", "not")

DATE_RANGES: tuple[str, ...] = ("realtime", "day", "24h", "7d", "30d", "month", "6mo", "12mo", "year", "all")
COMPARISONS: tuple[str, ...] = ("previous_period", "year_over_year")
ATTRIBUTIONS: tuple[str, ...] = ("first_touch", "last_touch")

MAX_LIMIT = 10_000


def is_dimension(name: str) -> bool:
    return name in DIMENSIONS_BY_NAME or bool(PROPERTY_DIMENSION.match(name))


def is_filterable(name: str) -> bool:
    """Filters take any dimension but the time buckets."""
    definition = DIMENSIONS_BY_NAME.get(name)
    return definition.filterable if definition else bool(PROPERTY_DIMENSION.match(name))
