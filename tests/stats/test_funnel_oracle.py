"""Property test: for generated visitors (several visits each, pageviews over a few paths, goals,
engagement and other events, ties in time) and generated funnels, the funnel SQL answers
exactly what the plain-Python oracle (funnel_oracle.py) computes — per step and per breakdown
group, on DuckDB and on ClickHouse SQL in chdb."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import stored_event
from funnel_oracle import funnel
from hypothesis_profiles import examples
from postmetric.ingest.event import EventType
from postmetric.sites.funnels import FunnelStep
from postmetric.stats.funnels import funnel_results
from stats_oracle import Row
from test_engine_oracle import WINDOW_START, load_in_batches

PATHS = ["/", "/pricing", "/blog/one", "/blog/two", "/about"]
PAGE_PATTERNS = ["/", "/pricing", "/blog/one", "/blog/*", "/*o*", "/*", "/about"]
GOALS = ["signup", "buy"]
BREAKDOWNS = [None, "visit:source", "visit:country", "visit:entry_page", "visit:exit_page"]

site_ids = itertools.count(100_001, 2)  # apart from the stats oracle's; site + 1 is a neighbour that must not leak


@st.composite
def journeys(draw, site_id: int) -> list:
    """A few visitors, each with a few visits of a few events, within six hours on a one-minute
    grid (ties happen); one visit in ten is the neighbour site's."""
    events = []
    for visitor_number in range(draw(st.integers(2, 6))):
        visitor = uuid.UUID(int=(site_id << 64) | visitor_number)
        for visit_number in range(draw(st.integers(1, 3))):
            site = site_id if draw(st.integers(0, 9)) else site_id + 1
            session = uuid.UUID(int=(site_id << 64) | (1 << 32) | (visitor_number << 8) | visit_number)
            started = WINDOW_START + timedelta(minutes=draw(st.integers(0, 360)))
            attributes = {"source": draw(st.sampled_from(["", "Google", "X"])),
                          "country": draw(st.sampled_from(["DE", "US"])),
                          "entry_page": draw(st.sampled_from(PATHS))}
            moment = started
            for _ in range(draw(st.integers(2, 8))):
                kind = draw(st.sampled_from(["pageview"] * 4 + ["goal"] * 2 + ["engagement", "outbound"]))
                events.append(stored_event(
                    site_id=site, visitor_id=str(visitor), session_id=str(session),
                    session_started_at=started.timestamp(), timestamp=moment.timestamp(), type=EventType(kind),
                    name=draw(st.sampled_from(GOALS)) if kind == "goal" else kind,
                    pathname=draw(st.sampled_from(PATHS)), **attributes,
                ))
                moment += timedelta(minutes=draw(st.sampled_from([0, 1, 1, 5, 20])))
    return events


steps = st.one_of(
    st.builds(FunnelStep, st.just("page"), st.sampled_from(PAGE_PATTERNS), st.sampled_from([None, "Step"])),
    st.builds(FunnelStep, st.just("goal"), st.sampled_from(GOALS), st.none()),
)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_funnel_results_are_the_oracles(shared_event_store, data):
    site_id = next(site_ids)
    events = data.draw(journeys(site_id))
    load_in_batches(shared_event_store, events, data.draw(st.lists(st.integers(0, len(events)), max_size=2)))
    funnel_steps = data.draw(st.lists(steps, min_size=2, max_size=4))
    first, last = data.draw(st.one_of(  # often the whole window, so that funnels get far
        st.tuples(st.integers(0, 30), st.integers(390, 420)),
        st.lists(st.integers(0, 420), min_size=2, max_size=2, unique=True).map(sorted),
    ))
    start, end = (WINDOW_START + timedelta(minutes=m) for m in (first, last))
    breakdown = data.draw(st.sampled_from(BREAKDOWNS))
    limit = data.draw(st.sampled_from([1, 2, 100]))

    answer = funnel_results(shared_event_store, funnel_steps, site_id=site_id, start=start, end=end,
                            breakdown=breakdown, limit=limit)

    assert answer == funnel([Row.of(e) for e in events], funnel_steps, site_id=site_id, start=start, end=end,
                            breakdown=breakdown, limit=limit)
