"""Property test: for generated events and queries, the SQL engine answers exactly what the
plain-Python oracle (stats_oracle.py) computes — on DuckDB and on ClickHouse SQL in chdb.

Events fall in three days around the end of summer time in Europe and the United States'
last weekend of October, on a coarse time grid so that ties (two pageviews in the same
microsecond) happen."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import stored_event
from hypothesis_profiles import examples
from postmetric.ingest.event import EventType
from postmetric.revenue.ledger import merged_delivery, parse_payment
from postmetric.sites.goals import GoalDefinition
from postmetric.stats.engine import StatsEngine
from postmetric.stats.parse import parse_query
from postmetric.stats.query import QueryError
from postmetric.ingest.rows import event_row
from postmetric.store.events import encode_rows
from stats_oracle import Row, answer

WINDOW_START = datetime(2026, 10, 24, tzinfo=timezone.utc)
WINDOW = timedelta(days=3)
ZONES = ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York"]
PATHS = ["/", "/about", "/blog/one", "/blog/two", "/pricing"]
VOCABULARY = {
    "event:page": PATHS, "visit:entry_page": PATHS, "visit:exit_page": PATHS + [""],
    "event:hostname": ["example.com", "docs.example.com"],
    "event:name": ["pageview", "signup", "outbound"], "event:goal": ["signup", "buy", "", "Sign up", "Read blog", "Home"],
    "event:props:plan": ["pro", "free", "(none)"],
    "visit:source": ["", "Google", "X"], "visit:channel": ["Direct", "Organic Search", "Organic Social", ""], "visit:country": ["DE", "US", "FR"], "visit:device": ["desktop", "mobile"],
}
DIMENSIONS = list(VOCABULARY) + ["time:hour", "time:day", "time:week", "time:month", "time:minute"]
METRICS = ["visitors", "visits", "pageviews", "events", "conversions", "views_per_visit", "bounce_rate",
           "visit_duration", "percentage", "revenue", "revenue_new", "revenue_renewal", "refunds", "payments",
           "customers", "revenue_per_visitor", "average_order_value", "conversion_rate"]
PATTERNS = ["^/b", "o$", "^$", "[A-Z]", "e.*e", "pro|free"]
# What identify events carry: visitors of one example share user ids and emails (in any case,
# with spaces), so people of several visitors are drawn often (SPEC §7).
IDENTITIES = st.sampled_from([{"name": "Ann"}, {"user_id": "u1"}, {"user_id": "u1"}, {"user_id": "u2"},
                              {"user_id": "u1", "email": "bob@example.com"}, {"email": "Ann@Example.com"},
                              {"email": " ann@example.com"}, {"user_id": "", "email": "ANN@example.com "}])

# Goal definitions an example may have: display names (one the same as another goal's event
# name), page patterns over PATHS that overlap, so which goal (by id) matches first matters.
GOAL_CHOICES = [("event", "signup", "Sign up"), ("event", "buy", "Purchase"), ("page", "/blog/*", "Read blog"),
                ("page", "/about", "Visit /about"), ("page", "/*o*", "O pages"), ("page", "/pricing", "buy"),
                ("page", "/", "Home")]
goal_sets = st.lists(st.sampled_from(GOAL_CHOICES), max_size=4, unique_by=lambda g: (g[1], g[2])).map(
    lambda chosen: tuple(GoalDefinition(i, kind, what if kind == "event" else None, what if kind == "page" else None,
                                        name) for i, (kind, what, name) in enumerate(chosen, start=1)))

site_ids = itertools.count(10, 2)  # each example its own site; site + 1 is a neighbour whose data must not leak


@st.composite
def visits(draw, site_id: int) -> list:
    events = []
    for number in range(draw(st.integers(1, 10))):
        site = site_id if draw(st.integers(0, 9)) else site_id + 1
        visitor = uuid.UUID(int=(site_id << 64) | draw(st.integers(0, 3)))
        session = uuid.UUID(int=(site_id << 64) | (1 << 32) | number)
        started = WINDOW_START + timedelta(minutes=10 * draw(st.integers(0, 6 * 24 * 3 - 1)))
        attributes = {
            "source": draw(st.sampled_from(VOCABULARY["visit:source"])),
            "channel": draw(st.sampled_from(VOCABULARY["visit:channel"])),
            "country": draw(st.sampled_from(VOCABULARY["visit:country"])),
            "device": draw(st.sampled_from(VOCABULARY["visit:device"])),
            "entry_page": draw(st.sampled_from(PATHS)),
        }
        moment = started
        for _ in range(draw(st.integers(1, 6))):
            kind = draw(st.sampled_from(["pageview"] * 4 + ["engagement", "goal", "outbound", "identify", "identify"]))
            name = draw(st.sampled_from(["signup", "buy"])) if kind == "goal" else kind
            props = draw(st.sampled_from([{}, {"plan": "pro"}, {"plan": "free"}]))
            if kind == "identify":
                props = props | draw(IDENTITIES)
            scroll = draw(st.sampled_from([None, 0, 35, 35, 80, 100])) if kind == "engagement" else None
            events.append(stored_event(
                site_id=site, visitor_id=str(visitor), session_id=str(session),
                session_started_at=started.timestamp(), timestamp=moment.timestamp(),
                type=EventType(kind), name=name, pathname=draw(st.sampled_from(PATHS)),
                hostname=draw(st.sampled_from(VOCABULARY["event:hostname"])), props=props, scroll_depth=scroll,
                **attributes,
            ))
            moment += timedelta(seconds=draw(st.sampled_from([0, 60, 600, 1500])))
    return events


@st.composite
def payments(draw, site_id: int, events: list) -> list:
    """Payments of the example's visitors (or of nobody), linked to one of their visits, to
    another site's, or to none; some in another reporting currency, some refunds and trials."""
    sessions = sorted({e.visit.session_id for e in events}) + [str(uuid.UUID(int=7)), None]
    visitors = sorted({e.visit.visitor_id for e in events}) + [str(uuid.UUID(int=(site_id << 64) | 5))]
    drawn = []
    for number in range(draw(st.integers(0, 8))):
        visitor = draw(st.one_of(st.none(), st.sampled_from(visitors), st.sampled_from(visitors)))
        currency = draw(st.sampled_from(["USD", "USD", "USD", "EUR"]))
        raw = {
            "transaction_id": f"t{draw(st.integers(0, 3))}",
            "amount": draw(st.sampled_from(["0", "9.99", "25", "100.50"])), "currency": currency,
            "timestamp": (WINDOW_START + timedelta(minutes=10 * draw(st.integers(0, 6 * 24 * 3 - 1)))).isoformat(),
            "visitor_id": visitor,
            "session_id": draw(st.one_of(st.none(), st.none(), st.sampled_from(sessions))),
            "email": draw(st.sampled_from([None, "a@example.com", "b@example.com"])),
            "customer_id": draw(st.sampled_from([None, "cus_1"])),
            "renewal": draw(st.booleans()), "refunded": draw(st.integers(0, 4)) == 0,
        }
        drawn.append(parse_payment(raw, site_id=draw(st.sampled_from([site_id] * 5 + [site_id + 1])),
                                   site_currency=currency, now=WINDOW_START + WINDOW,
                                   provider=("api", "stripe")[number % 2]))
    unique = {p.key: p for p in reversed(drawn)}  # the store keeps the first delivery of a key
    return list(unique.values())


