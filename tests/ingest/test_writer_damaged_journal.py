"""A start after a crash, on a journal with a damaged record: every intact record is loaded into
the store, the damaged one is logged, and its segment outlives the journal's clean-up."""

import asyncio
import logging

import pytest

from postmetric.ingest.writer import EventWriter
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.store.journal import EventJournal

from factories import stored_event


@pytest.fixture
def store(tmp_path):
    store = DuckDBEventStore(tmp_path / "events.duckdb")
    yield store
    store.close()


async def test_recovery_loads_every_intact_record_around_a_damaged_one(store, tmp_path, caplog):
    journal = EventJournal(tmp_path / "journal")
    crashed = EventWriter(store, journal, max_pending=100, load_interval=3600)
    crashed.recover()
    crashed.start()
    for group in range(5):  # one journal record each
        await crashed.write([stored_event(pathname=f"/{group}/{i}") for i in range(3)])
    crashed._committer.cancel()  # the process is gone: nothing was loaded
    journal.close()
    await asyncio.sleep(0)

    [segment] = (tmp_path / "journal").glob("*.journal")
    data = bytearray(segment.read_bytes())
    middle = data.index(b"/2/1")
    data[middle] ^= 0x01  # bit rot in the third record's payload
    segment.write_bytes(bytes(data))

    restarted = EventWriter(store, EventJournal(tmp_path / "journal"), max_pending=100)
    with caplog.at_level(logging.WARNING, logger="postmetric.store.journal"):
        assert restarted.recover() == 12
    restarted.start()
    await restarted.close()

    paths = sorted(r["pathname"] for r in store.fetch("SELECT pathname FROM events"))
    assert paths == [f"/{group}/{i}" for group in (0, 1, 3, 4) for i in range(3)]
    [line] = caplog.messages
    assert "payload checksum mismatch" in line and segment.name in line
    assert (tmp_path / "journal" / "damaged" / segment.name).read_bytes() == bytes(data)
    assert not segment.exists()  # the loaded original is discarded; the damaged copy stays
