"""Event-store migrations (store/event_migrations.py): applied at open, recorded in the store, and an
event store made before they were numbered opens with its rows and ends up as a new one."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from event_stores import KINDS, open_store
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.store.event_migrations import MIGRATIONS
from postmetric.store.journal import Position
from postmetric.store.sessions import SESSION_COLUMNS

FIXTURE = Path(__file__).parent / "fixtures" / "events_before_migrations.sql"
LATEST = MIGRATIONS[-1].version


def applied(store) -> list[tuple[int, str]]:
    return [(row["version"], row["description"])
            for row in store.fetch("SELECT version, description FROM schema_migrations ORDER BY version")]


def file_before_migrations(path: Path, *statements: str) -> None:
    """A DuckDB file as the code before numbered migrations left it, changed by `statements`."""
    with duckdb.connect(str(path)) as db:
        db.execute(FIXTURE.read_text())
        for statement in statements:
            db.execute(statement)


def stored_rows(store) -> dict[str, list[tuple]]:
    return {
        "events": [tuple(row.values()) for row in store.fetch(
            "SELECT timestamp, type, pathname, visitor_id, props FROM events ORDER BY timestamp")],
        "sessions": [tuple(row.values()) for row in store.fetch(
            f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions ORDER BY session_id")],
        "identities": [tuple(row.values()) for row in store.fetch("SELECT * FROM identities ORDER BY timestamp")],
    }


@pytest.mark.parametrize("kind", KINDS)
def test_a_new_store_records_every_migration_once(tmp_path, kind):
    store = open_store(kind, tmp_path)
    try:
        assert applied(store) == [(m.version, m.description) for m in MIGRATIONS]
        assert store.schema_version() == LATEST
    finally:
        store.close()
    store = open_store(kind, tmp_path)  # reopened: nothing is applied again
    try:
        assert applied(store) == [(m.version, m.description) for m in MIGRATIONS]
    finally:
        store.close()


def test_a_store_from_before_numbered_migrations_opens_with_its_rows(tmp_path):
    path = tmp_path / "events.duckdb"
    file_before_migrations(path)
    with duckdb.connect(str(path)) as db:
        db.execute("SET TimeZone = 'UTC'")
        before = {table: db.execute(f"SELECT * FROM {table}").fetchall()
                  for table in ("events", "sessions", "identities", "payments", "journal_checkpoint")}

    store = DuckDBEventStore(path)
    try:
        assert store.schema_version() == LATEST
        after = {table: [tuple(row.values()) for row in store.fetch(f"SELECT * FROM {table}")]
                 for table in ("events", "sessions", "identities", "payments", "journal_checkpoint")}
        assert after == before
        assert store.journal_position() == Position(3, 4096)
        [payment] = store.payments(1)
        assert (payment.transaction_id, payment.link_method, payment.checkout_id) == ("ch_1", "identity", "cs_1")
        assert payment.timestamp == datetime(2026, 3, 1, 10, 10, tzinfo=timezone.utc)
    finally:
        store.close()


def test_an_older_store_gets_the_column_and_tables_it_lacks_built_from_its_events(tmp_path):
    current = tmp_path / "current" / "events.duckdb"
    current.parent.mkdir()
    file_before_migrations(current)
    store = DuckDBEventStore(current)
    expected = stored_rows(store)
    store.close()

    older = tmp_path / "older" / "events.duckdb"
    older.parent.mkdir()
    file_before_migrations(older, "DROP TABLE sessions", "DROP TABLE identities",
                           "ALTER TABLE payments DROP COLUMN checkout_id")
    store = DuckDBEventStore(older)
    try:
        assert store.schema_version() == LATEST
        assert stored_rows(store) == expected
        [payment] = store.payments(1)
        assert (payment.transaction_id, payment.checkout_id) == ("ch_1", None)
    finally:
        store.close()
