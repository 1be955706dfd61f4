"""What a visit's span is made of, computed from its events — one definition shared by the
compiler (spans grouped on the fly) and the event stores' `sessions` table (one row per
visit, refreshed by every load, so visit-level panels read a row per visit instead of
grouping millions of events).

A span's columns: its visitor, its pageviews, its events that are not engagement, its
goal completions, whether it had an interaction that stops a bounce, last − first event
time (engagement included) and the path of its last pageview (ties broken by path).
"""

from __future__ import annotations

from postmetric.ingest.sessions import VISIT_FIELDS
from postmetric.stats.dialects import Dialect

INTERACTIONS = ("goal", "outbound")  # events that keep a one-pageview visit from bouncing

SPAN_COLUMNS = ("span_visitor", "span_pageviews", "span_events", "span_conversions", "span_interactive",
                "span_duration_us", "exit_page")
# The `sessions` table: a visit's key and start, its span, and its visit attributes.
SESSION_COLUMNS = ("site_id", "session_id", "session_started_at", *SPAN_COLUMNS, *VISIT_FIELDS)


def span_aggregates(d: Dialect) -> list[str]:
    """`<aggregate> AS <column>` for every SPAN_COLUMNS entry, over a group of events."""
    kinds = ", ".join(f"'{kind}'" for kind in INTERACTIONS)
    expressions = {
        "span_visitor": "min(visitor_id)",
        "span_pageviews": "sum(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END)",
        "span_events": "sum(CASE WHEN type <> 'engagement' THEN 1 ELSE 0 END)",
        "span_conversions": "sum(CASE WHEN type = 'goal' THEN 1 ELSE 0 END)",
        "span_interactive": f"max(CASE WHEN type IN ({kinds}) THEN 1 ELSE 0 END)",
        "span_duration_us": f"{d.epoch_micros('max(timestamp)')} - {d.epoch_micros('min(timestamp)')}",
        "exit_page": d.last_by("pathname", "(timestamp, pathname)", "type = 'pageview'"),
    }
    return [f"{expressions[column]} AS {column}" for column in SPAN_COLUMNS]


def session_rows(d: Dialect, where: str) -> str:
    """A SELECT of SESSION_COLUMNS for the visits of the events matching `where`. Visit
    attributes are the same on all of a visit's events; `min` picks one all the same.
    (ClickHouse needs `prefer_column_name_to_alias` for `min(x) AS x`.)"""
    attributes = [f"min({field}) AS {field}" for field in VISIT_FIELDS]
    return (
        "SELECT site_id, session_id, min(session_started_at) AS session_started_at, "
        + ", ".join(span_aggregates(d) + attributes)
        + f" FROM events WHERE {where} GROUP BY site_id, session_id"
    )
