"""What a visit's span is made of, as the compiler reads it: grouped on the fly from events, or
from a row of the store's `sessions` table (store/sessions.py, which defines the aggregates both
use, so the two agree).

A span's columns: its visitor, its pageviews, its events that are not engagement, its goal
completions, whether it had an interaction that stops a bounce, last − first event time
(engagement included) and the path of its last pageview (ties broken by path).
"""

from __future__ import annotations

from postmetric.store.dialects import Dialect
from postmetric.store.sessions import visit_aggregates

SPAN_COLUMNS = ("span_visitor", "span_pageviews", "span_events", "span_conversions", "span_interactive",
                "span_duration_us", "exit_page")


def span_aggregates(d: Dialect) -> list[str]:
    """`<aggregate> AS <column>` for every SPAN_COLUMNS entry, over a group of events."""
    expressions = visit_aggregates(d)
    return [f"{expressions[column]} AS {column}" for column in SPAN_COLUMNS]


def stored_spans(d: Dialect) -> list[str]:
    """SPAN_COLUMNS read from a sessions table row."""
    duration = f"{d.epoch_micros('last_at')} - {d.epoch_micros('first_at')} AS span_duration_us"
    return [duration if column == "span_duration_us" else column for column in SPAN_COLUMNS]
