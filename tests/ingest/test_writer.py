"""Group commit: callers return only after their events are in the store."""

import asyncio

import pytest

from postmetric.ingest.writer import EventWriter, QueueFull, StoreUnavailable
from postmetric.store.duckdb_events import DuckDBEventStore

from factories import stored_event


@pytest.fixture
def store(tmp_path):
    store = DuckDBEventStore(tmp_path / "events.duckdb")
    yield store
    store.close()


async def test_concurrent_writers_share_commits_and_every_event_is_stored(store):
    writer = EventWriter(store, max_pending=10_000, max_batch=5_000)
    writer.start()
    await asyncio.gather(*(writer.write([stored_event(pathname=f"/{i}")]) for i in range(500)))
    writer.close()
    [row] = store.fetch("SELECT count(*) AS n, count(DISTINCT pathname) AS paths FROM events")
    assert row == {"n": 500, "paths": 500}
    assert writer.events_written == 500
    assert writer.batches_written < 500  # requests arriving together shared a write


async def test_a_full_queue_refuses_instead_of_growing(store):
    writer = EventWriter(store, max_pending=3, max_batch=100)
    writer.start()
    with pytest.raises(QueueFull):
        await writer.write([stored_event() for _ in range(4)])
    writer.close()
    assert store.fetch("SELECT count(*) AS n FROM events") == [{"n": 0}]


async def test_a_failing_store_is_reported_to_every_caller(tmp_path):
    store = DuckDBEventStore(tmp_path / "events.duckdb")
    store.close()  # every write now fails inside DuckDB
    writer = EventWriter(store, max_pending=100, max_batch=100)
    writer.start()
    results = await asyncio.gather(writer.write([stored_event()]), writer.write([stored_event()]),
                                   return_exceptions=True)
    assert all(isinstance(r, StoreUnavailable) for r in results)
    assert writer.pending == 0
    writer.close()


async def test_close_writes_what_is_queued_and_then_refuses(store):
    writer = EventWriter(store, max_pending=100, max_batch=100)
    writer.start()
    pending = asyncio.ensure_future(writer.write([stored_event()]))
    await asyncio.sleep(0)
    writer.close()
    await pending
    assert store.fetch("SELECT count(*) AS n FROM events") == [{"n": 1}]
    with pytest.raises(StoreUnavailable):
        await writer.write([stored_event()])