def leaf_filters():
    def build(dimension):
        values = VOCABULARY[dimension]
        return st.one_of(
            st.tuples(st.sampled_from(["is", "is_not"]), st.just(dimension),
                      st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True)),
            st.tuples(st.sampled_from(["contains", "contains_not"]), st.just(dimension),
                      st.lists(st.sampled_from(["o", "/b", "e", "x"]), min_size=1, max_size=2, unique=True)),
            st.tuples(st.sampled_from(["matches", "matches_not"]), st.just(dimension),
                      st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=2, unique=True)),
        ).map(list)

    return st.sampled_from(list(VOCABULARY)).flatmap(build)


filters = st.recursive(
    leaf_filters(),
    lambda children: st.one_of(
        st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=1, max_size=3)).map(list),
        children.map(lambda f: ["not", f]),
    ),
    max_leaves=4,
)


@st.composite
def queries(draw) -> dict:
    metrics = draw(st.lists(st.sampled_from(METRICS + ["scroll_depth"]), min_size=1, max_size=4, unique=True))
    dimensions = draw(st.lists(st.sampled_from(DIMENSIONS), max_size=2, unique=True))
    first, last = sorted(draw(st.lists(st.integers(0, 72), min_size=2, max_size=2, unique=True)))
    start, end = (WINDOW_START + timedelta(hours=h) for h in (first, last))
    query = {
        "site_id": "example.com", "metrics": metrics, "dimensions": dimensions,
        "date_range": [start.isoformat(), end.isoformat()],
        "timezone": draw(st.sampled_from(ZONES)),
        "filters": draw(st.lists(filters, max_size=2)),
        "pagination": {"limit": draw(st.sampled_from([1, 3, 100])), "offset": draw(st.sampled_from([0, 0, 1, 2]))},
    }
    if draw(st.booleans()):
        query["order_by"] = [[draw(st.sampled_from(metrics + dimensions)), draw(st.sampled_from(["asc", "desc"]))]]
    return query


