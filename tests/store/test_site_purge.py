"""`delete_sites`: every table of the event store forgets the site, on DuckDB and ClickHouse; the other
sites keep every row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from event_stores import KINDS, open_store
from factories import stored_event
from postmetric.ingest.event import EventType
from postmetric.ingest.rows import event_row
from postmetric.revenue.ledger import merged_delivery
from postmetric.store.events import encode_rows
from postmetric.store.payments import Payment
from postmetric.store.search import SearchRow

DELETED, KEPT = 7, 8
T0 = 1_780_000_000.0


def events_of(site_id: int) -> list:
    """Two visits of a visitor who identifies with an email."""
    events = []
    for n in range(2):
        session = f"00000000-0000-4000-8000-00000000{site_id:02d}{n:02d}"
        events += [
            stored_event(timestamp=T0 + n * 3600, session_id=session, visitor_id=session, pathname=f"/s{site_id}"),
            stored_event(timestamp=T0 + n * 3600 + 60, session_id=session, visitor_id=session, session_started_at=T0 + n * 3600,
                         type=EventType.IDENTIFY, name="identify", props={"email": f"ada{site_id}@example.com"}),
        ]
    for event in events:
        event.site_id = site_id
    return events


def payment_of(site_id: int, transaction_id: str) -> Payment:
    at = datetime.fromtimestamp(T0 + 120, UTC)
    return Payment(site_id=site_id, provider="api", transaction_id=transaction_id, kind="payment", amount=4900,
                   currency="USD", reporting_amount=4900, reporting_currency="USD", timestamp=at,
                   customer_id="cus_1", email=f"ada{site_id}@example.com", visitor_id=None, session_id=None,
                   link_method="none", created_at=at)


def site_tables(store) -> list[str]:
    """Every table of the store with a `site_id` column: whatever is added later is covered too."""
    if store.dialect == "duckdb":
        rows = store.fetch("SELECT DISTINCT table_name AS site_table FROM information_schema.columns"
                           " WHERE column_name = 'site_id' AND table_schema = 'main'")
    else:
        rows = store.fetch("SELECT DISTINCT table AS site_table FROM system.columns WHERE database = currentDatabase()"
                           " AND name = 'site_id' AND NOT startsWith(table, 'load_')")  # a node's staging table
    return sorted(row["site_table"] for row in rows)


def rows_by_site(store) -> dict[str, dict[int, int]]:
    counts = {}
    for table in site_tables(store):
        final = " FINAL" if store.dialect == "clickhouse" and table in ("payments", "sessions") else ""
        rows = store.fetch(f"SELECT site_id, count(*) AS n FROM {table}{final} GROUP BY site_id")
        counts[table] = {row["site_id"]: row["n"] for row in rows}
    return counts


@pytest.fixture(params=KINDS)
def store(request, tmp_path):
    store = open_store(request.param, tmp_path)
    store.load(encode_rows(event_row(e) for e in [*events_of(DELETED), *events_of(KEPT)]))
    store.record_payments([payment_of(DELETED, "ch_1"), payment_of(DELETED, "ch_2"), payment_of(KEPT, "ch_1")],
                          merge=merged_delivery)
    for site_id in (DELETED, KEPT):
        day = datetime.fromtimestamp(T0, UTC).date()
        store.replace_search_rows(site_id, day, day, [SearchRow(
            day=day, query="analytics", page=f"https://example.com/s{site_id}", path=f"/s{site_id}", country="FR",
            device="mobile", clicks=1, impressions=10, position=4.0)])
    yield store
    store.close()


def test_every_table_holding_the_site_forgets_it_and_only_it(store):
    before = rows_by_site(store)
    assert {"events", "sessions", "identities", "payments", "search_console"} <= set(before)
    assert all(counts.get(DELETED) for counts in before.values())  # the site is in every table to begin with

    assert store.delete_sites([DELETED, 99]) == {DELETED: 4}

    after = rows_by_site(store)
    assert {table: counts.get(DELETED) for table, counts in after.items()} == {table: None for table in after}
    assert {table: counts[KEPT] for table, counts in after.items()} == {
        table: counts[KEPT] for table, counts in before.items()}
    assert store.payments(DELETED) == [] and len(store.payments(KEPT)) == 1


def test_deleting_sites_with_nothing_stored_changes_nothing(store):
    before = rows_by_site(store)
    assert store.delete_sites([99, 100]) == {}
    assert store.delete_sites([]) == {}
    assert rows_by_site(store) == before


def test_a_site_with_payments_alone_is_purged_too(store):
    store.record_payments([payment_of(50, "ch_only")], merge=merged_delivery)
    assert store.delete_sites([50, DELETED]) == {50: 0, DELETED: 4}
    assert store.payments(50) == [] and store.payments(DELETED) == []
    assert len(store.payments(KEPT)) == 1

