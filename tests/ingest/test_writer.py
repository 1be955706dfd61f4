"""Group commit into the journal, then bulk loads into the store; nothing acknowledged is lost."""

import asyncio

import pytest

from postmetric.ingest.writer import EventWriter, QueueFull, StoreUnavailable
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.store.journal import EventJournal

from factories import stored_event


@pytest.fixture
def store(tmp_path):
    store = DuckDBEventStore(tmp_path / "events.duckdb")
    yield store
    store.close()


def new_writer(store, tmp_path, **options) -> EventWriter:
    writer = EventWriter(store, EventJournal(tmp_path / "journal"), **({"max_pending": 10_000} | options))
    writer.recover()
    writer.start()
    return writer


def count(store) -> int:
    return store.fetch("SELECT count(*) AS n FROM events")[0]["n"]


async def test_concurrent_writers_share_journal_records_and_every_event_is_stored(store, tmp_path):
    writer = new_writer(store, tmp_path)
    await asyncio.gather(*(writer.write([stored_event(pathname=f"/{i}")]) for i in range(500)))
    assert writer.events_written == 500
    assert writer.groups_written < 500  # requests arriving together shared an fsync
    writer.flush()
    assert store.fetch("SELECT count(DISTINCT pathname) AS paths FROM events") == [{"paths": 500}]
    await writer.close()
    assert count(store) == 500


async def test_the_loader_moves_rows_without_being_asked(store, tmp_path):
    writer = new_writer(store, tmp_path, load_interval=0.05)
    await writer.write([stored_event()])
    for _ in range(200):
        if count(store) == 1:
            break
        await asyncio.sleep(0.05)
    assert count(store) == 1 and writer.pending == 0
    await writer.close()


async def test_a_full_queue_refuses_instead_of_growing(store, tmp_path):
    writer = new_writer(store, tmp_path, max_pending=3)
    with pytest.raises(QueueFull):
        await writer.write([stored_event() for _ in range(4)])
    await writer.close()
    assert count(store) == 0


async def test_journaled_rows_not_yet_loaded_are_recovered_once(store, tmp_path):
    """A process that dies after journaling leaves rows that the next start loads, exactly once."""
    journal = EventJournal(tmp_path / "journal")
    crashed = EventWriter(store, journal, max_pending=100, load_interval=3600)
    crashed.recover()
    crashed.start()
    await crashed.write([stored_event(pathname="/a"), stored_event(pathname="/b")])
    await crashed.write([stored_event(pathname="/c")])
    crashed._committer.cancel()  # the process is gone: nothing was loaded
    journal.close()
    assert count(store) == 0

    for _ in range(2):  # recovering twice must not load twice
        restarted = EventWriter(store, EventJournal(tmp_path / "journal"), max_pending=100)
        restarted.recover()
        restarted.start()
        await restarted.close()
    assert sorted(r["pathname"] for r in store.fetch("SELECT pathname FROM events")) == ["/a", "/b", "/c"]
    assert len(list((tmp_path / "journal").glob("*.journal"))) == 1


async def test_a_failing_journal_is_reported_to_every_caller(store, tmp_path):
    journal = EventJournal(tmp_path / "journal")
    writer = EventWriter(store, journal, max_pending=100)
    writer.recover()
    writer.start()
    journal.close()  # every append now fails with a real OSError
    results = await asyncio.gather(writer.write([stored_event()]), writer.write([stored_event()]),
                                   return_exceptions=True)
    assert all(isinstance(r, StoreUnavailable) for r in results)
    assert writer.pending == 0
    await writer.close()


async def test_close_journals_and_loads_what_is_queued_and_then_refuses(store, tmp_path):
    writer = new_writer(store, tmp_path, load_interval=3600)
    pending = asyncio.ensure_future(writer.write([stored_event()]))
    await asyncio.sleep(0)
    await writer.close()
    await pending
    assert count(store) == 1
    with pytest.raises(StoreUnavailable):
        await writer.write([stored_event()])


async def test_events_written_after_the_journal_was_removed_are_still_recovered(store, tmp_path):
    import shutil

    first = new_writer(store, tmp_path)
    await first.write([stored_event(pathname="/before")])
    await first.close()
    shutil.rmtree(tmp_path / "journal")  # e.g. a restore of the DuckDB file alone

    journal = EventJournal(tmp_path / "journal")
    crashed = EventWriter(store, journal, max_pending=100, load_interval=3600)
    crashed.recover()
    crashed.start()
    await crashed.write([stored_event(pathname="/after")])
    crashed._committer.cancel()  # the process dies before loading
    journal.close()

    restarted = new_writer(store, tmp_path)
    await restarted.close()
    assert sorted(r["pathname"] for r in store.fetch("SELECT pathname FROM events")) == ["/after", "/before"]
