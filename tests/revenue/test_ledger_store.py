"""The payments table of both event stores: same rows in, same rows out, each payment once."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import duckdb

from postmetric.revenue.ledger import merged_delivery, parse_payment

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=timezone.utc)
VISITOR = "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"


def payment(transaction_id="pi_1", *, site_id=1, provider="api", at=NOW, **fields):
    body = {"transaction_id": transaction_id, "amount": "29.99", "currency": "USD"} | fields
    return parse_payment(body, site_id=site_id, site_currency="USD", now=at, provider=provider)


def test_a_payment_round_trips_with_every_column(event_store):
    session = str(uuid.uuid4())
    recorded = payment(visitor_id=VISITOR, session_id=session, email="Ada@Example.com", customer_id="cus_1",
                       timestamp="2026-03-10T09:30:15.250000+01:00")
    assert event_store.record_payments([recorded], merge=merged_delivery) == [True]
    assert event_store.payments(1) == [recorded]
    assert recorded.timestamp == datetime(2026, 3, 10, 8, 30, 15, 250000, tzinfo=timezone.utc)


def test_nullable_columns_stay_null(event_store):
    bare = payment(amount=0)
    event_store.record_payments([bare], merge=merged_delivery)
    [stored] = event_store.payments(1)
    assert stored == bare
    assert (stored.kind, stored.visitor_id, stored.session_id, stored.email, stored.link_method) == (
        "trial", None, None, None, "none")


def test_a_second_delivery_changes_nothing(event_store):
    first = payment()
    again = payment(amount="99", at=NOW + timedelta(hours=1))
    assert event_store.record_payments([first, again], merge=merged_delivery) == [True, False]
    assert event_store.record_payments([again], merge=merged_delivery) == [False]
    assert event_store.payments(1) == [first]


def test_a_refund_is_its_own_entry_of_the_same_transaction(event_store):
    charge, refund = payment(), payment(refunded=True, at=NOW + timedelta(days=3))
    assert event_store.record_payments([charge, refund, refund], merge=merged_delivery) == [True, True, False]
    assert [p.kind for p in event_store.payments(1)] == ["new", "refund"]


def test_the_key_is_site_provider_and_transaction(event_store):
    rows = [payment(), payment(site_id=2), payment(provider="stripe"), payment("pi_2")]
    assert event_store.record_payments(rows, merge=merged_delivery) == [True, True, True, True]
    assert len(event_store.payments(1)) == 3
    assert [p.provider for p in event_store.payments(1, provider="stripe")] == ["stripe"]
    assert [p.transaction_id for p in event_store.payments(1, transaction_id="pi_2")] == ["pi_2"]
    assert [p.site_id for p in event_store.payments(2)] == [2]


def test_delete_removes_the_transaction_and_its_refund_only_on_its_site(event_store):
    event_store.record_payments([payment(), payment(refunded=True), payment(site_id=2), payment("pi_2")],
                                merge=merged_delivery)
    assert event_store.delete_payment(1, "api", "pi_1") is True
    assert event_store.delete_payment(1, "api", "pi_1") is False
    assert event_store.delete_payment(1, "stripe", "pi_2") is False
    assert [p.transaction_id for p in event_store.payments(1)] == ["pi_2"]
    assert len(event_store.payments(2)) == 1
    # Deleted, it can be recorded again.
    assert event_store.record_payments([payment()], merge=merged_delivery) == [True]


def test_payments_survive_reopening(store_opener, tmp_path):
    store = store_opener(tmp_path)
    try:
        store.record_payments([payment()], merge=merged_delivery)
    finally:
        store.close()
    store = store_opener(tmp_path)
    try:
        assert [p.transaction_id for p in store.payments(1)] == ["pi_1"]
        assert store.record_payments([payment()], merge=merged_delivery) == [False]
    finally:
        store.close()


def test_a_duckdb_file_from_before_the_ledger_gets_the_table(tmp_path):
    from postmetric.store.duckdb_events import DuckDBEventStore

    path = tmp_path / "events.duckdb"
    duckdb.connect(str(path)).close()
    store = DuckDBEventStore(path)
    try:
        assert store.record_payments([payment()], merge=merged_delivery) == [True]
    finally:
        store.close()


def test_the_checkout_id_round_trips(event_store):
    recorded = payment(checkout_id="cs_test_1")
    event_store.record_payments([recorded], merge=merged_delivery)
    assert event_store.payments(1) == [recorded]
    assert recorded.checkout_id == "cs_test_1"


def test_payments_of_one_visitor(event_store):
    other = str(uuid.uuid4())
    event_store.record_payments([payment(visitor_id=VISITOR), payment("pi_2", visitor_id=other), payment("pi_3")],
                                merge=merged_delivery)
    assert [p.transaction_id for p in event_store.payments(1, visitor_id=VISITOR)] == ["pi_1"]


def test_a_repeated_delivery_brings_a_stronger_link_and_missing_ids_but_not_its_amount(event_store):
    first = payment()
    again = payment(amount="99", visitor_id=VISITOR, email="ada@example.com", customer_id="cus_1",
                    checkout_id="cs_1", at=NOW + timedelta(hours=1))
    assert event_store.record_payments([first], merge=merged_delivery) == [True]
    assert event_store.record_payments([again], merge=merged_delivery) == [False]
    [stored] = event_store.payments(1)
    assert (stored.amount, stored.kind, stored.created_at) == (first.amount, "new", NOW)
    assert (stored.visitor_id, stored.link_method, stored.email, stored.customer_id, stored.checkout_id) == (
        VISITOR, "metadata", "ada@example.com", "cus_1", "cs_1")


def test_a_strong_link_and_known_ids_stay(event_store):
    first = payment(visitor_id=VISITOR, email="ada@example.com")
    again = payment(visitor_id=str(uuid.uuid4()), email="bob@example.com", customer_id="cus_9")
    event_store.record_payments([first], merge=merged_delivery)
    event_store.record_payments([again], merge=merged_delivery)
    [stored] = event_store.payments(1)
    assert (stored.visitor_id, stored.email, stored.customer_id) == (VISITOR, "ada@example.com", "cus_9")


def test_refunds_are_cumulative_a_larger_refund_replaces_the_stored_amount(event_store):
    later = NOW + timedelta(days=2)
    event_store.record_payments([payment(), payment(refunded=True, amount="10.00", at=NOW + timedelta(days=1))],
                                merge=merged_delivery)
    assert event_store.record_payments([payment(refunded=True, amount="25.00", at=later)],
                                       merge=merged_delivery) == [False]
    assert event_store.record_payments([payment(refunded=True, amount="5.00", at=later)],
                                       merge=merged_delivery) == [False]
    charge, refund = event_store.payments(1)
    assert (charge.amount, refund.kind, refund.amount, refund.reporting_amount) == (2999, "refund", 2500, 2500)


OLD_DUCKDB_PAYMENTS = """CREATE TABLE payments (
    site_id UINTEGER NOT NULL, provider VARCHAR NOT NULL, transaction_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    amount BIGINT NOT NULL, currency VARCHAR NOT NULL, reporting_amount BIGINT, reporting_currency VARCHAR NOT NULL,
    timestamp TIMESTAMP NOT NULL, customer_id VARCHAR, email VARCHAR, visitor_id UUID, session_id UUID,
    link_method VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)"""
OLD_ROW = ("1, 'api', 'pi_old', 'new', 2999, 'USD', 2999, 'USD', '2026-03-11 12:00:00', 'cus_1', NULL, NULL, NULL,"
           " 'none', '2026-03-11 12:00:00'")


def test_a_duckdb_payments_table_from_before_checkout_ids_is_upgraded(tmp_path):
    from postmetric.store.duckdb_events import DuckDBEventStore

    path = tmp_path / "events.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute(OLD_DUCKDB_PAYMENTS)
        db.execute(f"INSERT INTO payments VALUES ({OLD_ROW})")
    store = DuckDBEventStore(path)
    try:
        [old] = store.payments(1)
        assert (old.transaction_id, old.customer_id, old.checkout_id) == ("pi_old", "cus_1", None)
        assert store.record_payments([payment("pi_old", email="ada@example.com"), payment(checkout_id="cs_1")],
                                     merge=merged_delivery) == [False, True]
        assert [(p.email, p.checkout_id) for p in store.payments(1)] == [(None, "cs_1"), ("ada@example.com", None)]
    finally:
        store.close()
