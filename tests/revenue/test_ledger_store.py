"""The payments table of both event stores: same rows in, same rows out, each payment once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import duckdb

from postmetric.revenue.ledger import parse_payment

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=timezone.utc)
VISITOR = "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"


def payment(transaction_id="pi_1", *, site_id=1, provider="api", at=NOW, **fields):
    body = {"transaction_id": transaction_id, "amount": "29.99", "currency": "USD"} | fields
    return parse_payment(body, site_id=site_id, site_currency="USD", now=at, provider=provider)


def test_a_payment_round_trips_with_every_column(event_store):
    session = str(uuid.uuid4())
    recorded = payment(visitor_id=VISITOR, session_id=session, email="Ada@Example.com", customer_id="cus_1",
                       timestamp="2026-03-10T09:30:15.250000+01:00")
    assert event_store.record_payments([recorded]) == [True]
    assert event_store.payments(1) == [recorded]
    assert recorded.timestamp == datetime(2026, 3, 10, 8, 30, 15, 250000, tzinfo=timezone.utc)


def test_nullable_columns_stay_null(event_store):
    bare = payment(amount=0)
    event_store.record_payments([bare])
    [stored] = event_store.payments(1)
    assert stored == bare
    assert (stored.kind, stored.visitor_id, stored.session_id, stored.email, stored.link_method) == (
        "trial", None, None, None, "none")


def test_a_second_delivery_changes_nothing(event_store):
    first = payment()
    again = payment(amount="99", at=NOW + timedelta(hours=1))
    assert event_store.record_payments([first, again]) == [True, False]
    assert event_store.record_payments([again]) == [False]
    assert event_store.payments(1) == [first]


def test_a_refund_is_its_own_entry_of_the_same_transaction(event_store):
    charge, refund = payment(), payment(refunded=True, at=NOW + timedelta(days=3))
    assert event_store.record_payments([charge, refund, refund]) == [True, True, False]
    assert [p.kind for p in event_store.payments(1)] == ["new", "refund"]


def test_the_key_is_site_provider_and_transaction(event_store):
    rows = [payment(), payment(site_id=2), payment(provider="stripe"), payment("pi_2")]
    assert event_store.record_payments(rows) == [True, True, True, True]
    assert len(event_store.payments(1)) == 3
    assert [p.provider for p in event_store.payments(1, provider="stripe")] == ["stripe"]
    assert [p.transaction_id for p in event_store.payments(1, transaction_id="pi_2")] == ["pi_2"]
    assert [p.site_id for p in event_store.payments(2)] == [2]


def test_delete_removes_the_transaction_and_its_refund_only_on_its_site(event_store):
    event_store.record_payments([payment(), payment(refunded=True), payment(site_id=2), payment("pi_2")])
    assert event_store.delete_payment(1, "api", "pi_1") is True
    assert event_store.delete_payment(1, "api", "pi_1") is False
    assert event_store.delete_payment(1, "stripe", "pi_2") is False
    assert [p.transaction_id for p in event_store.payments(1)] == ["pi_2"]
    assert len(event_store.payments(2)) == 1
    # Deleted, it can be recorded again.
    assert event_store.record_payments([payment()]) == [True]


def test_payments_survive_reopening(store_opener, tmp_path):
    store = store_opener(tmp_path)
    try:
        store.record_payments([payment()])
    finally:
        store.close()
    store = store_opener(tmp_path)
    try:
        assert [p.transaction_id for p in store.payments(1)] == ["pi_1"]
        assert store.record_payments([payment()]) == [False]
    finally:
        store.close()


def test_a_duckdb_file_from_before_the_ledger_gets_the_table(tmp_path):
    from postmetric.store.duckdb_events import DuckDBEventStore

    path = tmp_path / "events.duckdb"
    duckdb.connect(str(path)).close()
    store = DuckDBEventStore(path)
    try:
        assert store.record_payments([payment()]) == [True]
    finally:
        store.close()
