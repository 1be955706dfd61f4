"""The sessions table: one row per visit, equal to what the visit's events say, however the
visit's events were split across loads; rebuilt when a data dir lacks it or has an older
layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from factories import stored_event
from postmetric.ingest.event import EventType
from postmetric.ingest.rows import event_row
from postmetric.store.dialects import DIALECTS
from postmetric.store.events import encode_rows
from postmetric.store.sessions import SESSION_COLUMNS, session_rows

from event_stores import KINDS, open_store


def visit_events() -> list:
    """Two visits; the first one's pageviews tie on time, so the exit page is the greater path."""
    common = {"visitor_id": "00000000-0000-4000-8000-000000000001", "country": "DE", "source": "Google"}
    first = dict(common, session_id="00000000-0000-4000-8000-00000000000a", session_started_at=1000.0)
    second = dict(common, session_id="00000000-0000-4000-8000-00000000000b", session_started_at=5000.0)
    return [
        stored_event(timestamp=1000.0, pathname="/", **first),
        stored_event(timestamp=1030.0, type=EventType.ENGAGEMENT, name="engagement", pathname="/", **first),
        stored_event(timestamp=1100.0, pathname="/b", **first),
        stored_event(timestamp=1100.0, pathname="/a", **first),
        stored_event(timestamp=1400.0, type=EventType.GOAL, name="signup", pathname="/a", **first),
        stored_event(timestamp=5000.0, pathname="/only", **second),
    ]


def rows(store) -> list[dict]:
    d = DIALECTS[store.dialect]
    columns = ", ".join(c if "_at" not in c else f"{d.epoch_micros(c)} AS {c}" for c in SESSION_COLUMNS)
    return store.fetch(f"SELECT {columns} FROM {d.sessions_table} ORDER BY session_id")


def recomputed(store) -> list[dict]:
    d = DIALECTS[store.dialect]
    columns = ", ".join(c if "_at" not in c else f"{d.epoch_micros(c)} AS {c}" for c in SESSION_COLUMNS)
    settings = " SETTINGS prefer_column_name_to_alias = 1" if store.dialect == "clickhouse" else ""
    return store.fetch(f"SELECT {columns} FROM ({session_rows(d, 'true')}) AS v ORDER BY session_id{settings}")


@pytest.mark.parametrize("dialect", KINDS)
@pytest.mark.parametrize("cuts", [[], [1], [2, 3], [1, 2, 3, 4, 5]])
def test_a_visit_split_across_loads_has_one_row_like_its_events(tmp_path, dialect, cuts):
    events = visit_events()
    store = open_store(dialect, tmp_path)
    try:
        bounds = [0, *cuts, len(events)]
        for start, end in zip(bounds, bounds[1:]):
            store.load(encode_rows(event_row(e) for e in events[start:end]))
        stored = rows(store)
        assert stored == recomputed(store)
        first = stored[0]
        assert (first["span_pageviews"], first["span_events"], first["span_conversions"], first["span_interactive"],
                first["exit_page"]) == (3, 4, 1, 1, "/b")
        assert first["last_at"] - first["first_at"] == 400_000_000
        assert [str(r["session_id"])[-1] for r in stored] == ["a", "b"]
    finally:
        store.close()


@pytest.mark.parametrize("dialect", KINDS)
def test_a_missing_or_outdated_sessions_table_is_rebuilt_from_the_events(tmp_path, dialect):
    store = open_store(dialect, tmp_path)
    store.load(encode_rows(event_row(e) for e in visit_events()))
    expected = rows(store)
    store.fetch("ALTER TABLE sessions DROP COLUMN exit_page")  # a layout from an older version,
    store.fetch("DROP TABLE schema_migrations")  # from before numbered migrations
    store.close()

    store = open_store(dialect, tmp_path)
    try:
        assert rows(store) == expected
    finally:
        store.close()

    store = open_store(dialect, tmp_path)
    store.fetch("DROP TABLE sessions")  # a data dir from before the table, and before numbered migrations
    store.fetch("DROP TABLE schema_migrations")
    store.close()
    store = open_store(dialect, tmp_path)
    try:
        assert rows(store) == expected
    finally:
        store.close()
