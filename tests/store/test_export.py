"""privacy/export.py on both event stores: every stored row once in the zip, written as it is read."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timezone

import pytest

from postmetric.ingest.rows import event_row
from postmetric.privacy.erasure import Person
from postmetric.privacy.export import person_export, site_export
from postmetric.revenue.ledger import merged_delivery, parse_payment
from postmetric.store.events import encode_rows

from event_stores import KINDS, open_store
from factories import stored_event

T0 = 1_780_000_000.0


@pytest.fixture(params=KINDS)
def store(request, tmp_path):
    opened = open_store(request.param, tmp_path)
    yield opened
    opened.close()


def unzipped(chunks: list[bytes]) -> dict[str, list[dict]]:
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
        return {name: list(csv.DictReader(io.TextIOWrapper(archive.open(name), encoding="utf-8", newline="")))
                for name in archive.namelist()}


def test_every_stored_event_appears_once_with_its_values(store):
    events = [stored_event(timestamp=T0 + i * 0.001, pathname=f"/p/{i % 7}", title=f'quote " and,comma {i}',
                           session_id="00000000-0000-4000-8000-000000000001" if i % 2 else None)
              for i in range(2_500)]
    other_site = stored_event(timestamp=T0)
    other_site.site_id = 2
    store.load(encode_rows([*(event_row(e) for e in events), event_row(other_site)]))
    store.record_payments([parse_payment({"transaction_id": "ch_1", "amount": "9.99", "currency": "USD",
                                          "email": "a@example.com"}, site_id=1, site_currency="USD",
                                         now=datetime(2026, 3, 1, tzinfo=timezone.utc))], merge=merged_delivery)

    files = unzipped(list(site_export(store, 1, batch_rows=500)))

    assert list(files) == ["events.csv", "visits.csv", "payments.csv"]
    exported = sorted((row["visitor_id"], row["session_id"], row["timestamp"], row["pathname"], row["title"])
                      for row in files["events.csv"])
    expected = sorted((e.visit.visitor_id, e.visit.session_id,
                       datetime.fromtimestamp(round(e.timestamp * 1e6) / 1e6, timezone.utc).isoformat()
                       .replace("+00:00", "Z"), e.pathname, e.title) for e in events)
    assert exported == expected
    assert {row["site_id"] for row in files["events.csv"]} == {"1"}
    assert len(files["visits.csv"]) == len({e.visit.session_id for e in events})
    assert [(p["transaction_id"], p["amount"], p["email"], p["visitor_id"]) for p in files["payments.csv"]] == \
        [("ch_1", "999", "a@example.com", "")]


def test_the_zip_is_handed_on_batch_by_batch(store):
    store.load(encode_rows(event_row(stored_event(timestamp=T0 + i, title="x" * 200)) for i in range(3_000)))
    chunks = list(site_export(store, 1, batch_rows=250))
    # Each batch's compressed rows leave before the next batch is read: many small chunks, none
    # holding more than a batch's worth (250 rows of ~700 bytes, before compression).
    assert len([chunk for chunk in chunks if chunk]) >= 8
    assert max(map(len, chunks)) < 250 * 700
    assert len(unzipped(chunks)["events.csv"]) == 3_000


def test_a_site_without_data_exports_headers_only(store):
    files = unzipped(list(site_export(store, 1)))
    assert {name: rows for name, rows in files.items()} == {"events.csv": [], "visits.csv": [], "payments.csv": []}


def test_one_persons_export_is_theirs_alone_and_bounded(store):
    ada, bob = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"
    store.load(encode_rows([*(event_row(stored_event(visitor_id=ada, timestamp=T0 + i)) for i in range(5)),
                            event_row(stored_event(visitor_id=bob, timestamp=T0))]))
    person = Person(visitor_ids=(ada,))
    whole = person_export(store, 1, person)
    assert (whole["visitor_ids"], len(whole["events"]), len(whole["visits"]), whole["truncated"]) == ([ada], 5, 5, False)
    assert [row["timestamp"] for row in whole["events"]] == sorted(row["timestamp"] for row in whole["events"])
    cut = person_export(store, 1, person, max_rows=3)
    assert (len(cut["events"]), cut["truncated"]) == (3, True)


def test_an_export_read_slowly_does_not_hold_up_the_embedded_engines_loads(tmp_path):
    """chdb serialises every query on one lock: the export reads at the engine's pace, not the client's."""
    import threading

    from postmetric.store.clickhouse_events import connect

    embedded = connect(f"chdb://{tmp_path.resolve() / 'chdb'}")
    try:
        embedded.load(encode_rows(event_row(stored_event(timestamp=T0 + i)) for i in range(2_000)))
        export = site_export(embedded, 1, batch_rows=100)
        first = next(export)  # a client that read one chunk and stalls
        loading = threading.Thread(target=embedded.load, args=(encode_rows([event_row(stored_event())]),))
        loading.start()
        loading.join(timeout=120)  # a margin, not a measurement: without the spool it never ends
        assert not loading.is_alive()
        files = unzipped([first, *export])
        assert len(files["events.csv"]) == 2_000  # what was there when the export began
    finally:
        embedded.close()


def test_an_export_read_slowly_does_not_hold_up_duckdb_loads(tmp_path):
    import threading

    from postmetric.store.duckdb_events import DuckDBEventStore

    duck = DuckDBEventStore(tmp_path / "events.duckdb")
    try:
        duck.load(encode_rows(event_row(stored_event(timestamp=T0 + i)) for i in range(2_000)))
        export = site_export(duck, 1, batch_rows=100)
        first = next(export)
        loading = threading.Thread(target=duck.load, args=(encode_rows([event_row(stored_event())]),))
        loading.start()
        loading.join(timeout=120)  # a margin, not a measurement
        assert not loading.is_alive()
        assert len(unzipped([first, *export])["events.csv"]) == 2_000  # the export's own snapshot
    finally:
        duck.close()
