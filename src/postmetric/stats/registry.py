"""The names a query may use: metrics, dimensions, filter operators, date ranges.

One registry drives parsing, validation messages and (later) the compilers, so a new
metric or dimension is added here once.
"""

from __future__ import annotations

import re

METRICS: tuple[str, ...] = (
    "visitors", "visits", "pageviews", "events", "views_per_visit", "bounce_rate", "visit_duration",
    "scroll_depth", "conversions", "conversion_rate", "revenue", "revenue_new", "revenue_renewal", "refunds",
    "payments", "customers", "revenue_per_visitor", "average_order_value", "percentage",
)

# Metrics named by the contract whose data arrives with later work; asking for one is a
# clear 400 until then.
PENDING_METRICS: dict[str, str] = {}
# Metrics of the payments ledger (money in the site currency); they count payments by when
# they happened and give visit:* groups by the `attribution` model.
REVENUE_METRICS: tuple[str, ...] = (
    "revenue", "revenue_new", "revenue_renewal", "refunds", "payments", "customers",
    "revenue_per_visitor", "average_order_value", "conversion_rate",
)
MONEY_METRICS: tuple[str, ...] = ("revenue", "revenue_new", "revenue_renewal", "refunds",
                                  "revenue_per_visitor", "average_order_value")
# Metrics of a whole visit: they split by what is the same for all of a visit's events,
# and by the pages and hostnames a visit saw, but not by a single event's name or props.
VISIT_METRICS: tuple[str, ...] = ("visits", "views_per_visit", "bounce_rate", "visit_duration")
PER_EVENT_ONLY_DIMENSIONS: tuple[str, ...] = ("event:goal", "event:name")

TIME_DIMENSIONS: tuple[str, ...] = ("time", "time:minute", "time:hour", "time:day", "time:week", "time:month")
EVENT_DIMENSIONS: tuple[str, ...] = ("event:page", "event:hostname", "event:goal", "event:name")
VISIT_DIMENSIONS: tuple[str, ...] = (
    "visit:entry_page", "visit:exit_page", "visit:source", "visit:referrer", "visit:channel",
    "visit:utm_source", "visit:utm_medium", "visit:utm_campaign", "visit:utm_term", "visit:utm_content",
    "visit:country", "visit:region", "visit:city", "visit:browser", "visit:browser_version",
    "visit:os", "visit:os_version", "visit:device",
)
PROPERTY_DIMENSION = re.compile(r"^event:props:[a-z0-9_-]{1,64}$")

FILTER_OPERATORS: tuple[str, ...] = ("is", "is_not", "contains", "contains_not", "matches", "matches_not")
LOGICAL_OPERATORS: tuple[str, ...] = ("and", "or", "not")

DATE_RANGES: tuple[str, ...] = ("realtime", "day", "24h", "7d", "30d", "month", "6mo", "12mo", "year", "all")
COMPARISONS: tuple[str, ...] = ("previous_period", "year_over_year")
ATTRIBUTIONS: tuple[str, ...] = ("first_touch", "last_touch")

MAX_LIMIT = 10_000


def is_dimension(name: str) -> bool:
    return (
        name in TIME_DIMENSIONS
        or name in EVENT_DIMENSIONS
        or name in VISIT_DIMENSIONS
        or bool(PROPERTY_DIMENSION.match(name))
    )


def is_filterable(name: str) -> bool:
    """Filters take any dimension but the time buckets."""
    return is_dimension(name) and name not in TIME_DIMENSIONS
