"""Revenue metrics and attribution, worked out by hand, on DuckDB and on ClickHouse SQL (chdb).

Visits (UTC, March 2026; the site's currency is USD; session ids are labelled 1–6 in order):

  A1 visitor A  1 Mar 10:00  "/" · "/pricing"          Google, Organic Search, DE
  A2 visitor A  8 Mar 09:00  "/blog"                   X, Organic Social, DE
  B1 visitor B  2 Mar 12:00  "/" · identify            Google, Organic Search, US
  B2 visitor B  9 Mar 15:00  "/docs"                   Direct, US
  C1 visitor C  5 Mar 08:00  "/"                       Direct, FR
  D1 visitor D  9 Mar 11:00  "/pricing"                X, Organic Social, DE   (never pays)

Payments:

  pA   A  8 Mar 09:10  new      $100.00   session A2 (checkout metadata)
  pB   B  9 Mar 15:05  new       $50.00   no session (linked by identity)
  pB2  B 10 Mar 09:00  renewal   $50.00   no session
  rB   B 12 Mar 10:00  refund    $20.00   (of pB2)
  pC   C  5 Mar 08:05  new       $30.00   session C1
  pX   -  6 Mar 10:00  new       $40.00   unattributed (an ambiguous window)
  tB   B  2 Mar 12:30  trial      $0.00   no session
  pE   -  7 Mar 10:00  new       €90.00   recorded while the site reported in EUR: no USD amount

First touch: A → A1 (Google), B → B1 (Google), C → C1 (Direct).
Last touch:  pA → A2 (X: the linked session); pB, pB2, rB → B1 (Google: the last non-Direct
visit begun before them; B2 is Direct); pC → C1 (Direct: the linked session); tB → B1.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from postmetric.revenue.ledger import merged_delivery, parse_payment
from postmetric.stats.engine import StatsEngine
from postmetric.stats.parse import parse_query
from postmetric.ingest.rows import event_row
from postmetric.store.events import encode_rows
from test_engine_cases import _uuid, at, visit

SITE = 1
NOW = datetime(2026, 3, 31, tzinfo=timezone.utc)
MARCH = ["2026-03-01", "2026-03-31"]
GOOGLE = {"source": "Google", "channel": "Organic Search"}
X = {"source": "X", "channel": "Organic Social"}
DIRECT = {"source": "", "channel": "Direct"}

EVENTS = [
    *visit("A", "1", [("2026-03-01 10:00:00", "pageview", "/"), ("2026-03-01 10:01:00", "pageview", "/pricing")],
           country="DE", **GOOGLE),
    *visit("A", "2", [("2026-03-08 09:00:00", "pageview", "/blog")], country="DE", **X),
    *visit("B", "3", [("2026-03-02 12:00:00", "pageview", "/"),
                       ("2026-03-02 12:01:00", "identify", "/", None, {"email": "b@example.com"})],
           country="US", **GOOGLE),
    *visit("B", "4", [("2026-03-09 15:00:00", "pageview", "/docs")], country="US", **DIRECT),
    *visit("C", "5", [("2026-03-05 08:00:00", "pageview", "/")], country="FR", **DIRECT),
    *visit("D", "6", [("2026-03-09 11:00:00", "pageview", "/pricing")], country="DE", **X),
]


def pay(txn: str, when: str, amount: str, visitor: str | None = None, session: str | None = None,
        currency: str = "USD", site_currency: str = "USD", **flags):
    raw = {"transaction_id": txn, "amount": amount, "currency": currency, "timestamp": when + "Z", **flags}
    if visitor:
        raw["visitor_id"] = _uuid(visitor)
    if session:
        raw["session_id"] = _uuid(session)
    return parse_payment(raw, site_id=SITE, site_currency=site_currency, now=NOW)


PAYMENTS = [
    pay("pA", "2026-03-08T09:10:00", "100.00", "A", "2", email="a@example.com"),
    pay("pB", "2026-03-09T15:05:00", "50.00", "B", email="b@example.com"),
    pay("pB2", "2026-03-10T09:00:00", "50.00", "B", email="b@example.com", renewal=True),
    pay("pB2", "2026-03-12T10:00:00", "20.00", "B", email="b@example.com", refunded=True),
    pay("pC", "2026-03-05T08:05:00", "30.00", "C", "5"),
    pay("pX", "2026-03-06T10:00:00", "40.00"),
    pay("tB", "2026-03-02T12:30:00", "0", "B", email="b@example.com"),
    pay("pE", "2026-03-07T10:00:00", "90.00", currency="EUR", site_currency="EUR"),
]


@pytest.fixture
def engine(event_store):
    event_store.load(encode_rows(event_row(e) for e in EVENTS))
    assert all(event_store.record_payments(PAYMENTS, merge=merged_delivery))
    return StatsEngine(event_store)


def run(engine, **query):
    query.setdefault("date_range", MARCH)
    parsed = parse_query({"site_id": "example.com", **query}, site_timezone="UTC", now=NOW)
    return engine.run(parsed, site_id=SITE, currency="USD")


def table(response) -> dict:
    return {tuple(r["dimensions"]): r["metrics"] for r in response["results"]}


REVENUE = ["revenue", "revenue_new", "revenue_renewal", "refunds", "payments", "customers"]


def test_totals_count_every_payment_in_the_site_currency(engine):
    response = run(engine, metrics=REVENUE + ["average_order_value"])
    # new: 100 + 50 + 30 + 40 = 220; renewal 50; refunds 20; net 250. pE has no USD amount but is a payment.
    # payments: pA pB pB2 pC pX pE = 6 (the trial and the refund are not); customers: a@, b@, C, pX, pE = 5.
    # average order: (220 + 50) / 6 = 45.
    assert response["results"] == [{"dimensions": [], "metrics": [250.0, 220.0, 50.0, 20.0, 6, 5, 45.0]}]
    assert response["meta"]["currency"] == "USD"


def test_first_touch_credits_the_visit_that_brought_the_visitor(engine):
    response = run(engine, metrics=["visitors", "revenue", "payments"], dimensions=["visit:source"])
    # Visitors in March by source: "" (Direct) B, C = 2; Google A, B = 2; X A, D = 2.
    # Revenue: Google A's 100 + B's 50 + 50 − 20 = 180; Direct C's 30; X nothing (A came by Google).
    assert table(response) == {("Google",): [2, 180.0, 3], ("",): [2, 30.0, 1], ("X",): [2, 0.0, 0]}
    assert [r["dimensions"] for r in response["results"]] == [["",], ["Google"], ["X"]]  # visitors desc, then name


def test_last_touch_credits_the_linked_visit_else_the_last_non_direct_one(engine):
    response = run(engine, metrics=["revenue"], dimensions=["visit:source"], attribution="last_touch",
                   order_by=[["revenue", "desc"]])
    # pA → X (its session a2): 100. B's payments → Google (b2 is Direct): 50 + 50 − 20 = 80. pC → Direct 30.
    assert response["results"] == [
        {"dimensions": ["X"], "metrics": [100.0]},
        {"dimensions": ["Google"], "metrics": [80.0]},
        {"dimensions": [""], "metrics": [30.0]},
    ]


def test_unattributed_payments_count_in_totals_but_in_no_group(engine):
    by_channel = table(run(engine, metrics=["revenue_new"], dimensions=["visit:channel"]))
    assert sum(v[0] for v in by_channel.values()) == 180.0  # 220 − pX's 40
    assert run(engine, metrics=["revenue_new"])["results"][0]["metrics"] == [220.0]


def test_visit_filters_select_the_attributed_visit(engine):
    filtered = run(engine, metrics=["revenue", "visitors"], filters=[["is", "visit:country", ["US"]]])
    # Only B's payments (first touch b1, US): 80; US visitors: B.
    assert filtered["results"][0]["metrics"] == [80.0, 1]
    last_touch = run(engine, metrics=["revenue"], filters=[["is", "visit:source", ["X"]]], attribution="last_touch")
    assert last_touch["results"][0]["metrics"] == [100.0]


def test_pages_seen_before_paying_share_the_payment(engine):
    response = run(engine, metrics=["revenue", "visitors"], dimensions=["event:page"])
    # A saw "/", "/pricing", "/blog" before pA (100). B saw "/" before all of theirs and "/docs"
    # before pB (9 Mar 15:00 < 15:05), pB2 and rB: 80 each. C saw "/" before pC: 30.
    assert table(response) == {
        ("/",): [210.0, 3], ("/pricing",): [100.0, 2], ("/blog",): [100.0, 1], ("/docs",): [80.0, 1],
    }


def test_event_filters_keep_payments_of_visitors_who_did_it_first(engine):
    response = run(engine, metrics=["revenue"], filters=[["is", "event:page", ["/pricing"]]])
    assert response["results"][0]["metrics"] == [100.0]  # D saw /pricing but never paid


def test_ratios_per_visitor_and_conversion(engine):
    response = run(engine, metrics=["visitors", "revenue_per_visitor", "conversion_rate"],
                   dimensions=["visit:source"])
    # Google: 180 / 2 visitors = 90; new payers A (pA) and B (pB) of 2 visitors = 100 %.
    # Direct: 30 / 2 = 15; payer C of 2 = 50 %. X: 0 / 2, 0 %.
    assert table(response) == {("Google",): [2, 90.0, 100.0], ("",): [2, 15.0, 50.0], ("X",): [2, 0.0, 0.0]}
    headline = run(engine, metrics=["conversion_rate", "revenue_per_visitor"])
    # 4 visitors; new payers with a visitor: A, B, C = 75 %; 250 / 4 = 62.5.
    assert headline["results"][0]["metrics"] == [75.0, 62.5]


def test_refunds_reduce_revenue_on_their_own_day(engine):
    response = run(engine, metrics=["revenue", "refunds"], dimensions=["time:day"],
                   date_range=["2026-03-08", "2026-03-12"], include={"time_labels": True})
    assert table(response) == {
        ("2026-03-08",): [100.0, 0.0], ("2026-03-09",): [50.0, 0.0], ("2026-03-10",): [50.0, 0.0],
        ("2026-03-11",): [0, 0], ("2026-03-12",): [-20.0, 20.0],
    }


def test_revenue_compares_with_the_previous_period(engine):
    response = run(engine, metrics=["revenue", "conversion_rate"], date_range=["2026-03-08", "2026-03-14"],
                   include={"comparison": "previous_period"})
    # This week: 100 + 50 + 50 − 20 = 180; visitors A, B, D; new payers A, B: 66.67 %.
    # Week before (1–7 Mar): pC 30 + pX 40 = 70; visitors A, B, C; new payer C: 33.33 %.
    [result] = response["results"]
    assert result["metrics"] == [180.0, 66.67]
    assert result["comparison"] == {"metrics": [70.0, 33.33], "change": [157.1, 33.34]}


def test_groups_with_payments_but_no_visitors_in_range_are_rows(engine):
    # 8–12 March: A's first touch (Google, 1 Mar) is outside the range, yet pA counts for Google.
    response = run(engine, metrics=["visitors", "revenue"], dimensions=["visit:country"],
                   date_range=["2026-03-10", "2026-03-12"])
    # Visitors 10–12 Mar: none. Revenue by first-touch country: B (US) 50 − 20 = 30.
    assert table(response) == {("US",): [0, 30.0]}


def test_money_uses_the_currency_minor_units(event_store):
    event_store.record_payments([pay("y1", "2026-03-03T10:00:00", "1234", currency="JPY", site_currency="JPY")],
                                merge=merged_delivery)
    engine = StatsEngine(event_store)
    parsed = parse_query({"site_id": "x", "metrics": ["revenue", "average_order_value"], "date_range": MARCH},
                         site_timezone="UTC", now=NOW)
    assert engine.run(parsed, site_id=SITE, currency="JPY")["results"][0]["metrics"] == [1234, 1234.0]


# -- linked as they arrive: the recorder links, the engine credits ------------------------------

AMBIGUOUS = [
    *visit("E", "7", [("2026-03-20 10:00:00", "pageview", "/pricing")], country="DE", **GOOGLE),
    *visit("F", "8", [("2026-03-20 10:05:00", "pageview", "/pricing")], country="FR", **X),
]


@pytest.fixture
def arriving(event_store):
    """The visits above with no payments yet: payments come through the recorder, as from the API."""
    event_store.load(encode_rows(event_row(e) for e in EVENTS + AMBIGUOUS))
    return event_store


def arrive(store, raw: dict):
    from postmetric.revenue.recorder import record_payments

    [recorded] = record_payments(store, None, site_id=SITE, site_currency="USD", raws=[raw], provider="api",
                                 now=NOW)
    return recorded.payment


@pytest.mark.parametrize("attribution", ["first_touch", "last_touch"])
def test_an_email_only_payment_after_identify_is_credited_to_the_identified_visitor(arriving, attribution):
    # B identified as b@example.com in visit 3 (Google); the payment names only the email.
    payment = arrive(arriving, {"transaction_id": "ch_email", "amount": "75", "currency": "USD",
                                "email": "B@example.com", "timestamp": "2026-03-15T12:00:00Z"})
    assert (payment.visitor_id, payment.link_method) == (_uuid("B"), "identity")
    # First touch: B's first visit (Google). Last touch: no linked visit; the last non-Direct
    # visit begun before is visit 3 (Google), since visit 4 was Direct.
    response = run(StatsEngine(arriving), metrics=["revenue"], dimensions=["visit:source"], attribution=attribution)
    assert table(response) == {("Google",): [75.0]}


@pytest.mark.parametrize("attribution", ["first_touch", "last_touch"])
def test_a_payment_in_an_ambiguous_window_stays_unattributed(arriving, attribution):
    # Two visits (E and F) were active in the 30 minutes before: no link is guessed.
    payment = arrive(arriving, {"transaction_id": "ch_unknown", "amount": "20", "currency": "USD",
                                "timestamp": "2026-03-20T10:15:00Z"})
    assert (payment.visitor_id, payment.link_method) == (None, "none")
    engine = StatsEngine(arriving)
    assert run(engine, metrics=["revenue"], attribution=attribution)["results"][0]["metrics"] == [20.0]
    assert run(engine, metrics=["revenue"], dimensions=["visit:source"], attribution=attribution)["results"] == []


def test_a_single_visit_in_the_window_is_a_low_confidence_link_credited_like_any(arriving):
    payment = arrive(arriving, {"transaction_id": "ch_window", "amount": "20", "currency": "USD",
                                "timestamp": "2026-03-09T11:20:00Z"})  # only D's visit 6 (X) was active
    assert (payment.visitor_id, payment.session_id, payment.link_method) == (_uuid("D"), _uuid("6"), "session_window")
    response = run(StatsEngine(arriving), metrics=["revenue"], dimensions=["visit:source"], attribution="last_touch")
    assert table(response) == {("X",): [20.0]}
