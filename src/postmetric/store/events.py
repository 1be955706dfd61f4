"""The event store interface, and the one column list every implementation stores.

Implementations (DuckDB now, ClickHouse later) only know how to write and read these
columns; what the columns mean is decided by ingestion and stats.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from postmetric.ingest.event import Event
from postmetric.ingest.sessions import VISIT_FIELDS, ActiveSession

# (name, logical type) — the dialects map logical types to their own.
EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("site_id", "uint32"),
    ("timestamp", "timestamp"),
    ("type", "string"),
    ("name", "string"),
    ("visitor_id", "uuid"),
    ("session_id", "uuid"),
    ("session_started_at", "timestamp"),
    ("hostname", "string"),
    ("pathname", "string"),
    ("query", "string"),
    ("title", "string"),
    ("entry_page", "string"),
    ("referrer", "string"),
    ("referrer_host", "string"),
    ("source", "string"),
    ("channel", "string"),
    ("utm_source", "string"),
    ("utm_medium", "string"),
    ("utm_campaign", "string"),
    ("utm_term", "string"),
    ("utm_content", "string"),
    ("ref", "string"),
    ("click_ids", "json"),
    ("country", "string"),
    ("region", "string"),
    ("city", "string"),
    ("browser", "string"),
    ("browser_version", "string"),
    ("os", "string"),
    ("os_version", "string"),
    ("device", "string"),
    ("viewport_width", "uint32?"),
    ("viewport_height", "uint32?"),
    ("props", "json"),
    ("scroll_depth", "uint8?"),
    ("engaged_ms", "uint32?"),
)
COLUMN_NAMES = tuple(name for name, _ in EVENT_COLUMNS)


class EventStore(Protocol):
    """Where enriched events are kept. `insert` returns only once the rows are durable."""

    def insert(self, events: Sequence[Event]) -> None: ...

    def active_sessions(self, since: float) -> list[ActiveSession]:
        """Visits with an event at or after `since` (unix seconds): their latest state."""
        ...

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a read-only query in the store's own SQL dialect."""
        ...

    def close(self) -> None: ...


__all__ = ["EVENT_COLUMNS", "COLUMN_NAMES", "VISIT_FIELDS", "EventStore"]
