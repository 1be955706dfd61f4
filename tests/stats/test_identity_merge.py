"""One user on several devices is one person for revenue and customers (SPEC §7), worked out by
hand, on DuckDB and on ClickHouse SQL (chdb).

Visits (UTC, March 2026; the site's currency is USD; session ids labelled 1–9 in order):

  1 laptop L   1 Mar 10:00  "/" · identify {user_id 42, email ada@}  Google, Organic Search
  2 phone P    8 Mar 09:00  "/pricing" · identify {user_id 42}       X, Organic Social
  3 E          2 Mar 12:00  "/" · identify {email Eve@Example.com}    Bing, Organic Search
  4 F          9 Mar 12:00  "/" · identify {email " eve@example.com"} Newsletter, Email
  5 U          3 Mar 08:00  "/"  (never identified)                   DuckDuckGo, Organic Search
  6 U         10 Mar 10:00  "/blog"                                   X, Organic Social
  7 S          4 Mar 09:00  "/" · identify {user_id 7} · later {user_id 8}   Reddit, Organic Social
  8 T         11 Mar 09:00  "/" · identify {user_id 7}                Direct
  9 Q          6 Mar 09:00  "/" · identify {user_id 8}                Hacker News, Referral

People: user:42 = L, P; email:eve@example.com = E, F; user:7 = T (S's latest identify is user 8);
user:8 = S, Q; U alone.

Payments:
  p42  P   8 Mar 09:10  new      $49  session 2 (checkout metadata)
  r42  L  20 Mar 09:00  renewal  $49  email ada@example.com, no session
  pE   F   9 Mar 12:10  new      $30  no session
  pU   U  10 Mar 10:05  new      $20  no session
  pT   T  11 Mar 09:05  new      $10  no session
  pQ   Q  12 Mar 09:00  new       $5  no session
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from postmetric.stats.customers import customers
from postmetric.revenue.ledger import merged_delivery, parse_payment
from postmetric.stats.engine import StatsEngine
from postmetric.stats.parse import parse_query
from postmetric.ingest.rows import event_row
from postmetric.store.events import encode_rows
from test_engine_cases import _uuid, visit

SITE = 1
NOW = datetime(2026, 3, 31, tzinfo=timezone.utc)
MARCH = ["2026-03-01", "2026-03-31"]
L, P, E, F, U, S, T, Q = (_uuid(label) for label in "LPEFUSTQ")


def identify(moment: str, path: str, **props) -> tuple:
    return (moment, "identify", path, None, props)


EVENTS = [
    *visit("L", "1", [("2026-03-01 10:00:00", "pageview", "/"),
                      identify("2026-03-01 10:01:00", "/", user_id="42", email="ada@example.com")],
           source="Google", channel="Organic Search"),
    *visit("P", "2", [("2026-03-08 09:00:00", "pageview", "/pricing"),
                      identify("2026-03-08 09:01:00", "/pricing", user_id="42")],
           source="X", channel="Organic Social"),
    *visit("E", "3", [("2026-03-02 12:00:00", "pageview", "/"),
                      identify("2026-03-02 12:01:00", "/", email="Eve@Example.com")],
           source="Bing", channel="Organic Search"),
    *visit("F", "4", [("2026-03-09 12:00:00", "pageview", "/"),
                      identify("2026-03-09 12:01:00", "/", email=" eve@example.com")],
           source="Newsletter", channel="Email"),
    *visit("U", "5", [("2026-03-03 08:00:00", "pageview", "/")], source="DuckDuckGo", channel="Organic Search"),
    *visit("U", "6", [("2026-03-10 10:00:00", "pageview", "/blog")], source="X", channel="Organic Social"),
    *visit("S", "7", [("2026-03-04 09:00:00", "pageview", "/"), identify("2026-03-04 09:01:00", "/", user_id="7"),
                      identify("2026-03-04 09:02:00", "/", user_id="8")],
           source="Reddit", channel="Organic Social"),
    *visit("T", "8", [("2026-03-11 09:00:00", "pageview", "/"), identify("2026-03-11 09:01:00", "/", user_id="7")],
           source="", channel="Direct"),
    *visit("Q", "9", [("2026-03-06 09:00:00", "pageview", "/"), identify("2026-03-06 09:01:00", "/", user_id="8")],
           source="Hacker News", channel="Referral"),
]


def pay(txn: str, when: str, amount: str, visitor: str, session: str | None = None, **fields):
    raw = {"transaction_id": txn, "amount": amount, "currency": "USD", "timestamp": when + "Z",
           "visitor_id": _uuid(visitor), **fields}
    if session:
        raw["session_id"] = _uuid(session)
    return parse_payment(raw, site_id=SITE, site_currency="USD", now=NOW)


PAYMENTS = [
    pay("p42", "2026-03-08T09:10:00", "49", "P", "2"),
    pay("r42", "2026-03-20T09:00:00", "49", "L", email="ada@example.com", renewal=True),
    pay("pE", "2026-03-09T12:10:00", "30", "F"),
    pay("pU", "2026-03-10T10:05:00", "20", "U"),
    pay("pT", "2026-03-11T09:05:00", "10", "T"),
    pay("pQ", "2026-03-12T09:00:00", "5", "Q"),
]


@pytest.fixture
def store(event_store):
    event_store.load(encode_rows(event_row(e) for e in EVENTS))
    assert all(event_store.record_payments(PAYMENTS, merge=merged_delivery))
    return event_store


def revenue_by_source(store, attribution: str) -> dict[str, float]:
    query = parse_query({"site_id": "example.com", "date_range": MARCH, "metrics": ["revenue"],
                         "dimensions": ["visit:source"], "attribution": attribution}, site_timezone="UTC", now=NOW)
    response = StatsEngine(store).run(query, site_id=SITE, currency="USD")
    return {r["dimensions"][0]: r["metrics"][0] for r in response["results"]}


def test_first_touch_is_the_persons_first_visit_on_any_device(store):
    # p42 and r42 → Google (the laptop's visit 1, before the phone's); pE → Bing (E, same email in
    # another case); pU → DuckDuckGo (U's own first visit); pT → T's Direct visit (S left user 7
    # for user 8); pQ → Reddit (S's visit, before Q's own).
    assert revenue_by_source(store, "first_touch") == {
        "Google": 98.0, "Bing": 30.0, "DuckDuckGo": 20.0, "": 10.0, "Reddit": 5.0}


def test_last_touch_is_the_linked_visit_else_the_persons_last_non_direct_one(store):
    # p42 → X (its linked visit 2); r42 → X (visit 2 is the person's last non-Direct visit begun
    # by 20 Mar, though the laptop paid); pE → Newsletter (F's visit 4); pU → X (U's visit 6);
    # pT → Direct (T's only visit, S is not theirs); pQ → Hacker News (Q's visit 9, after S's 7).
    assert revenue_by_source(store, "last_touch") == {
        "X": 118.0, "Newsletter": 30.0, "": 10.0, "Hacker News": 5.0}


def test_a_users_two_devices_are_one_customer(store):
    rows = customers(store, site_id=SITE, currency="USD", start=datetime(2026, 3, 1, tzinfo=timezone.utc),
                     end=datetime(2026, 4, 1, tzinfo=timezone.utc))["results"]
    assert [(r["customer"], r["person"], r["revenue"], r["payments"], r["visitor_id"], r["first_source"])
            for r in rows] == [
        ("ada@example.com", "user:42", 98, 2, P, "Google"),
        ("eve@example.com", "email:eve@example.com", 30, 1, F, "Bing"),
        (U, None, 20, 1, U, "DuckDuckGo"),
        ("7", "user:7", 10, 1, T, ""),
        ("8", "user:8", 5, 1, Q, "Reddit"),
    ]
    [ada] = [r for r in rows if r["person"] == "user:42"]
    assert (ada["email"], ada["first_payment_at"], ada["last_payment_at"]) == (
        "ada@example.com", "2026-03-08T09:10:00Z", "2026-03-20T09:00:00Z")


def test_the_customers_metric_counts_the_customers_list(store):
    # p42 (phone) and r42 (laptop, paid with an email) are one user: five customers, not six, as
    # the customers list above has five rows.
    query = parse_query({"site_id": "example.com", "date_range": MARCH, "metrics": ["customers", "payments"]},
                        site_timezone="UTC", now=NOW)
    response = StatsEngine(store).run(query, site_id=SITE, currency="USD")
    assert response["results"][0]["metrics"] == [5, 6]
