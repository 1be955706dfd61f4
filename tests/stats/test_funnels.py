"""Funnel results worked out by hand, on DuckDB and on ClickHouse SQL (chdb).

Each test stores a few visitors' events on 1 March 2026 (UTC) and asks one funnel over the
whole day unless it says otherwise; the comments give every visitor's path through the steps.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from factories import stored_event
from postmetric.ingest.event import EventType
from postmetric.sites.funnels import FunnelStep
from postmetric.stats.funnels import funnel_results
from postmetric.ingest.rows import event_row
from postmetric.store.events import encode_rows

SITE = 7
DAY_START = datetime(2026, 3, 1, tzinfo=timezone.utc)
DAY_END = datetime(2026, 3, 2, tzinfo=timezone.utc)
PRICING, SIGNUP, BLOG = FunnelStep("page", "/pricing"), FunnelStep("goal", "signup"), FunnelStep("page", "/blog/*")


def at(clock: str) -> float:
    """Seconds since the epoch of a time of day on 1 March 2026 (UTC), e.g. "10:00:05.5"."""
    return datetime.fromisoformat(f"2026-03-01T{clock}+00:00").timestamp()


def event(visitor: str, clock: str, kind: str = "pageview", what: str = "/", *, visit: str = "v1",
          site_id: int = SITE, **attributes):
    """A pageview of path `what`, or a goal (or other event) named `what`, in the visitor's visit `visit`."""
    is_page = kind in ("pageview", "engagement")
    return stored_event(
        site_id=site_id, visitor_id=_uuid(visitor), session_id=_uuid(visitor + visit), timestamp=at(clock),
        type=EventType(kind), name=kind if is_page else what, pathname=what if is_page else "/",
        **attributes,
    )


def _uuid(label: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, label))


def results(store, events, steps, *, start=DAY_START, end=DAY_END, **options) -> dict:
    store.load(encode_rows(event_row(e) for e in events))
    return funnel_results(store, steps, site_id=SITE, start=start, end=end, **options)


def visitors(answer: dict) -> list[int]:
    return [step["visitors"] for step in answer["steps"]]


def test_steps_count_visitors_with_conversions_and_drop_off(event_store):
    # a: pricing → signup → blog; b: pricing → signup; c: pricing; d: blog only (never step 1)
    answer = results(event_store, [
        event("a", "10:00"), event("a", "10:00:01", what="/pricing"), event("a", "10:00:11", "goal", "signup"),
        event("a", "10:01", what="/blog/x"),
        event("b", "11:00", what="/pricing"), event("b", "11:00:30", "goal", "signup"),
        event("c", "12:00", what="/pricing"),
        event("d", "13:00", what="/blog/x"),
    ], [PRICING, SIGNUP, BLOG])

    assert answer == {"steps": [
        {"index": 1, "type": "page", "match": "/pricing", "label": None, "visitors": 3,
         "conversion_from_previous": 100.0, "conversion_from_first": 100.0, "drop_off": 0,
         "median_seconds_to_next": 10.0},  # gaps 10 s (a) and 30 s (b): the lower median
        {"index": 2, "type": "goal", "match": "signup", "label": None, "visitors": 2,
         "conversion_from_previous": 66.67, "conversion_from_first": 66.67, "drop_off": 1,
         "median_seconds_to_next": 49.0},  # a only: 10:00:11 → 10:01:00
        {"index": 3, "type": "page", "match": "/blog/*", "label": None, "visitors": 1,
         "conversion_from_previous": 50.0, "conversion_from_first": 33.33, "drop_off": 1,
         "median_seconds_to_next": None},
    ]}


def test_out_of_order_steps_do_not_count(event_store):
    # a signs up, then looks at pricing: step 1 only. b does it in order.
    answer = results(event_store, [
        event("a", "10:00", "goal", "signup"), event("a", "10:05", what="/pricing"),
        event("b", "10:00", what="/pricing"), event("b", "10:05", "goal", "signup"),
    ], [PRICING, SIGNUP])

    assert visitors(answer) == [2, 1]
    assert answer["steps"][0]["median_seconds_to_next"] == 300.0


def test_repeated_steps_count_a_visitor_once_from_their_first_step(event_store):
    # a: pricing twice, signup twice; the time to next runs from the first pricing to the first signup after it
    answer = results(event_store, [
        event("a", "10:00", what="/pricing"), event("a", "10:02", what="/pricing"),
        event("a", "10:03", "goal", "signup"), event("a", "10:09", "goal", "signup"),
    ], [PRICING, SIGNUP])

    assert visitors(answer) == [1, 1]
    assert answer["steps"][0]["median_seconds_to_next"] == 180.0


