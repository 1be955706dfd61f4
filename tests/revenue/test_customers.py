"""The customers list on both event stores.

  ada   visitor V1, first visit from Google (Organic Search) on 1 Mar, identified ada@example.com;
        new 49 on 5 Mar, renewal 49 on 10 Mar (email in capitals), refund 10 on 12 Mar,
        and a new 500 on 1 Feb (outside the range)
  cus_b new 100 on 8 Mar, a customer id, no email, unlinked
  V2    new 20 on 9 Mar with only the visitor id; V2 came from Bing
  amy, zed   free trials (0) on 15 Mar
  nobody     new 30 without email, customer or visitor: no row
  site 2     a payment of another site
Range: March 2026.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from factories import stored_event
from postmetric.ingest.event import EventType
from postmetric.stats.customers import customers
from postmetric.revenue.recorder import record_payments
from postmetric.ingest.rows import event_row
from postmetric.store.events import encode_rows

V1, S1, S1B = ("00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000b1",
               "00000000-0000-4000-8000-0000000000b2")
V2, S2 = "00000000-0000-4000-8000-0000000000a2", "00000000-0000-4000-8000-0000000000b3"
MARCH = (datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 4, 1, tzinfo=timezone.utc))


def day(d: int, month: int = 3) -> datetime:
    return datetime(2026, month, d, 9, 0, tzinfo=timezone.utc)


def event(kind, visitor, session, at, *, props=None, **visit):
    return stored_event(visitor_id=visitor, session_id=session, timestamp=at.timestamp(), type=EventType(kind),
                        name=kind, props=props or {}, **visit)


def pay(store, transaction_id, amount, at, *, site_id=1, **fields):
    body = {"transaction_id": transaction_id, "amount": amount, "currency": "USD", "timestamp": at.isoformat()}
    record_payments(store, None, site_id=site_id, site_currency="USD", raws=[body | fields], provider="stripe",
                    now=at + timedelta(seconds=1))


@pytest.fixture
def store(event_store):
    event_store.load(encode_rows(event_row(e) for e in [
        event("pageview", V1, S1, day(1), source="Google", channel="Organic Search"),
        event("pageview", V1, S1B, day(4), source="X", channel="Organic Social"),
        event("identify", V1, S1B, day(4), props={"email": "Ada@Example.com"}, source="X", channel="Organic Social"),
        event("pageview", V2, S2, day(2), source="Bing", channel="Organic Search"),
    ]))
    pay(event_store, "ch_old", "500", day(1, month=2), email="ada@example.com")
    pay(event_store, "ch_1", "49.00", day(5), email="ada@example.com")
    pay(event_store, "ch_2", "49", day(10), email="ADA@example.com", renewal=True)
    pay(event_store, "ch_1", "10", day(12), email="ada@example.com", refunded=True)
    pay(event_store, "ch_3", "100", day(8), customer_id="cus_b")
    pay(event_store, "ch_4", "20", day(9), visitor_id=V2)
    pay(event_store, "ch_5", "0", day(15), email="zed@example.com")
    pay(event_store, "ch_6", "0", day(15), email="amy@example.com")
    pay(event_store, "ch_7", "30", day(20))
    pay(event_store, "ch_8", "70", day(20), site_id=2, email="ada@example.com")
    return event_store


def test_customers_are_ordered_by_net_revenue_then_name(store):
    result = customers(store, site_id=1, currency="USD", start=MARCH[0], end=MARCH[1])
    assert [(row["customer"], row["revenue"]) for row in result["results"]] == [
        ("cus_b", 100), ("ada@example.com", 88), (V2, 20), ("amy@example.com", 0), ("zed@example.com", 0)]
    assert result["meta"] == {"currency": "USD", "total_rows": 5}


def test_a_customers_totals_merge_payments_by_email_and_subtract_refunds(store):
    [ada] = [row for row in customers(store, site_id=1, currency="USD", start=MARCH[0], end=MARCH[1])["results"]
             if row["customer"] == "ada@example.com"]
    assert ada == {
        "customer": "ada@example.com", "person": "email:ada@example.com", "email": "ada@example.com",
        "customer_id": None, "visitor_id": V1, "first_source": "Google", "first_channel": "Organic Search",
        "revenue": 88, "payments": 2, "refunds": 10,
        "first_payment_at": "2026-03-05T09:00:00Z", "last_payment_at": "2026-03-10T09:00:00Z",
    }


def test_unlinked_customers_have_no_first_touch(store):
    rows = {row["customer"]: row for row in
            customers(store, site_id=1, currency="USD", start=MARCH[0], end=MARCH[1])["results"]}
    assert (rows["cus_b"]["customer_id"], rows["cus_b"]["visitor_id"], rows["cus_b"]["first_source"],
            rows["cus_b"]["first_channel"], rows["cus_b"]["person"]) == ("cus_b", None, None, None, None)
    assert (rows[V2]["email"], rows[V2]["visitor_id"], rows[V2]["first_source"], rows[V2]["person"]) == (
        None, V2, "Bing", None)
    assert (rows["zed@example.com"]["payments"], rows["zed@example.com"]["revenue"]) == (0, 0)


def test_pages_and_ranges(store):
    page = customers(store, site_id=1, currency="USD", start=MARCH[0], end=MARCH[1], limit=2, offset=1)
    assert [row["customer"] for row in page["results"]] == ["ada@example.com", V2]
    assert page["meta"]["total_rows"] == 5
    february = customers(store, site_id=1, currency="USD", start=day(1, month=2), end=MARCH[0])
    assert [(row["customer"], row["revenue"], row["payments"]) for row in february["results"]] == [
        ("ada@example.com", 500, 1)]
    only_refund = customers(store, site_id=1, currency="USD", start=day(11), end=day(13))
    assert [(row["customer"], row["revenue"], row["refunds"], row["first_payment_at"])
            for row in only_refund["results"]] == [("ada@example.com", -10, 10, None)]


def test_amounts_are_major_units_with_cents(event_store):
    pay(event_store, "ch_1", "29.99", day(5), email="ada@example.com")
    [row] = customers(event_store, site_id=1, currency="USD", start=MARCH[0], end=MARCH[1])["results"]
    assert (row["revenue"], row["refunds"]) == (29.99, 0)


def test_a_payment_linked_later_counts_once_with_its_new_visitor(event_store):
    pay(event_store, "ch_1", "49", day(5), email="ada@example.com")
    event_store.load(encode_rows(event_row(e) for e in [
        event("pageview", V1, S1, day(6), source="Google", channel="Organic Search"),
        event("identify", V1, S1, day(6), props={"email": "ada@example.com"}, source="Google",
              channel="Organic Search"),
    ]))
    pay(event_store, "ch_1", "49", day(5), email="ada@example.com")  # the webhook's retry
    [row] = customers(event_store, site_id=1, currency="USD", start=MARCH[0], end=MARCH[1])["results"]
    assert (row["revenue"], row["payments"], row["visitor_id"], row["first_source"]) == (49, 1, V1, "Google")
