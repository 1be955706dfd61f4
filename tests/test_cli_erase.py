"""`postmetric erase`: the API's erasure from the server's shell, journaled rows included, audited."""

from __future__ import annotations

from sqlalchemy import select

from postmetric.config import Settings
from postmetric.ingest.event import EventType
from postmetric.store.database import create_engine, session_factory
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.ingest.rows import event_row
from postmetric.store.events import encode_rows
from postmetric.store.journal import EventJournal
from postmetric.store.metadata import ErasureRecord

from factories import stored_event
from test_cli import PASSWORD, data_dir, run, run_json  # noqa: F401 - data_dir: a fixture

ADA = "00000000-0000-4000-8000-00000000000a"
BOB = "00000000-0000-4000-8000-00000000000b"


def test_erase_removes_loaded_and_journaled_events_and_writes_the_audit(capsys, data_dir, metadata_url):
    run_json(capsys, "users", "create", "--email", "owner@example.com", "--password", PASSWORD)
    site = run_json(capsys, "sites", "create", "--owner", "owner@example.com", "--domain", "example.com")
    settings = Settings(data_dir=data_dir, database_url=metadata_url)
    ada = [stored_event(visitor_id=ADA, timestamp=1_780_000_000.0 + i) for i in range(3)]
    ada.append(stored_event(visitor_id=ADA, timestamp=1_780_000_010.0, type=EventType.IDENTIFY, name="identify",
                            props={"email": "ada@example.com"}))
    for event in ada:
        event.site_id = site["id"]
    loaded, journaled = ada[:2], ada[2:]
    store = DuckDBEventStore(settings.events_path)
    store.load(encode_rows(event_row(e) for e in loaded))
    bob = stored_event(visitor_id=BOB)
    bob.site_id = site["id"]
    store.load(encode_rows([event_row(bob)]))
    store.close()
    # The server crashed with two of Ada's events acknowledged but not loaded.
    journal = EventJournal(settings.journal_dir)
    journal.open_for_append()
    journal.write(encode_rows(event_row(e) for e in journaled))
    journal.sync()
    journal.close()

    erased = run_json(capsys, "erase", "--site", "example.com", "--email", "Ada@example.com")

    assert {key: erased[key] for key in ("selector", "visitors", "events")} == \
        {"selector": "email", "visitors": 1, "events": 4}
    store = DuckDBEventStore(settings.events_path)
    assert [str(row["visitor_id"]) for row in store.fetch("SELECT visitor_id FROM events")] == [BOB]
    store.close()
    engine = create_engine(metadata_url)
    with session_factory(engine)() as session:
        [record] = session.scalars(select(ErasureRecord)).all()
        assert (record.site_id, record.user_id, record.selector, record.events) == (site["id"], None, "email", 4)
        assert "ada" not in record.subject_hash
    engine.dispose()


def test_erase_needs_exactly_one_selector_and_a_known_site(capsys, data_dir):
    code, _, err = run(capsys, "erase", "--site", "example.com", "--email", "a@b.c", "--user-id", "u")
    assert code == 2 and "not allowed with argument" in err
    code, _, err = run(capsys, "erase", "--site", "nowhere.example", "--user-id", "u")
    assert (code, err) == (2, "error: site 'nowhere.example' not found\n")
    code, _, err = run(capsys, "erase", "--site", "nowhere.example", "--visitor-id", "nope")
    assert (code, err) == (2, "error: visitor_id: must be a UUID, as the Visitor API shows it\n")