def test_a_step_may_repeat_an_earlier_one(event_store):
    # pricing → signup → pricing: a needs a second pricing after the signup; b has none
    answer = results(event_store, [
        event("a", "10:00", what="/pricing"), event("a", "10:01", "goal", "signup"), event("a", "10:04", what="/pricing"),
        event("b", "10:00", what="/pricing"), event("b", "10:01", what="/pricing"), event("b", "10:02", "goal", "signup"),
    ], [PRICING, SIGNUP, PRICING])

    assert visitors(answer) == [2, 2, 1]


def test_steps_across_visits_count(event_store):
    # pricing in the morning visit, signup in the evening one (another visit, another source)
    answer = results(event_store, [
        event("a", "09:00", what="/pricing", visit="morning", source="Google"),
        event("a", "20:00", "goal", "signup", visit="evening", source="X"),
    ], [PRICING, SIGNUP], breakdown="visit:source")

    assert visitors(answer) == [1, 1]
    assert answer["steps"][0]["median_seconds_to_next"] == 11 * 3600.0
    # the visitor belongs to the source of the visit of their first step
    assert [(group["value"], visitors(group)) for group in answer["breakdown"]] == [("Google", [1, 1])]


def test_a_step_at_the_same_time_does_not_advance(event_store):
    # a: pricing and signup in the same microsecond; b: signup 1 µs after pricing
    answer = results(event_store, [
        event("a", "10:00:00", what="/pricing"), event("a", "10:00:00", "goal", "signup"),
        event("b", "10:00:00", what="/pricing"), event("b", "10:00:00.000001", "goal", "signup"),
    ], [PRICING, SIGNUP])

    assert visitors(answer) == [2, 1]
    assert answer["steps"][0]["median_seconds_to_next"] == 0.000001


def test_steps_outside_the_range_do_not_count(event_store):
    # range 10:00–12:00. a: pricing 09:59 (before), signup 10:30 → not in step 1.
    # b: pricing 10:00 (the start counts), signup 12:00 (the end does not). c: both inside.
    answer = results(event_store, [
        event("a", "09:59", what="/pricing"), event("a", "10:30", "goal", "signup"),
        event("b", "10:00", what="/pricing"), event("b", "12:00", "goal", "signup"),
        event("c", "11:00", what="/pricing"), event("c", "11:59:59", "goal", "signup"),
    ], [PRICING, SIGNUP], start=datetime(2026, 3, 1, 10, tzinfo=timezone.utc),
        end=datetime(2026, 3, 1, 12, tzinfo=timezone.utc))

    assert visitors(answer) == [2, 1]


def test_the_median_is_the_lower_one_of_an_even_count_and_the_middle_of_an_odd(event_store):
    # gaps to signup: a 10 s, b 20.5 s, c 30 s, d 40 s (even: lower median 20.5); to blog: a 1 s, b 2 s, c 3 s
    events = []
    for visitor, (signup_after, blog_after) in {"a": ("10:00:10", "10:00:11"), "b": ("10:00:20.5", "10:00:22.5"),
                                                "c": ("10:00:30", "10:00:33"), "d": ("10:00:40", None)}.items():
        events += [event(visitor, "10:00:00", what="/pricing"), event(visitor, signup_after, "goal", "signup")]
        if blog_after:
            events.append(event(visitor, blog_after, what="/blog/post"))
    answer = results(event_store, events, [PRICING, SIGNUP, BLOG])

    assert visitors(answer) == [4, 4, 3]
    assert [step["median_seconds_to_next"] for step in answer["steps"]] == [20.5, 2.0, None]


def test_nobody_reaching_the_next_step_has_no_median(event_store):
    answer = results(event_store, [event("a", "10:00", what="/pricing")], [PRICING, SIGNUP])

    assert answer["steps"][0]["median_seconds_to_next"] is None
    assert answer["steps"][1] == {"index": 2, "type": "goal", "match": "signup", "label": None, "visitors": 0,
                                  "conversion_from_previous": 0.0, "conversion_from_first": 0.0,
                                  "drop_off": 1, "median_seconds_to_next": None}


def test_an_empty_funnel_is_all_zero(event_store):
    answer = results(event_store, [event("a", "10:00", what="/elsewhere")], [PRICING, SIGNUP])

    assert [(s["visitors"], s["conversion_from_previous"], s["conversion_from_first"], s["drop_off"])
            for s in answer["steps"]] == [(0, 0.0, 0.0, 0), (0, 0.0, 0.0, 0)]


