"""privacy/erasure.py on both event stores: who a selector names, what goes, what stays.

Every raw table is read after an erasure, older ClickHouse versions of a row included (no FINAL):
the person's data must be gone from storage, not just hidden from reads.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from postmetric.errors import ValidationError
from postmetric.ingest.event import EventType
from postmetric.privacy.erasure import erase, find_person, parse_selector, selector
from postmetric.revenue.ledger import merged_delivery, parse_payment
from postmetric.ingest.rows import event_row
from postmetric.store.events import encode_rows

from factories import stored_event
from test_ledger_store import NOW

LAPTOP, PHONE, OTHER = ("00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b",
                        "00000000-0000-4000-8000-00000000000c")
T0 = (NOW - timedelta(days=1)).timestamp()


def identify(visitor: str, at: float, **props):
    return stored_event(visitor_id=visitor, timestamp=at, type=EventType.IDENTIFY, name="identify", props=props)


def payment(transaction_id: str, amount: str, **fields):
    body = {"transaction_id": transaction_id, "amount": amount, "currency": "USD",
            "timestamp": "2026-03-10T10:00:00Z"} | fields
    return parse_payment(body, site_id=1, site_currency="USD", now=NOW)


@pytest.fixture
def stored(event_store):
    events = [
        stored_event(visitor_id=LAPTOP, timestamp=T0), identify(LAPTOP, T0 + 1, email="Ada@Example.com"),
        stored_event(visitor_id=PHONE, timestamp=T0 + 60),
        identify(PHONE, T0 + 61, user_id="u-42", email="ada@example.com", customer_id="cus_ada"),
        stored_event(visitor_id=OTHER, timestamp=T0 + 120), identify(OTHER, T0 + 121, email="bob@example.com"),
    ]
    event_store.load(encode_rows(event_row(e) for e in events))
    event_store.record_payments([payment("ch_1", "49", email="ada@example.com"),
                                 payment("ch_2", "10", visitor_id=PHONE), payment("ch_3", "100", customer_id="cus_b")],
                                 merge=merged_delivery)
    # A second delivery adds the customer id: on ClickHouse a second version of the row.
    event_store.record_payments([payment("ch_1", "49", email="ada@example.com", customer_id="cus_ada")],
                                merge=merged_delivery)
    return event_store


def raw(store, table: str) -> list[dict]:
    return store.fetch(f"SELECT * FROM {table}")


@pytest.mark.parametrize("chosen", [selector("email", "ADA@example.com"), selector("user_id", "u-42")])
def test_a_person_is_every_device_any_of_their_keys_names(stored, chosen):
    person = find_person(stored, 1, chosen)
    assert person.visitor_ids == (LAPTOP, PHONE)
    assert person.emails == ("ada@example.com",)
    assert set(person.customer_ids) >= {"u-42", "cus_ada"}


def test_a_visitor_id_is_one_device(stored):
    assert find_person(stored, 1, selector("visitor_id", LAPTOP.upper())).visitor_ids == (LAPTOP,)


def test_erasure_leaves_no_trace_in_any_table_and_keeps_the_amounts(stored):
    total_before = sum(p.amount for p in stored.payments(1))
    erasure = erase(stored, 1, find_person(stored, 1, selector("email", "ada@example.com")))
    assert (erasure.visitors, erasure.events, erasure.visits, erasure.identities, erasure.payments) == (2, 4, 4, 2, 2)  # stored_event: a visit per event
    everything = str([raw(stored, table) for table in ("events", "sessions", "identities", "payments")])
    for secret in ("ada@example.com", "u-42", "cus_ada", LAPTOP, PHONE):
        assert secret not in everything.lower()
    assert "bob@example.com" in everything and OTHER in everything
    assert sum(p.amount for p in stored.payments(1)) == total_before
    assert {p.transaction_id: p.link_method for p in stored.payments(1)} == \
        {"ch_1": "erased", "ch_2": "erased", "ch_3": "none"}
    again = erase(stored, 1, find_person(stored, 1, selector("email", "ada@example.com")))
    assert (again.visitors, again.events, again.payments) == (0, 0, 0)


def test_another_sites_rows_are_untouched(stored):
    other_site = stored_event(visitor_id=LAPTOP, timestamp=T0)
    other_site.site_id = 2
    stored.load(encode_rows([event_row(other_site)]))
    erase(stored, 1, find_person(stored, 1, selector("visitor_id", LAPTOP)))
    assert [row["site_id"] for row in raw(stored, "events") if str(row["visitor_id"]) == LAPTOP] == [2]


@pytest.mark.parametrize(("raw_body", "field"), [
    ({}, "body"), ({"email": "a@b.c", "visitor_id": LAPTOP}, "body"), ({"email": ["a@b.c"]}, "email"),
    ({"visitor_id": "42"}, "visitor_id"), ({"user_id": "   "}, "user_id"), ({"email": "@" * 300}, "email"),
])
def test_a_bad_selector_names_its_field(raw_body, field):
    with pytest.raises(ValidationError) as error:
        parse_selector(raw_body)
    assert error.value.field == field


def test_an_email_matches_whatever_its_case_in_any_script(event_store):
    event_store.load(encode_rows([event_row(identify(LAPTOP, T0, email=" ÅSA@Example.COM "))]))
    event_store.record_payments([payment("ch_9", "5", email="Åsa@example.com")], merge=merged_delivery)
    person = find_person(event_store, 1, selector("email", "åsa@EXAMPLE.com"))
    assert person.visitor_ids == (LAPTOP,)
    assert erase(event_store, 1, person).payments == 1
    assert event_store.payments(1)[0].email is None
