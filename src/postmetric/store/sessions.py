"""The `sessions` table: one row per visit, computed from its events and kept current by every
load, so visit-level stats read a row per visit instead of grouping millions of events. The
compiler groups spans on the fly from the same aggregates (stats/spans.py), so both agree.

A visit's row: its key and start, its visitor, its pageviews, its events that are not
engagement, its goal completions, whether it had an interaction that stops a bounce, its first
and last event time and the time and path of its last pageview (ties broken by path), and its
attributes. These are kept in a form that merges: first and last event time rather than the
duration, and the time of the last pageview beside its path, so a load can fold a batch's part
of a visit into the visit's row (`merged_session`) without rereading the visit's earlier events.
"""

from __future__ import annotations

from postmetric.store.columns import VISIT_FIELDS
from postmetric.store.dialects import Dialect

INTERACTIONS = ("goal", "outbound")  # events that keep a one-pageview visit from bouncing

_COUNTS = ("span_pageviews", "span_events", "span_conversions")
SESSION_COLUMNS = (
    "site_id", "session_id", "session_started_at", "span_visitor", *_COUNTS, "span_interactive",
    "first_at", "last_at", "last_pageview_at", "exit_page", *VISIT_FIELDS,
)


def visit_aggregates(d: Dialect) -> dict[str, str]:
    """Column → its aggregate over a visit's events (the span's columns and the stored ones)."""
    kinds = ", ".join(f"'{kind}'" for kind in INTERACTIONS)
    return {
        "span_visitor": "min(visitor_id)",
        "span_pageviews": "sum(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END)",
        "span_events": "sum(CASE WHEN type <> 'engagement' THEN 1 ELSE 0 END)",
        "span_conversions": "sum(CASE WHEN type = 'goal' THEN 1 ELSE 0 END)",
        "span_interactive": f"max(CASE WHEN type IN ({kinds}) THEN 1 ELSE 0 END)",
        "span_duration_us": f"{d.epoch_micros('max(timestamp)')} - {d.epoch_micros('min(timestamp)')}",
        "first_at": "min(timestamp)",
        "last_at": "max(timestamp)",
        "last_pageview_at": d.max_where("timestamp", "type = 'pageview'"),
        "exit_page": d.last_by("pathname", "(timestamp, pathname)", "type = 'pageview'"),
    }


def session_rows(d: Dialect, where: str, source: str = "events") -> str:
    """A SELECT of SESSION_COLUMNS for the visits of the rows of `source` matching `where`.
    Visit attributes are the same on all of a visit's events; `min` picks one all the same.
    (ClickHouse needs `prefer_column_name_to_alias` for `min(x) AS x`.)"""
    expressions = visit_aggregates(d) | {"session_started_at": "min(session_started_at)"}
    expressions |= {field: f"min({field})" for field in VISIT_FIELDS}
    columns = ["site_id", "session_id"] + [f"{expressions[c]} AS {c}" for c in SESSION_COLUMNS[2:]]
    return f"SELECT {', '.join(columns)} FROM {source} WHERE {where} GROUP BY site_id, session_id"


def merged_session(new: str, old: str) -> list[str]:
    """SESSION_COLUMNS of a visit from the rows `new` (a batch's part) and `old` (the visit's
    row so far, all NULL for a visit not seen before), in SQL both dialects speak."""

    def kept(column: str, combine: str) -> str:
        return f"{combine}({new}.{column}, coalesce({old}.{column}, {new}.{column})) AS {column}"

    # The later pageview (by time, then path) gives the exit page; a side without pageviews
    # has a NULL time and loses.
    new_exit_wins = (
        f"({old}.last_pageview_at IS NULL OR ({new}.last_pageview_at IS NOT NULL AND "
        f"({new}.last_pageview_at > {old}.last_pageview_at OR ({new}.last_pageview_at = {old}.last_pageview_at"
        f" AND {new}.exit_page >= {old}.exit_page))))"
    )
    columns = [f"{new}.site_id AS site_id", f"{new}.session_id AS session_id",
               kept("session_started_at", "least"), kept("span_visitor", "least")]
    columns += [f"{new}.{c} + coalesce({old}.{c}, 0) AS {c}" for c in _COUNTS]
    columns += [kept("span_interactive", "greatest"), kept("first_at", "least"), kept("last_at", "greatest")]
    columns += [f"CASE WHEN {new_exit_wins} THEN {new}.{c} ELSE {old}.{c} END AS {c}"
                for c in ("last_pageview_at", "exit_page")]
    columns += [kept(field, "least") for field in VISIT_FIELDS]
    return columns
