"""Linking payments to visitors (SPEC §6), on both event stores: at record time in the order
metadata → the script's checkout event → identity → the one visit of the last 30 minutes → none,
and later, when identify or payment events arrive after the payment.

Events go in through `linking.load_events` (the store's load, then the relink), payments through
`record_payments`, as in production.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from factories import stored_event
from postmetric.ingest.event import EventType
from postmetric.ingest.rows import event_row
from postmetric.revenue.ledger import parse_payment, payment_json
from postmetric.revenue.linking import LinkEvent, link_event, links_from_events, load_events, relink_payments
from postmetric.revenue.recorder import record_payments
from postmetric.store.events import encode_rows

PAID_AT = datetime(2026, 3, 11, 12, 0, tzinfo=timezone.utc)
V1, S1 = "00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000b1"
V2, S2 = "00000000-0000-4000-8000-0000000000a2", "00000000-0000-4000-8000-0000000000b2"
V3, S3 = "00000000-0000-4000-8000-0000000000a3", "00000000-0000-4000-8000-0000000000b3"


def event(kind: str, visitor: str, session: str, at: datetime, props: dict | None = None, *, site_id: int = 1,
          started: datetime | None = None):
    return stored_event(site_id=site_id, visitor_id=visitor, session_id=session, timestamp=at.timestamp(),
                        session_started_at=(started or at).timestamp(), type=EventType(kind), name=kind,
                        props=props or {})


def load(store, *events) -> None:
    load_events(store, encode_rows(event_row(e) for e in events))


def record(store, transaction_id: str = "ch_1", *, at: datetime = PAID_AT, **fields):
    body = {"transaction_id": transaction_id, "amount": "49.00", "currency": "USD",
            "timestamp": at.isoformat()} | fields
    [recorded] = record_payments(store, None, site_id=1, site_currency="USD", raws=[body], provider="stripe",
                                 now=at + timedelta(seconds=2))
    return recorded


def link_of(payment) -> tuple:
    return payment.link_method, payment.visitor_id, payment.session_id


def stored_link(store, transaction_id: str = "ch_1") -> tuple:
    [payment] = store.payments(1, transaction_id=transaction_id)
    return link_of(payment)


LONG_AGO = PAID_AT - timedelta(days=3)


# -- at record time, in order ---------------------------------------------------------------


def test_ids_sent_with_the_payment_win(event_store):
    load(event_store, event("payment", V2, S2, LONG_AGO, {"checkout_id": "cs_1"}),
         event("pageview", V3, S3, PAID_AT - timedelta(minutes=5)))
    recorded = record(event_store, visitor_id=V1, checkout_id="cs_1")
    assert link_of(recorded.payment) == ("metadata", V1, None)
    assert stored_link(event_store) == ("metadata", V1, None)


def test_the_scripts_success_page_event_links_by_checkout_id_with_its_visit(event_store):
    load(event_store,
         event("identify", V2, S2, LONG_AGO, {"email": "ada@example.com"}),
         event("payment", V1, S1, PAID_AT - timedelta(seconds=30), {"provider": "stripe", "checkout_id": "cs_1"}),
         event("payment", V3, S3, PAID_AT, {"provider": "stripe", "checkout_id": "cs_other"}))
    recorded = record(event_store, checkout_id="cs_1", email="ada@example.com")
    assert link_of(recorded.payment) == ("checkout", V1, S1)
    assert stored_link(event_store) == ("checkout", V1, S1)


def test_a_checkout_event_of_another_site_does_not_link(event_store):
    load(event_store, event("payment", V1, S1, LONG_AGO, {"checkout_id": "cs_1"}, site_id=2))
    assert link_of(record(event_store, checkout_id="cs_1").payment) == ("none", None, None)


def test_identity_by_email_is_case_insensitive_and_the_latest_identified_visitor_wins(event_store):
    load(event_store,
         event("identify", V1, S1, LONG_AGO, {"email": "ada@example.com"}),
         event("identify", V2, S2, LONG_AGO + timedelta(hours=1), {"email": " Ada@Example.COM"}),
         event("pageview", V3, S3, PAID_AT - timedelta(minutes=5)))
    recorded = record(event_store, email="ADA@example.com")
    assert link_of(recorded.payment) == ("identity", V2, None)


def test_identity_by_customer_id_as_user_id_or_customer_id(event_store):
    load(event_store,
         event("identify", V1, S1, LONG_AGO, {"user_id": "cus_1"}),
         event("identify", V2, S2, LONG_AGO, {"customer_id": "cus_2"}))
    assert link_of(record(event_store, "ch_1", customer_id="cus_1").payment) == ("identity", V1, None)
    assert link_of(record(event_store, "ch_2", customer_id="cus_2").payment) == ("identity", V2, None)
    assert link_of(record(event_store, "ch_3", customer_id="cus_3").payment) == ("none", None, None)


def test_a_scripted_payment_event_with_an_email_identifies_its_visitor(event_store):
    load(event_store, event("payment", V1, S1, LONG_AGO, {"email": "ada@example.com"}))
    assert link_of(record(event_store, email="ada@example.com").payment) == ("identity", V1, None)


def test_the_one_visit_of_the_last_30_minutes_is_a_session_window_link(event_store):
    load(event_store,
         event("pageview", V1, S1, PAID_AT - timedelta(minutes=40)),
         event("pageview", V1, S1, PAID_AT - timedelta(minutes=20), started=PAID_AT - timedelta(minutes=40)),
         # Over before the window, and begun after the payment: neither counts.
         event("pageview", V2, S2, PAID_AT - timedelta(minutes=31)),
         event("pageview", V3, S3, PAID_AT + timedelta(minutes=1)))
    recorded = record(event_store, email="nobody@example.com")
    assert link_of(recorded.payment) == ("session_window", V1, S1)


def test_two_visits_in_the_window_are_ambiguous_no_link(event_store):
    load(event_store,
         event("pageview", V1, S1, PAID_AT - timedelta(minutes=10)),
         event("pageview", V2, S2, PAID_AT - timedelta(minutes=25)))
    recorded = record(event_store)
    assert recorded.added and link_of(recorded.payment) == ("none", None, None)
    assert stored_link(event_store) == ("none", None, None)


def test_an_unlinked_payment_is_still_recorded(event_store):
    recorded = record(event_store)
    assert recorded.added
    assert [p.amount for p in event_store.payments(1)] == [4900]


def test_a_refund_without_ids_takes_its_charges_link_and_ids(event_store):
    record(event_store, visitor_id=V1, email="ada@example.com", checkout_id="cs_1")
    refund = record(event_store, refunded=True, amount="5", at=PAID_AT + timedelta(days=1)).payment
    assert (link_of(refund), refund.email, refund.checkout_id) == (("metadata", V1, None), "ada@example.com", "cs_1")


# -- later events link earlier payments -----------------------------------------------------


def test_an_identify_arriving_after_the_payment_links_it(event_store):
    record(event_store, email="ada@example.com")
    assert stored_link(event_store) == ("none", None, None)
    load(event_store, event("identify", V1, S1, PAID_AT + timedelta(hours=2), {"email": "Ada@example.com"}))
    assert stored_link(event_store) == ("identity", V1, None)


def test_relinking_the_same_events_again_changes_nothing(event_store):
    record(event_store, email="ada@example.com")
    identified_at = PAID_AT + timedelta(hours=2)
    load(event_store, event("identify", V1, S1, identified_at, {"email": "ada@example.com"}))
    linked = event_store.payments(1)
    again = [link_event(1, V1, S1, identified_at, "identify", '{"email": "ada@example.com"}')]
    assert relink_payments(event_store, again) == 0
    assert event_store.payments(1) == linked


def test_a_later_identify_by_user_id_replaces_a_session_window_link(event_store):
    load(event_store, event("pageview", V1, S1, PAID_AT - timedelta(minutes=10)))
    record(event_store, customer_id="cus_7")
    assert stored_link(event_store) == ("session_window", V1, S1)
    load(event_store, event("identify", V2, S2, PAID_AT + timedelta(days=1), {"user_id": "cus_7"}))
    assert stored_link(event_store) == ("identity", V2, None)


def test_a_script_payment_event_after_its_webhook_links_the_payment_with_its_visit(event_store):
    record(event_store, checkout_id="cs_1", email="ada@example.com")
    load(event_store,
         event("identify", V2, S2, PAID_AT + timedelta(seconds=3), {"email": "ada@example.com"}),
         event("payment", V1, S1, PAID_AT + timedelta(seconds=1), {"provider": "stripe", "checkout_id": "cs_1"}))
    assert stored_link(event_store) == ("checkout", V1, S1)


def test_later_events_leave_strong_links_and_other_sites_alone(event_store):
    record(event_store, "ch_1", visitor_id=V1, email="ada@example.com")
    record(event_store, "ch_2", email="bob@example.com")
    load(event_store,
         event("identify", V2, S2, PAID_AT + timedelta(hours=1), {"email": "ada@example.com"}),
         event("identify", V3, S3, PAID_AT + timedelta(hours=1), {"email": "bob@example.com"}, site_id=2))
    assert stored_link(event_store, "ch_1") == ("metadata", V1, None)
    assert stored_link(event_store, "ch_2") == ("none", None, None)


def test_a_relinked_payment_keeps_its_amounts_and_is_read_once(event_store):
    record(event_store, email="ada@example.com")
    record(event_store, refunded=True, amount="10.00", email="ada@example.com", at=PAID_AT + timedelta(days=1))
    load(event_store, event("identify", V1, S1, PAID_AT + timedelta(days=2), {"email": "ada@example.com"}))
    load(event_store, event("identify", V2, S2, PAID_AT + timedelta(days=3), {"email": "ada@example.com"}))
    payments = event_store.payments(1)
    assert [(p.kind, p.amount, p.link_method, p.visitor_id) for p in payments] == [
        ("new", 4900, "identity", V1), ("refund", 1000, "identity", V1)]


# -- repeated deliveries ---------------------------------------------------------------------


def test_a_repeated_delivery_with_a_stronger_link_upgrades_the_stored_payment(event_store):
    load(event_store,
         event("pageview", V1, S1, PAID_AT - timedelta(minutes=10)),
         event("identify", V2, S2, LONG_AGO, {"email": "ada@example.com"}))
    first = record(event_store)
    assert first.added and link_of(first.payment) == ("session_window", V1, S1)
    again = record(event_store, amount="99.00", email="ada@example.com", at=PAID_AT + timedelta(minutes=1))
    assert not again.added
    assert (again.payment.amount, link_of(again.payment), again.payment.email) == (
        4900, ("identity", V2, None), "ada@example.com")
    assert event_store.payments(1) == [again.payment]


def test_a_cumulative_refund_delivery_raises_the_refunded_amount(event_store):
    record(event_store)
    assert record(event_store, refunded=True, amount="10.00", at=PAID_AT + timedelta(days=1)).added
    larger = record(event_store, refunded=True, amount="30.00", at=PAID_AT + timedelta(days=2))
    assert not larger.added and larger.payment.amount == 3000
    assert [(p.kind, p.amount, p.reporting_amount) for p in event_store.payments(1)] == [
        ("new", 4900, 4900), ("refund", 3000, 3000)]


# -- the rule itself, without a store ----------------------------------------------------------


@pytest.mark.parametrize(("method", "linked"), [("none", True), ("session_window", True), ("identity", False),
                                               ("checkout", False), ("metadata", False)])
def test_only_weak_links_are_replaced_by_later_events(method, linked):
    payment = parse_payment({"transaction_id": "ch_1", "amount": 1, "currency": "USD", "email": "a@b.c"},
                            site_id=1, site_currency="USD", now=PAID_AT)
    payment = replace(payment, link_method=method)
    identify = LinkEvent(1, V1, S1, PAID_AT, "identify", {"email": "a@b.c"})
    assert bool(links_from_events([payment], [identify])) is linked


# -- the visitor profile shows the visitor's payments ----------------------------------------------


def test_the_visitor_profile_lists_the_payments_linked_to_the_visitor_oldest_first(event_store):
    from postmetric.stats.visitors import visitor_profile

    load(event_store, event("pageview", V1, S1, LONG_AGO),
         event("identify", V1, S1, LONG_AGO, {"email": "ada@example.com"}))
    record(event_store, "ch_2", email="ada@example.com", at=PAID_AT + timedelta(days=1))
    record(event_store, "ch_1", email="ada@example.com")
    record(event_store, "ch_1", refunded=True, amount="5", at=PAID_AT + timedelta(days=2))
    record(event_store, "ch_9", visitor_id=V2)
    payments = visitor_profile(event_store, site_id=1, visitor_id=V1)["payments"]
    assert [(p["transaction_id"], p["kind"], p["amount"], p["link_method"]) for p in payments] == [
        ("ch_1", "new", "49.00", "identity"), ("ch_2", "new", "49.00", "identity"),
        ("ch_1", "refund", "5.00", "identity")]
    assert payments[0] == payment_json(event_store.payments(1, transaction_id="ch_1")[0])
