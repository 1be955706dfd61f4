"""Goals worked out by hand, on DuckDB and on ClickHouse SQL (chdb): display names, page goals,
conversions, a goal's conversion rate and the revenue of its converters; and the scroll depth of
pages (at the end).

Goal definitions (in id order):
  1 event "signup"        → "Sign up"
  2 page  "/thank-you*"   → "Thanked"
  3 page  "/blog/*"       → "Read blog"
  4 page  "/thank-you"    → "Visit /thank-you"  (never shown: goal 2, made earlier, matches first)
"trial" and "pricing-seen" (a visibility goal of data-postmetric-scroll) have no definition: they
are goals by name.

Visits (UTC, March 2026):
  V1 visitor A  1 Mar 10:00  "/" · "/pricing" · goal pricing-seen · goal signup     Google
  V2 visitor B  2 Mar 12:00  "/blog/one" · "/thank-you/2"                           Direct
  V3 visitor C  3 Mar 09:00  "/" · goal trial                                       Google
  V4 visitor D  4 Mar 15:00  "/blog" (not /blog/*) · engagement                     X
  V5 visitor A  5 Mar 11:00  "/thank-you" · goal signup                             Direct

Goals of the events: V1 pricing-seen, Sign up; V2 Read blog, Thanked; V3 trial; V5 Thanked,
Sign up. Visitors in March: A, B, C, D = 4.

Payments: pA A 1 Mar 10:10 $100 (after V1's goals); pB B 2 Mar 12:06 $50 (after V2's pages).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from factories import stored_event
from postmetric.ingest.event import EventType
from postmetric.revenue.ledger import merged_delivery, parse_payment
from postmetric.sites.goals import GoalDefinition
from postmetric.stats.engine import StatsEngine
from postmetric.stats.parse import parse_query
from postmetric.stats.query import QueryError
from postmetric.ingest.rows import event_row
from postmetric.store.events import encode_rows
from test_engine_cases import _uuid, visit

SITE = 1
NOW = datetime(2026, 3, 31, tzinfo=timezone.utc)
GOALS = (
    GoalDefinition(1, "event", "signup", None, "Sign up"),
    GoalDefinition(2, "page", None, "/thank-you*", "Thanked"),
    GoalDefinition(3, "page", None, "/blog/*", "Read blog"),
    GoalDefinition(4, "page", None, "/thank-you", "Visit /thank-you"),
)
EVENTS = [
    *visit("A", "1", [("2026-03-01 10:00:00", "pageview", "/"), ("2026-03-01 10:01:00", "pageview", "/pricing"),
                      ("2026-03-01 10:02:00", "goal", "/pricing", "pricing-seen"),
                      ("2026-03-01 10:03:00", "goal", "/pricing", "signup")], source="Google"),
    *visit("B", "2", [("2026-03-02 12:00:00", "pageview", "/blog/one"),
                      ("2026-03-02 12:05:00", "pageview", "/thank-you/2")], source=""),
    *visit("C", "3", [("2026-03-03 09:00:00", "pageview", "/"), ("2026-03-03 09:01:00", "goal", "/", "trial")],
           source="Google"),
    *visit("D", "4", [("2026-03-04 15:00:00", "pageview", "/blog"), ("2026-03-04 15:00:30", "engagement", "/blog")],
           source="X"),
    *visit("A", "5", [("2026-03-05 11:00:00", "pageview", "/thank-you"),
                      ("2026-03-05 11:01:00", "goal", "/thank-you", "signup")], source=""),
]
PAYMENTS = [
    parse_payment({"transaction_id": "pA", "amount": "100", "currency": "USD", "timestamp": "2026-03-01T10:10:00Z",
                   "visitor_id": _uuid("A"), "session_id": _uuid("1")}, site_id=SITE, site_currency="USD", now=NOW),
    parse_payment({"transaction_id": "pB", "amount": "50", "currency": "USD", "timestamp": "2026-03-02T12:06:00Z",
                   "visitor_id": _uuid("B")}, site_id=SITE, site_currency="USD", now=NOW),
]
GOALS_PANEL = ["visitors", "conversions", "conversion_rate", "revenue"]


@pytest.fixture
def engine(event_store):
    event_store.load(encode_rows(event_row(e) for e in EVENTS))
    assert all(event_store.record_payments(PAYMENTS, merge=merged_delivery))
    return StatsEngine(event_store)


def run(engine, goals=GOALS, **query):
    parsed = parse_query({"site_id": "example.com", "date_range": ["2026-03-01", "2026-03-31"], **query},
                         site_timezone="UTC", now=NOW)
    return engine.run(parsed, site_id=SITE, currency="USD", goals=goals)


def rows(response) -> list:
    return [(r["dimensions"], r["metrics"]) for r in response["results"]]


def test_the_goals_panel_lists_display_names_page_goals_and_custom_events(engine):
    response = run(engine, metrics=GOALS_PANEL, dimensions=["event:goal"])
    # Converters / 4 visitors; revenue of the converters who had reached the goal when paying:
    # pA after V1 (pricing-seen, Sign up; A's Thanked came later), pB after V2 (Read blog, Thanked).
    assert rows(response) == [
        (["Thanked"], [2, 2, 50.0, 50.0]),
        (["Read blog"], [1, 1, 25.0, 50.0]),
        (["Sign up"], [1, 2, 25.0, 100.0]),
        (["pricing-seen"], [1, 1, 25.0, 100.0]),
        (["trial"], [1, 1, 25.0, 0.0]),
    ]


def test_without_definitions_custom_events_are_goals_by_name_and_pages_are_not(engine):
    response = run(engine, goals=(), metrics=["visitors", "conversions", "conversion_rate"], dimensions=["event:goal"])
    assert rows(response) == [(["pricing-seen"], [1, 1, 25.0]), (["signup"], [1, 2, 25.0]), (["trial"], [1, 1, 25.0])]


def test_conversions_count_goal_events_and_pageviews_of_page_goals(engine):
    # Goal events: pricing-seen, signup, trial, signup = 4; page goals: /blog/one, /thank-you/2, /thank-you.
    assert run(engine, metrics=["conversions", "visits"])["results"][0]["metrics"] == [7, 5]
    assert run(engine, goals=(), metrics=["conversions"])["results"][0]["metrics"] == [4]
    by_source = run(engine, metrics=["conversions"], dimensions=["visit:source"])
    assert rows(by_source) == [([""], [4]), (["Google"], [3]), (["X"], [0])]


def test_a_goal_filter_gives_each_group_its_conversion_rate(engine):
    response = run(engine, metrics=["visitors", "conversion_rate"], dimensions=["visit:source"],
                   filters=[["is", "event:goal", ["Sign up"]]])
    # Signed up: A by Google (V1) and A directly (V5); Google brought A and C, Direct B and A.
    assert rows(response) == [([""], [1, 50.0]), (["Google"], [1, 50.0])]


def test_other_filters_narrow_who_could_convert(engine):
    response = run(engine, metrics=["visitors", "conversion_rate"], dimensions=["event:goal"],
                   filters=[["is", "visit:source", ["Google"]]])
    # Visitors from Google: A, C.
    assert rows(response) == [(["Sign up"], [1, 50.0]), (["pricing-seen"], [1, 50.0]), (["trial"], [1, 50.0])]
    pages = run(engine, metrics=["visitors"], dimensions=["event:goal"], filters=[["contains", "event:goal", ["Th"]]])
    assert rows(pages) == [(["Thanked"], [2])]


def test_without_a_goal_the_conversion_rate_is_of_visitors_who_paid(engine):
    # pA and pB: 2 payers of 4 visitors.
    assert run(engine, metrics=["conversion_rate"])["results"][0]["metrics"] == [50.0]


def test_revenue_of_a_page_goals_converters_under_a_goal_filter(engine):
    response = run(engine, metrics=["revenue", "visitors"], filters=[["is", "event:goal", ["Thanked"]]])
    # Thanked: B (paid 50 after it) and A (reached it only after paying): revenue 50, visitors 2.
    assert response["results"][0]["metrics"] == [50.0, 2]


# -- scroll depth ---------------------------------------------------------------------------
#
#   S1 visitor A  1 Mar  "/" · engagement "/" 40 % · "/pricing" · engagement "/pricing" 90 % · engagement "/" 60 %
#   S2 visitor B  2 Mar  "/" · engagement "/" 100 % · "/pricing" (left without an engagement event)
#   S3 visitor C  3 Mar  "/about" · engagement "/about" without a scroll depth
#   S4 visitor A  4 Mar  "/" · engagement "/" 20 %
#
# Deepest per visitor and page: "/" A 60 (S1; S4's 20 is less), B 100; "/pricing" A 90; "/about" none.


def scrolled(visitor: str, session: str, day: int, steps: list[tuple]) -> list:
    started = datetime(2026, 3, day, 10, tzinfo=timezone.utc).timestamp()
    return [stored_event(site_id=SITE, visitor_id=_uuid(visitor), session_id=_uuid(session), session_started_at=started,
                         timestamp=started + 60 * i, type=EventType(kind), name=kind, pathname=path, scroll_depth=depth)
            for i, (kind, path, depth) in enumerate(steps)]


SCROLLS = [
    *scrolled("A", "11", 1, [("pageview", "/", None), ("engagement", "/", 40), ("pageview", "/pricing", None),
                             ("engagement", "/pricing", 90), ("engagement", "/", 60)]),
    *scrolled("B", "12", 2, [("pageview", "/", None), ("engagement", "/", 100), ("pageview", "/pricing", None)]),
    *scrolled("C", "13", 3, [("pageview", "/about", None), ("engagement", "/about", None)]),
    *scrolled("A", "14", 4, [("pageview", "/", None), ("engagement", "/", 20)]),
]


@pytest.fixture
def scrolls(event_store):
    event_store.load(encode_rows(event_row(e) for e in SCROLLS))
    return StatsEngine(event_store)


def test_scroll_depth_of_a_page_is_the_mean_of_each_visitors_deepest_scroll(scrolls):
    response = run(scrolls, metrics=["visitors", "scroll_depth"], dimensions=["event:page"])
    assert rows(response) == [(["/"], [2, 80]), (["/pricing"], [2, 90]), (["/about"], [1, None])]


def test_scroll_depth_of_filtered_pages_takes_each_visitors_deepest_among_them(scrolls):
    assert run(scrolls, metrics=["scroll_depth"], filters=[["is", "event:page", ["/"]]])["results"] == [
        {"dimensions": [], "metrics": [80]}]
    # A: max(60, 90) = 90, B: 100.
    both = run(scrolls, metrics=["scroll_depth"], filters=[["is", "event:page", ["/", "/pricing"]]])
    assert both["results"][0]["metrics"] == [95]
    by_day = run(scrolls, metrics=["scroll_depth"], dimensions=["time:day"], filters=[["is", "event:page", ["/"]]],
                 order_by=[["time:day", "asc"]])
    assert rows(by_day) == [(["2026-03-01"], [60]), (["2026-03-02"], [100]), (["2026-03-04"], [20])]


def test_scroll_depth_without_a_page_is_refused(scrolls):
    for query in ({"metrics": ["scroll_depth"]}, {"metrics": ["scroll_depth"], "dimensions": ["visit:source"]}):
        with pytest.raises(QueryError, match="^metrics: scroll_depth is measured per page: add event:page"):
            run(scrolls, **query)
    with pytest.raises(QueryError, match="^metrics: scroll_depth is measured by engagement events, which have no "
                                         "event:goal"):
        run(scrolls, metrics=["scroll_depth"], dimensions=["event:page", "event:goal"])