def test_breakdown_credits_the_source_of_the_step_1_visit(event_store):
    # a: Google visit (home only), then an X visit with pricing and signup → X.
    # b: Google visit with pricing, then a direct visit with signup → Google. c: X, pricing only.
    answer = results(event_store, [
        event("a", "09:00", visit="1", source="Google"),
        event("a", "10:00", what="/pricing", visit="2", source="X"),
        event("a", "10:01", "goal", "signup", visit="2", source="X"),
        event("b", "09:00", what="/pricing", visit="1", source="Google"),
        event("b", "15:00", "goal", "signup", visit="2", source=""),
        event("c", "11:00", what="/pricing", source="X"),
    ], [PRICING, SIGNUP], breakdown="visit:source")

    assert [(group["value"], visitors(group)) for group in answer["breakdown"]] == [("X", [2, 1]), ("Google", [1, 1])]
    x = answer["breakdown"][0]["steps"]
    assert (x[1]["conversion_from_previous"], x[1]["drop_off"], x[0]["median_seconds_to_next"]) == (50.0, 1, 60.0)
    assert visitors(answer) == [3, 2]  # the whole funnel beside the groups


def test_breakdown_groups_are_ordered_by_step_1_visitors_then_value_and_limited(event_store):
    events = [event(name, "10:00", what="/pricing", country=country)
              for name, country in [("a", "US"), ("b", "DE"), ("c", "FR"), ("d", "US"), ("e", "DE")]]
    answer = results(event_store, events, [PRICING, SIGNUP], breakdown="visit:country", limit=2)

    assert [(group["value"], visitors(group)) for group in answer["breakdown"]] == [("DE", [2, 0]), ("US", [2, 0])]


def test_breakdown_by_exit_page_takes_the_step_1_visits_last_pageview(event_store):
    # a's pricing visit goes on to /about (its exit page); the signup is in a later visit
    answer = results(event_store, [
        event("a", "10:00", what="/pricing", visit="1"), event("a", "10:02", what="/about", visit="1"),
        event("a", "12:00", "goal", "signup", visit="2"), event("a", "12:00:01", what="/thanks", visit="2"),
    ], [PRICING, SIGNUP], breakdown="visit:exit_page")

    assert [(group["value"], visitors(group)) for group in answer["breakdown"]] == [("/about", [1, 1])]


def test_page_patterns_match_the_whole_path_with_star_for_any_characters(event_store):
    # /blog/* takes /blog/a/b and /blog/; not /blog or /blogger. Other characters are literal.
    events = [event(name, "10:00", what=path) for name, path in [
        ("a", "/blog/a/b"), ("b", "/blog/"), ("c", "/blog"), ("d", "/blogger"), ("e", "/x/blog/a")]]
    events += [event(name, "10:00", what=path) for name, path in [
        ("f", "/docs/a/b.html"), ("g", "/docs/a/bxhtml"), ("h", "/100%_off"), ("i", "/100x_off"), ("j", "/100%-off")]]
    events += [event(name, "11:00", "goal", "signup") for name in "abcdefghij"]

    def step_1_visitors(pattern: str) -> int:
        return funnel_results(event_store, [FunnelStep("page", pattern), SIGNUP], site_id=SITE, start=DAY_START,
                              end=DAY_END)["steps"][0]["visitors"]

    event_store.load(encode_rows(event_row(e) for e in events))
    assert step_1_visitors("/blog/*") == 2  # a, b
    assert step_1_visitors("/docs/*.html") == 1  # f: the dot is a dot
    assert step_1_visitors("/100%_off") == 1  # h: % and _ are themselves
    assert step_1_visitors("/100*_off") == 2  # h, i
    assert step_1_visitors("/*") == 10


def test_engagement_and_other_events_never_match(event_store):
    # a: an engagement event on /pricing, and a pageview of /pricing after the signup: no step 1 before it.
    # b: an outbound event named like the goal does not make step 2.
    answer = results(event_store, [
        event("a", "10:00", "engagement", "/pricing"), event("a", "10:01", "goal", "signup"),
        event("a", "10:02", what="/pricing"),
        event("b", "10:00", what="/pricing"), event("b", "10:01", "outbound", "signup"),
    ], [PRICING, SIGNUP])

    assert visitors(answer) == [2, 0]


def test_a_goal_step_matches_its_name_only(event_store):
    answer = results(event_store, [
        event("a", "10:00", what="/pricing"), event("a", "10:01", "goal", "signup_done"),
        event("b", "10:00", what="/pricing"), event("b", "10:01", "goal", "signup"),
    ], [PRICING, SIGNUP])

    assert visitors(answer) == [2, 1]


def test_another_sites_events_do_not_count(event_store):
    answer = results(event_store, [
        event("a", "10:00", what="/pricing"), event("a", "10:01", "goal", "signup", site_id=SITE + 1),
        event("b", "10:00", what="/pricing", site_id=SITE + 1),
    ], [PRICING, SIGNUP])

    assert visitors(answer) == [1, 0]
