"""Hand-computed answers, on DuckDB and on ClickHouse SQL (chdb).

Five visits around 10–12 March 2026 (Berlin is UTC+1 then), one a year earlier, one on
another site. Every figure below is worked out by hand in the comments.

  V1 visitor A  Berlin 10 Mar 10:00  "/" · engagement · "/pricing" · goal signup {plan: pro}
                DE, Google, desktop; 2 pageviews, 300 s, not a bounce, exits on /pricing
  V2 visitor B  Berlin 10 Mar 11:00  "/blog/one" · engagement 40 s later
                US, direct, mobile; a bounce of 40 s
  V3 visitor A  Berlin 11 Mar 13:00  "/blog/one" · outbound (docs.example.com)
                DE, X, desktop; 1 pageview but not a bounce (outbound), 60 s
  V4 visitor C  Berlin 11 Mar 23:50  "/" · "/about" at 00:10 on the 12th
                FR, Google, desktop; spans midnight: 1,200 s, counted on the 11th
  V5 visitor D  Berlin 12 Mar 00:30 (UTC 11 Mar 23:30)  "/"
                DE, direct, desktop; a bounce of 0 s
  V6 visitor E  Berlin 11 Mar 2025  "/"  (for year-over-year)
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from factories import stored_event
from postmetric.ingest.event import EventType
from postmetric.stats.engine import StatsEngine
from postmetric.stats.parse import parse_query
from postmetric.ingest.rows import event_row
from postmetric.store.events import encode_rows

SITE = 1
NOW = datetime(2026, 3, 13, 12, tzinfo=timezone.utc)
HEADLINE = ["visitors", "visits", "pageviews", "events", "conversions", "views_per_visit", "bounce_rate",
            "visit_duration"]


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def visit(visitor: str, session: str, events: list[tuple], site_id: int = SITE, **attributes) -> list:
    started = at(events[0][0])
    base = {"entry_page": events[0][2], "device": "desktop", "channel": "", **attributes}
    return [
        stored_event(site_id=site_id, visitor_id=_uuid(visitor), session_id=_uuid(session), session_started_at=started,
                     timestamp=at(moment), type=EventType(kind), name=name or kind, pathname=path,
                     hostname=hostname or "example.com", props=props or {}, **base)
        for moment, kind, path, name, props, hostname in (e + (None,) * (6 - len(e)) for e in events)
    ]


def _uuid(label: str) -> str:
    return f"00000000-0000-4000-8000-{ord(label[-1]):012d}"


EVENTS = [
    *visit("A", "s1", [("2026-03-10 09:00:00", "pageview", "/"),
                       ("2026-03-10 09:00:30", "engagement", "/"),
                       ("2026-03-10 09:02:00", "pageview", "/pricing"),
                       ("2026-03-10 09:05:00", "goal", "/pricing", "signup", {"plan": "pro"})],
           country="DE", source="Google", channel="Organic Search"),
    *visit("B", "s2", [("2026-03-10 10:00:00", "pageview", "/blog/one"),
                       ("2026-03-10 10:00:40", "engagement", "/blog/one")],
           country="US", device="mobile", channel="Direct"),
    *visit("A", "s3", [("2026-03-11 12:00:00", "pageview", "/blog/one", None, None, "docs.example.com"),
                       ("2026-03-11 12:01:00", "outbound", "/blog/one", None, None, "docs.example.com")],
           country="DE", source="X", channel="Organic Social"),
    *visit("C", "s4", [("2026-03-11 22:50:00", "pageview", "/"),
                       ("2026-03-11 23:10:00", "pageview", "/about")],
           country="FR", source="Google", channel="Organic Search"),
    *visit("D", "s5", [("2026-03-11 23:30:00", "pageview", "/")], country="DE", channel="Direct"),
    *visit("E", "s6", [("2025-03-11 12:00:00", "pageview", "/")], country="DE", channel="Direct"),
    *visit("F", "s7", [("2026-03-10 09:00:00", "pageview", "/")], site_id=2, country="DE"),
]


@pytest.fixture
def stats(event_store):
    event_store.load(encode_rows(event_row(e) for e in EVENTS))
    engine = StatsEngine(event_store)

    def run(**fields) -> dict:
        raw = {"site_id": "example.com", "date_range": ["2026-03-10", "2026-03-12"], "metrics": HEADLINE} | fields
        return engine.run(parse_query(raw, site_timezone="Europe/Berlin", now=NOW), site_id=SITE)

    return run


def rows(response: dict) -> list[tuple]:
    return [(*r["dimensions"], *r["metrics"]) for r in response["results"]]


def test_headline(stats):
    # visitors A B C D; visits V1-V5; pageviews 2+1+1+2+1; events without engagement 3+1+2+2+1;
    # 7/5 views per visit; bounces V2 V5 = 2/5; duration (300+40+60+1200+0)/5.
    assert rows(stats()) == [(4, 5, 7, 9, 1, 1.4, 40, 320)]


def test_days_in_the_site_timezone_and_a_visit_across_midnight_counts_on_its_first_day(stats):
    response = stats(dimensions=["time:day"], metrics=["visitors", "visits", "pageviews", "bounce_rate",
                                                        "visit_duration"])
    assert rows(response) == [
        ("2026-03-10", 2, 2, 3, 50, 170),   # V1 V2: (300+40)/2
        ("2026-03-11", 2, 2, 3, 0, 630),    # V3 V4, with V4's pageview after midnight: (60+1200)/2
        ("2026-03-12", 1, 1, 1, 100, 0),    # V5 at 00:30 Berlin
    ]


def test_time_without_a_unit_is_days(stats):
    metrics = ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]
    by_time = stats(dimensions=["time"], metrics=metrics, include={"time_labels": True})
    by_day = stats(dimensions=["time:day"], metrics=metrics, include={"time_labels": True})
    assert rows(by_time) == rows(by_day) and by_time["meta"] == by_day["meta"]


def test_the_same_days_in_utc(stats):
    response = stats(dimensions=["time:day"], metrics=["visitors", "visits", "pageviews", "bounce_rate",
                                                        "visit_duration"],
                     timezone="UTC", include={"time_labels": True})
    assert rows(response) == [
        ("2026-03-10", 2, 2, 3, 50, 170),
        ("2026-03-11", 3, 3, 4, 33, 420),   # V3 V4 V5 (23:30 UTC): 1 bounce of 3, (60+1200+0)/3
        ("2026-03-12", 0, 0, 0, 0, 0),      # filled: nothing began on the 12th in UTC
    ]
    assert response["meta"]["time_labels"] == ["2026-03-10", "2026-03-11", "2026-03-12"]


def test_a_day_counts_the_visits_that_began_on_it(stats):
    # On the 12th only V5 began; V4's "/about" at 00:10 belongs to the 11th.
    assert rows(stats(date_range=["2026-03-12", "2026-03-12"], metrics=["visitors", "pageviews"])) == [(1, 1)]
    # The 11th holds V4 whole, 1,200 s and both pageviews.
    assert rows(stats(date_range=["2026-03-11", "2026-03-11"], metrics=["pageviews", "visit_duration"])) == [(3, 630)]


def test_pages(stats):
    response = stats(dimensions=["event:page"], metrics=["visitors", "pageviews", "bounce_rate"])
    assert rows(response) == [
        ("/", 3, 3, 33),           # A C D; of the visits V1 V4 V5, V5 bounced
        ("/blog/one", 2, 2, 50),   # B A; V2 bounced, V3 did not
        ("/about", 1, 1, 0),
        ("/pricing", 1, 1, 0),     # the goal on /pricing adds no pageview
    ]


@pytest.mark.parametrize(("dimension", "expected"), [
    ("visit:entry_page", [("/", 3, 3), ("/blog/one", 2, 2)]),
    ("visit:exit_page", [("/blog/one", 2, 2), ("/", 1, 1), ("/about", 1, 1), ("/pricing", 1, 1)]),
    ("visit:source", [("", 2, 2), ("Google", 2, 2), ("X", 1, 1)]),
    ("visit:channel", [("Direct", 2, 2), ("Organic Search", 2, 2), ("Organic Social", 1, 1)]),
    ("visit:country", [("DE", 2, 3), ("FR", 1, 1), ("US", 1, 1)]),
    ("visit:device", [("desktop", 3, 4), ("mobile", 1, 1)]),
    ("event:hostname", [("example.com", 4, 4), ("docs.example.com", 1, 1)]),
    ("time:month", [("2026-03-01", 4, 5)]),
    ("time:week", [("2026-03-09", 4, 5)]),   # the Monday
])
def test_visitors_and_visits_by(stats, dimension, expected):
    assert rows(stats(dimensions=[dimension], metrics=["visitors", "visits"])) == expected


@pytest.mark.parametrize(("dimension", "expected"), [
    ("event:name", [("pageview", 4, 7), ("outbound", 1, 1), ("signup", 1, 1)]),
    ("event:goal", [("signup", 1, 1)]),
    ("event:props:plan", [("(none)", 4, 8), ("pro", 1, 1)]),
])
def test_events_by(stats, dimension, expected):
    assert rows(stats(dimensions=[dimension], metrics=["visitors", "events"])) == expected


@pytest.mark.parametrize(("filters", "expected"), [
    ([["is", "visit:country", ["DE"]]], (2, 3)),                         # A D; V1 V3 V5
    ([["is_not", "event:page", ["/"]]], (3, 4)),                         # events off "/": V1 V2 V3 V4
    ([["contains", "event:page", ["/blog"]]], (2, 2)),
    ([["contains_not", "visit:source", ["o"]]], (3, 3)),                 # not Google: V2 V3 V5
    ([["matches", "visit:entry_page", ["^/$"]]], (3, 3)),
    ([["matches_not", "event:page", ["^/(about|pricing)$"]]], (4, 5)),
    ([["not", ["is", "visit:country", ["DE"]]]], (2, 2)),
    ([["or", [["is", "visit:country", ["FR"]], ["is", "event:goal", ["signup"]]]]], (2, 2)),
    ([["is", "visit:country", ["DE"]], ["is", "visit:source", ["X"]]], (1, 1)),
    ([["is", "visit:exit_page", ["/blog/one"]]], (2, 2)),
    ([["is", "event:props:plan", ["pro"]]], (1, 1)),
    ([["is", "event:hostname", ["docs.example.com"]]], (1, 1)),
])
def test_filters(stats, filters, expected):
    assert rows(stats(filters=filters, metrics=["visitors", "visits"])) == [expected]


def test_a_page_filter_keeps_whole_visits_for_visit_metrics(stats):
    # Visits that saw "/pricing": only V1, with both its pageviews and its 300 s.
    response = stats(filters=[["is", "event:page", ["/pricing"]]],
                     metrics=["visitors", "pageviews", "views_per_visit", "visit_duration", "bounce_rate"])
    assert rows(response) == [(1, 1, 2.0, 300, 0)]


def test_percentage_pagination_and_order(stats):
    assert rows(stats(dimensions=["visit:country"], metrics=["visitors", "percentage"])) == [
        ("DE", 2, 50.0), ("FR", 1, 25.0), ("US", 1, 25.0)]
    page = stats(dimensions=["event:page"], metrics=["visitors"], pagination={"limit": 2, "offset": 1},
                 include={"total_rows": True})
    assert rows(page) == [("/blog/one", 2), ("/about", 1)]
    assert page["meta"]["total_rows"] == 4
    past_the_end = stats(dimensions=["event:page"], metrics=["visitors"], pagination={"limit": 2, "offset": 10},
                         include={"total_rows": True})
    assert (past_the_end["results"], past_the_end["meta"]["total_rows"]) == ([], 4)
    by_bounce = stats(dimensions=["event:page"], metrics=["bounce_rate"], order_by=[["bounce_rate", "desc"]])
    assert rows(by_bounce) == [("/blog/one", 50), ("/", 33), ("/about", 0), ("/pricing", 0)]


def test_previous_period(stats):
    response = stats(date_range=["2026-03-11", "2026-03-12"], metrics=["visitors", "bounce_rate", "visit_duration"],
                     include={"comparison": "previous_period"})
    # Now V3 V4 V5: A C D, 1 bounce in 3, 420 s. Before (9-10 March): V1 V2: 2 visitors, 50 %, 170 s.
    assert response["results"][0]["comparison"] == {"metrics": [2, 50, 170], "change": [50.0, -17, 147.1]}
    assert response["meta"]["comparison_date_range"] == ["2026-03-09T00:00:00+01:00", "2026-03-11T00:00:00+01:00"]


def test_previous_period_by_day_pairs_buckets_by_position(stats):
    response = stats(date_range=["2026-03-11", "2026-03-12"], dimensions=["time:day"], metrics=["visitors"],
                     include={"comparison": "previous_period"})
    assert [(r["dimensions"], r["metrics"], r["comparison"]) for r in response["results"]] == [
        (["2026-03-11"], [2], {"metrics": [0], "change": [None]}),    # against 9 March: nobody
        (["2026-03-12"], [1], {"metrics": [2], "change": [-50.0]}),   # against 10 March: A B
    ]


def test_year_over_year(stats):
    response = stats(date_range=["2026-03-11", "2026-03-12"], metrics=["visitors"],
                     include={"comparison": "year_over_year"})
    assert response["results"][0]["comparison"] == {"metrics": [1], "change": [200.0]}   # E a year ago


def test_all_time_starts_at_the_first_visit(stats):
    response = stats(date_range="all", dimensions=["time:month"], metrics=["visitors"], include={"time_labels": True})
    labels = response["meta"]["time_labels"]
    assert (labels[0], labels[-1], len(labels)) == ("2025-03-01", "2026-03-01", 13)
    assert rows(response)[0] == ("2025-03-01", 1)
    assert rows(response)[-1] == ("2026-03-01", 4)
    assert response["query"]["date_range"] == ["2025-03-11T00:00:00+01:00", "2026-03-14T00:00:00+01:00"]


def test_realtime_counts_the_last_30_minutes_by_event_time(event_store):
    event_store.load(encode_rows(event_row(e) for e in EVENTS))
    now = datetime(2026, 3, 10, 9, 10, tzinfo=timezone.utc)
    query = parse_query({"site_id": "example.com", "date_range": "realtime", "metrics": ["visitors", "pageviews"],
                         "dimensions": ["time:minute"]}, site_timezone="UTC", now=now)
    response = StatsEngine(event_store).run(query, site_id=SITE)
    # Only V1 is recent; the minute of its goal counts the visitor but no pageview.
    assert rows(response) == [("2026-03-10 09:00:00", 1, 1), ("2026-03-10 09:02:00", 1, 1),
                              ("2026-03-10 09:05:00", 1, 0)]


def test_an_empty_site_answers_zeros(event_store):
    engine = StatsEngine(event_store)
    query = parse_query({"site_id": "x", "date_range": "30d", "metrics": HEADLINE,
                         "include": {"comparison": "previous_period"}}, site_timezone="UTC", now=NOW)
    result = engine.run(query, site_id=99)["results"]
    assert result == [{"dimensions": [], "metrics": [0] * 8,
                       "comparison": {"metrics": [0] * 8, "change": [0] * 8}}]


def test_hours_on_the_day_berlin_moves_to_summer_time(event_store):
    events = [*visit("A", "s1", [("2026-03-29 00:30:00", "pageview", "/")]),    # 01:30 CET
              *visit("B", "s2", [("2026-03-29 01:30:00", "pageview", "/")])]    # 03:30 CEST
    event_store.load(encode_rows(event_row(e) for e in events))
    query = parse_query({"site_id": "x", "date_range": ["2026-03-29", "2026-03-29"], "metrics": ["visitors"],
                         "dimensions": ["time:hour"], "include": {"time_labels": True}},
                        site_timezone="Europe/Berlin", now=NOW)
    response = StatsEngine(event_store).run(query, site_id=SITE)
    labels = response["meta"]["time_labels"]
    assert len(labels) == 23 and "2026-03-29 02:00:00" not in labels
    counted = [r for r in rows(response) if r[1]]
    assert counted == [("2026-03-29 01:00:00", 1), ("2026-03-29 03:00:00", 1)]
    assert len(response["results"]) == 23


def test_the_normalised_query_is_echoed(stats):
    echoed = stats(filters=[["not", ["is", "visit:country", ["DE"]]]])["query"]
    assert echoed["date_range"] == ["2026-03-10T00:00:00+01:00", "2026-03-13T00:00:00+01:00"]
    assert echoed["filters"] == [["not", ["is", "visit:country", ["DE"]]]]
    assert (echoed["timezone"], echoed["pagination"]) == ("Europe/Berlin", {"limit": 100, "offset": 0})


ATTRIBUTE_DIMENSIONS = ["visit:referrer", "visit:utm_source", "visit:utm_medium", "visit:utm_campaign",
                        "visit:utm_term", "visit:utm_content", "visit:region", "visit:city", "visit:browser",
                        "visit:browser_version", "visit:os", "visit:os_version"]


@pytest.mark.parametrize("dimension", ATTRIBUTE_DIMENSIONS)
def test_every_visit_attribute_is_a_dimension_and_a_filter(event_store, dimension):
    # Visitor A comes twice with value "a", B once with "b"; a neighbouring site also has "a".
    column = dimension.removeprefix("visit:")
    events = [*visit("A", "s1", [("2026-03-10 09:00:00", "pageview", "/")], **{column: "a"}),
              *visit("A", "s2", [("2026-03-10 12:00:00", "pageview", "/"),
                                 ("2026-03-10 12:01:00", "pageview", "/x")], **{column: "a"}),
              *visit("B", "s3", [("2026-03-10 10:00:00", "pageview", "/")], **{column: "b"}),
              *visit("C", "s4", [("2026-03-10 10:00:00", "pageview", "/")], site_id=2, **{column: "a"})]
    event_store.load(encode_rows(event_row(e) for e in events))
    engine = StatsEngine(event_store)

    def run(**fields):
        raw = {"site_id": "x", "date_range": ["2026-03-10", "2026-03-10"],
               "metrics": ["visitors", "visits", "pageviews", "bounce_rate"]} | fields
        return rows(engine.run(parse_query(raw, site_timezone="UTC", now=NOW), site_id=SITE))

    assert run(dimensions=[dimension]) == [("a", 1, 2, 3, 50), ("b", 1, 1, 1, 100)]
    assert run(filters=[["is", dimension, ["b"]]]) == [(1, 1, 1, 100)]
