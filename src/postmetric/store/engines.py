"""Opening the event store the settings name: ClickHouse or the DuckDB file."""

from __future__ import annotations

from postmetric.config import Settings
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.store.events import EventStore


def open_event_store(settings: Settings, *, journal_id: str = "") -> EventStore:
    """ClickHouse when POSTMETRIC_CLICKHOUSE_URL names one, else the DuckDB file in the data dir.
    `journal_id`: the node's ingestion journal, whose checkpoint a shared store keeps apart."""
    if settings.clickhouse_url:
        # Imported here, not above: not to dodge a cycle (no driver imports this module), but so
        # that clickhouse_connect is loaded only by the installs that use ClickHouse.
        from postmetric.store.clickhouse_events import connect

        return connect(settings.clickhouse_url, journal_id=journal_id)
    return DuckDBEventStore(settings.events_path)