def load_in_batches(store, events: list, cuts: list[int]) -> None:
    """As the live loader does: batches cut anywhere, also through a visit, which the
    store's sessions table must put back together."""
    bounds = [0, *sorted(cuts), len(events)]
    for start, end in zip(bounds, bounds[1:]):
        if start < end:
            store.load(encode_rows(event_row(e) for e in events[start:end]))


def stored_example(store, data, site_id: int, *, in_batches: bool = False) -> tuple[list, list]:
    """An example's events and payments, drawn and stored (the events in cut batches if asked)."""
    events = data.draw(visits(site_id))
    cuts = data.draw(st.lists(st.integers(0, len(events)), max_size=3)) if in_batches else []
    load_in_batches(store, events, cuts)
    paid = data.draw(payments(site_id, events))
    store.record_payments(paid, merge=merged_delivery)
    return events, paid


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_engine_answers_like_the_oracle(shared_event_store, data):
    site_id = next(site_ids)
    events, paid = stored_example(shared_event_store, data, site_id, in_batches=True)
    raw = data.draw(queries()) | {"attribution": data.draw(st.sampled_from(["first_touch", "last_touch"]))}
    try:
        query = parse_query(raw, site_timezone="UTC", now=WINDOW_START + WINDOW)
    except QueryError:
        return  # combinations the contract refuses (tested in test_parse.py)
    goals = data.draw(goal_sets)
    response = StatsEngine(shared_event_store).run(query, site_id=site_id, goals=goals)

    expected, total_rows = answer([Row.of(e) for e in events], query, site_id=site_id,
                                  start=query.date_range.start, end=query.date_range.end, payments=paid, goals=goals)
    assert response["results"] == expected
    assert response["meta"].get("total_rows", total_rows) == total_rows


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_goals_and_their_conversion_rates_are_counted_like_the_oracle(shared_event_store, data):
    """The goals panel's query, under goal definitions, by a second dimension or goal filter."""
    site_id = next(site_ids)
    events, paid = stored_example(shared_event_store, data, site_id)
    goals = data.draw(goal_sets)
    names = [g.display_name for g in goals] + ["signup", "buy"]
    raw = {
        "site_id": "example.com", "date_range": [WINDOW_START.isoformat(), (WINDOW_START + WINDOW).isoformat()],
        "metrics": ["visitors", "conversions", "conversion_rate", "revenue"],
        "dimensions": data.draw(st.sampled_from([["event:goal"], ["event:goal", "visit:source"], ["visit:country"],
                                                 ["time:day", "event:goal"], []])),
        "filters": data.draw(st.lists(st.one_of(
            st.tuples(st.just("is"), st.just("event:goal"), st.lists(st.sampled_from(names), min_size=1,
                                                                     max_size=2, unique=True)).map(list),
            filters), max_size=2)),
    }
    try:
        query = parse_query(raw, site_timezone="UTC", now=WINDOW_START + WINDOW)
    except QueryError:
        return
    response = StatsEngine(shared_event_store).run(query, site_id=site_id, goals=goals)

    expected, _ = answer([Row.of(e) for e in events], query, site_id=site_id,
                         start=query.date_range.start, end=query.date_range.end, payments=paid, goals=goals)
    assert response["results"] == expected


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_scroll_depth_of_pages_is_measured_like_the_oracle(shared_event_store, data):
    """Each visitor's deepest scroll per page, averaged: by page, or on filtered pages by a visit attribute."""
    site_id = next(site_ids)
    events, paid = stored_example(shared_event_store, data, site_id)
    by_page = data.draw(st.booleans())
    page_filter = ["is" if by_page else data.draw(st.sampled_from(["is", "is_not"])), "event:page",
                   data.draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=2, unique=True))]
    raw = data.draw(queries()) | {
        "metrics": ["scroll_depth", *data.draw(st.lists(st.sampled_from(["visitors", "pageviews", "bounce_rate"]),
                                                        max_size=2, unique=True))],
        "dimensions": ["event:page", *data.draw(st.lists(st.sampled_from(["visit:source", "visit:exit_page",
                                                                           "time:day"]), max_size=1))]
        if by_page else data.draw(st.lists(st.sampled_from(["visit:country", "visit:exit_page", "time:hour"]),
                                           max_size=1)),
    }
    raw["filters"] = [f for f in raw["filters"] if "event:goal" not in str(f) and "event:name" not in str(f)
                      and "event:props" not in str(f)] + ([] if by_page else [page_filter])
    raw.pop("order_by", None)
    query = parse_query(raw, site_timezone="UTC", now=WINDOW_START + WINDOW)
    response = StatsEngine(shared_event_store).run(query, site_id=site_id)

    expected, _ = answer([Row.of(e) for e in events], query, site_id=site_id,
                         start=query.date_range.start, end=query.date_range.end, payments=paid)
    assert response["results"] == expected


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_revenue_by_visit_attributes_is_credited_like_the_oracle(shared_event_store, data):
    """Attribution at work: every payment in range, split by a visit attribute, both models."""
    site_id = next(site_ids)
    events, paid = stored_example(shared_event_store, data, site_id)
    raw = {
        "site_id": "example.com", "date_range": [WINDOW_START.isoformat(), (WINDOW_START + WINDOW).isoformat()],
        "metrics": data.draw(st.lists(st.sampled_from(METRICS[9:]), min_size=1, max_size=3, unique=True)),
        "dimensions": [data.draw(st.sampled_from(["visit:source", "visit:channel", "visit:country",
                                                  "visit:exit_page", "event:page"]))],
        "attribution": data.draw(st.sampled_from(["first_touch", "last_touch"])),
    }
    query = parse_query(raw, site_timezone="UTC", now=WINDOW_START + WINDOW)
    response = StatsEngine(shared_event_store).run(query, site_id=site_id)

    expected, _ = answer([Row.of(e) for e in events], query, site_id=site_id,
                         start=query.date_range.start, end=query.date_range.end, payments=paid)
    assert response["results"] == expected


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_realtime_counts_events_by_their_own_time(shared_event_store, data):
    site_id = next(site_ids)
    events, paid = stored_example(shared_event_store, data, site_id)
    now = WINDOW_START + timedelta(minutes=10 * data.draw(st.integers(1, 6 * 24 * 3)))
    raw = data.draw(queries()) | {"date_range": "realtime", "include": {"total_rows": True}}
    raw["dimensions"] = [d if not d.startswith("time") else "time:minute" for d in raw["dimensions"]]
    try:
        query = parse_query(raw, site_timezone="UTC", now=now)
    except QueryError:
        return
    goals = data.draw(goal_sets)
    response = StatsEngine(shared_event_store).run(query, site_id=site_id, goals=goals)

    expected, total_rows = answer([Row.of(e) for e in events], query, site_id=site_id, start=now - timedelta(minutes=30),
                                  end=now, by_event_time=True, payments=paid, goals=goals)
    assert response["results"] == expected
    assert response["meta"]["total_rows"] == total_rows
