"""An annotation's impact and the Mentions list, on the visits and payments of test_revenue_cases.py, worked out by
hand, on DuckDB and on ClickHouse SQL (chdb).

Visits from X: A2 (visitor A, 8 Mar 09:00, whose session pays pA $100 at 09:10) and D1 (visitor D, 9 Mar 11:00,
never pays); one more from X on site 2 (8 Mar 10:00), which no answer for site 1 may count.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from postmetric.ingest.rows import event_row
from postmetric.revenue.ledger import merged_delivery
from postmetric.stats.engine import StatsEngine
from postmetric.stats.impact import MAX_MENTION_POSTS, Post, annotation_impact, mentions
from postmetric.store.events import encode_rows
from test_engine_cases import visit
from test_revenue_cases import EVENTS, NOW, PAYMENTS, SITE, X

OTHER_SITE = 2
OTHER_SITE_EVENTS = visit("Z", "9", [("2026-03-08 10:00:00", "pageview", "/")], site_id=OTHER_SITE, **X)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.fixture
def engine(event_store):
    event_store.load(encode_rows(event_row(e) for e in [*EVENTS, *OTHER_SITE_EVENTS]))
    assert all(event_store.record_payments(PAYMENTS, merge=merged_delivery))
    return StatsEngine(event_store)


def impact(engine, kind: str, when: str, now: datetime = NOW, site_id: int = SITE) -> dict:
    return annotation_impact(engine, site_id=site_id, currency="USD", annotation_id=7, kind=kind, time=utc(when),
                             now=now)


def test_a_commit_compares_the_week_before_with_the_week_after(engine):
    answer = impact(engine, "github", "2026-03-08 00:00:00")
    # Before, 1–8 Mar: visitors A (A1), B (B1), C (C1); payments pC $30 and pX $40 (pE has no USD amount, tB is
    # a trial): $70; of the visitors, C paid: 1 / 3.
    # After, 8–15 Mar: visitors A (A2), B (B2), D (D1); pA $100 + pB $50 + pB2 $50 − rB $20 = $180; A and B
    # paid: 2 / 3.
    assert answer["window"] == "7d" and answer["partial"] is False and answer["currency"] == "USD"
    assert answer["before"]["start"] == "2026-03-01T00:00:00Z" and answer["before"]["end"] == "2026-03-08T00:00:00Z"
    assert answer["after"]["start"] == "2026-03-08T00:00:00Z" and answer["after"]["end"] == "2026-03-15T00:00:00Z"
    assert (answer["before"]["visitors"], answer["before"]["revenue"]) == (3, 70.0)
    assert (answer["after"]["visitors"], answer["after"]["revenue"]) == (3, 180.0)
    assert (answer["before"]["conversion_rate"], answer["after"]["conversion_rate"]) == (33.33, 66.67)


def test_a_note_close_to_now_has_a_partial_week_after(engine):
    answer = impact(engine, "note", "2026-03-08 00:00:00", now=utc("2026-03-09 12:00:00"))
    # After, cut at 9 Mar 12:00: A (A2), B? no: B2 is 9 Mar 15:00; D (D1, 11:00) — and pA $100 only.
    assert answer["partial"] is True
    assert answer["after"]["end"] == "2026-03-09T12:00:00Z"
    assert (answer["after"]["visitors"], answer["after"]["revenue"]) == (2, 100.0)


def test_a_note_in_the_future_has_an_empty_week_after(engine):
    answer = impact(engine, "note", "2026-04-02 00:00:00")
    assert answer["partial"] is True
    assert answer["after"] == {"start": "2026-04-02T00:00:00Z", "end": "2026-04-02T00:00:00Z", "visitors": 0,
                               "conversion_rate": None, "revenue": 0}


def test_a_post_counts_what_came_from_x_in_the_next_24_hours(engine):
    # 8 Mar 08:30 → 9 Mar 08:30: A2 from X, and pA (last touch: A2) $100; site 2's visit from X is not site 1's.
    assert impact(engine, "x", "2026-03-08 08:30:00") == {
        "annotation_id": 7, "window": "24h", "start": "2026-03-08T08:30:00Z", "end": "2026-03-09T08:30:00Z",
        "visitors": 1, "revenue": 100.0, "currency": "USD", "partial": False}
    # 9 Mar 10:00 → 10 Mar 10:00: D1 from X, no payment; B's payments came by Google (last touch).
    later = impact(engine, "x", "2026-03-09 10:00:00")
    assert (later["visitors"], later["revenue"]) == (1, 0.0)
    # 8 Mar 09:30 → : A2 began before the post, so it is not the post's; D1 is more than 24 hours later.
    assert impact(engine, "x", "2026-03-08 09:30:00")["visitors"] == 0


def test_a_post_within_24_hours_of_now_is_partial(engine):
    answer = impact(engine, "x", "2026-03-09 10:00:00", now=utc("2026-03-09 12:00:00"))
    assert (answer["end"], answer["partial"], answer["visitors"]) == ("2026-03-09T12:00:00Z", True, 1)


def test_another_site_sees_only_its_own_visits_from_x(engine):
    answer = impact(engine, "x", "2026-03-08 08:30:00", site_id=OTHER_SITE)
    assert (answer["visitors"], answer["revenue"]) == (1, 0)


def test_mentions_rank_posts_by_the_visitors_from_x_after_them(engine):
    posts = [Post(1, utc("2026-03-08 08:30:00")), Post(2, utc("2026-03-09 10:00:00")),
             Post(3, utc("2026-03-08 06:00:00")), Post(4, utc("2026-03-20 10:00:00"))]
    found = mentions(engine, posts, site_id=SITE, currency="USD", now=NOW, limit=10)
    # 1 and 3 both have A2 and pA in their 24 hours; 2 has D1; 4 has nothing. Ties: more revenue, then newer.
    assert found == [{"annotation_id": 1, "visitors": 1, "revenue": 100.0},
                     {"annotation_id": 3, "visitors": 1, "revenue": 100.0},
                     {"annotation_id": 2, "visitors": 1, "revenue": 0},
                     {"annotation_id": 4, "visitors": 0, "revenue": 0}]
    assert mentions(engine, posts, site_id=SITE, currency="USD", now=NOW, limit=2) == found[:2]
    assert mentions(engine, [], site_id=SITE, currency="USD", now=NOW, limit=10) == []


def test_mentions_agree_with_each_posts_impact_when_no_visitor_comes_back(engine):
    posts = [Post(1, utc("2026-03-08 08:00:00")), Post(2, utc("2026-03-09 10:00:00"))]
    found = {m["annotation_id"]: m for m in mentions(engine, posts, site_id=SITE, currency="USD", now=NOW, limit=10)}
    for post in posts:
        exact = annotation_impact(engine, site_id=SITE, currency="USD", annotation_id=post.annotation_id, kind="x",
                                  time=post.time, now=NOW)
        assert (found[post.annotation_id]["visitors"], found[post.annotation_id]["revenue"]) == (
            exact["visitors"], exact["revenue"])


def test_mentions_look_at_the_newest_posts_only(engine):
    # Many posts: only the MAX_MENTION_POSTS newest are weighed, so the old one that sent A2 is not listed.
    crowd = [Post(100 + n, utc("2026-03-20 00:00:00").replace(minute=n % 60, second=n // 60))
             for n in range(MAX_MENTION_POSTS)]
    found = mentions(engine, [Post(1, utc("2026-03-08 08:30:00")), *crowd], site_id=SITE, currency="USD", now=NOW,
                     limit=100)
    assert len(found) == 100 and 1 not in {m["annotation_id"] for m in found}
    assert {m["visitors"] for m in found} == {0}


class CountingStore:
    """The event store, counting the queries asked of it."""

    def __init__(self, store) -> None:
        self.store, self.queries = store, 0

    def __getattr__(self, name):
        return getattr(self.store, name)

    def fetch(self, *args, **kwargs):
        self.queries += 1
        return self.store.fetch(*args, **kwargs)


@pytest.mark.parametrize("count", [1, 50, MAX_MENTION_POSTS + 30])
def test_mentions_ask_one_query_however_many_posts(engine, event_store, count):
    counting = CountingStore(event_store)
    posts = [Post(n, utc("2026-03-01 00:00:00").replace(hour=n % 24, minute=n // 24)) for n in range(count)]
    found = mentions(StatsEngine(counting), posts, site_id=SITE, currency="USD", now=NOW, limit=100)
    assert counting.queries == 1
    assert len(found) == min(count, 100)
