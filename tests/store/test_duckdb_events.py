"""The DuckDB event store keeps every column and survives reopening."""

from postmetric.ingest.rows import EventEncoder, event_row
from postmetric.store.columns import COLUMN_NAMES
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.store.events import encode_rows
from postmetric.store.journal import Position

from factories import stored_event
from store_round_trip import EVERY_COLUMN, assert_defaults, every_column_event


def test_insert_keeps_every_column_and_reopening_keeps_the_rows(tmp_path):
    path = tmp_path / "events.duckdb"
    store = DuckDBEventStore(path)
    event = every_column_event()
    store.load(encode_rows([event_row(event), event_row(stored_event())]), journal_position=Position(3, 120))
    store.close()

    reopened = DuckDBEventStore(path)
    assert reopened.journal_position() == Position(3, 120)
    rows = reopened.fetch("SELECT *, epoch(timestamp) AS ts FROM events ORDER BY pathname DESC")
    assert len(rows) == 2
    row = rows[0]
    assert set(COLUMN_NAMES) <= set(row)
    assert row["ts"] == event.timestamp
    assert (str(row["visitor_id"]), str(row["session_id"])) == (event.visit.visitor_id, event.visit.session_id)
    assert {k: row[k] for k in EVERY_COLUMN} == EVERY_COLUMN
    assert_defaults(rows[1])
    reopened.close()


def test_active_sessions_returns_each_visit_with_its_first_attributes(tmp_path):
    store = DuckDBEventStore(tmp_path / "events.duckdb")
    first = stored_event(timestamp=1000.0, session_started_at=1000.0, entry_page="/in", source="Google",
                         click_ids='{"gclid":"g"}')
    later = stored_event(timestamp=1500.0, session_started_at=1000.0, entry_page="/in", source="Google",
                         click_ids='{"gclid":"g"}', visitor_id=first.visit.visitor_id,
                         session_id=first.visit.session_id)
    old = stored_event(timestamp=10.0, session_started_at=10.0)
    store.load(encode_rows(event_row(e) for e in (first, later, old)))
    [session] = store.active_sessions(since=900.0)
    assert (session.visitor_id, session.session_id) == (first.visit.visitor_id, first.visit.session_id)
    assert (session.started_at, session.last_seen) == (1000.0, 1500.0)
    assert session.attributes == first.visit.attributes
    store.close()


def test_the_per_event_encoder_writes_the_same_csv_as_encoding_the_row(tmp_path):
    events = [stored_event(title='a "quoted", title\non two lines', props={"k": 'say "hi"'}, scroll_depth=3,
                           source='"X"', hostname='odd"host', query='q="1",2', referrer="https://r.example/\r\n"),
              stored_event(viewport_width=1280, viewport_height=800, engaged_ms=5)]
    events.append(stored_event(pathname="/same-visit"))
    events[2].visit = events[0].visit
    encoder = EventEncoder()
    for event in events:
        encoder.add_event(event)
    assert encoder.rows == 3
    assert encoder.take() == encode_rows(event_row(e) for e in events)
    assert encoder.take() == b""
    # and DuckDB reads back exactly what went in
    store = DuckDBEventStore(tmp_path / "events.duckdb")
    for event in events:
        encoder.add_event(event)
    store.load(encoder.take())
    rows = store.fetch("SELECT title, props, hostname, query, referrer, source FROM events ORDER BY pathname, title DESC")
    assert rows[0] == {"title": 'a "quoted", title\non two lines', "props": '{"k":"say \\"hi\\""}',
                       "hostname": 'odd"host', "query": 'q="1",2', "referrer": "https://r.example/\r\n",
                       "source": '"X"'}
    store.close()
