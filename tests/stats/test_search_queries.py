"""search:* metrics and dimensions in the query API, over Search Console rows written through the store, on
DuckDB and on ClickHouse SQL in chdb: worked numbers, the page filter, comparisons, the refusals of what
Search Console data cannot answer, other sites' rows; and a property test against the plain-Python
oracle (search_oracle.py)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from postmetric.stats import registry
from postmetric.stats.engine import StatsEngine
from postmetric.stats.parse import parse_query
from postmetric.stats.query import QueryError
from postmetric.store.search import SearchRow
from search_oracle import answer, days_of

SITE, NEIGHBOUR = 1, 2
NOW = datetime(2026, 3, 20, 12, tzinfo=timezone.utc)
ALL = ["search:clicks", "search:impressions", "search:ctr", "search:position"]


def row(day: str, query: str, path: str = "/", *, clicks: int, impressions: int, position: float,
        country: str = "DE", device: str = "desktop") -> SearchRow:
    return SearchRow(day=date.fromisoformat(day), query=query, page=f"https://example.com{path}", path=path,
                     country=country, device=device, clicks=clicks, impressions=impressions, position=position)


ROWS = [
    row("2026-03-02", "postmetric", clicks=30, impressions=60, position=1.0),
    row("2026-03-02", "postmetric", "/pricing", clicks=5, impressions=40, position=2.5, device="mobile"),
    row("2026-03-03", "postmetric", clicks=20, impressions=100, position=1.3, country="US"),
    row("2026-03-03", "web analytics", "/blog/analytics", clicks=2, impressions=400, position=14.2),
    row("2026-03-04", "web analytics", "/pricing", clicks=0, impressions=100, position=31.0, country="US",
        device="tablet"),
    # The previous week, for comparisons.
    row("2026-02-24", "postmetric", clicks=10, impressions=50, position=1.5),
    row("2026-02-26", "web analytics", "/blog/analytics", clicks=4, impressions=200, position=18.0),
]


def ask(store, site_id: int = SITE, **fields) -> dict:
    raw = {"site_id": "example.com", "date_range": ["2026-03-02", "2026-03-08"]} | fields
    return StatsEngine(store).run(parse_query(raw, site_timezone="Europe/Berlin", now=NOW), site_id=site_id)


@pytest.fixture
def store(event_store):
    event_store.replace_search_rows(SITE, date(2026, 2, 1), date(2026, 3, 31), ROWS)
    # The neighbour ranks for the same query on the same days: none of it may show.
    event_store.replace_search_rows(NEIGHBOUR, date(2026, 3, 1), date(2026, 3, 31), [
        row("2026-03-03", "postmetric", clicks=999, impressions=1000, position=9.0)])
    return event_store


def test_clicks_impressions_ctr_and_the_impression_weighted_position(store):
    answer_ = ask(store, metrics=ALL, dimensions=["search:query"])
    assert answer_["results"] == [
        # 55 / 200 = 27.5 %; (60 × 1.0 + 40 × 2.5 + 100 × 1.3) / 200 = 1.45 → 1.5 (half up), not the
        # mean of the rows' positions (1.6).
        {"dimensions": ["postmetric"], "metrics": [55, 200, 27.5, 1.5]},
        # 2 / 500 = 0.4 %; (400 × 14.2 + 100 × 31) / 500 = 17.56 → 17.6.
        {"dimensions": ["web analytics"], "metrics": [2, 500, 0.4, 17.6]},
    ]
    totals = ask(store, metrics=ALL)
    # 57 / 700 = 8.142… %; (290 + 8780) / 700 = 12.957… → 13.0.
    assert totals["results"] == [{"dimensions": [], "metrics": [57, 700, 8.14, 13.0]}]


def test_splits_by_page_country_device_and_day(store):
    by_page = ask(store, metrics=["search:clicks", "search:impressions"], dimensions=["search:page"])
    assert [r["dimensions"] + r["metrics"] for r in by_page["results"]] == [
        ["/", 50, 160], ["/pricing", 5, 140], ["/blog/analytics", 2, 400]]
    by_country_device = ask(store, metrics=["search:impressions"], dimensions=["search:country", "search:device"])
    assert [r["dimensions"] + r["metrics"] for r in by_country_device["results"]] == [
        ["DE", "desktop", 460], ["US", "desktop", 100], ["US", "tablet", 100], ["DE", "mobile", 40]]
    by_day = ask(store, metrics=["search:clicks", "search:position"], dimensions=["time:day"],
                 include={"time_labels": True})
    assert by_day["meta"]["time_labels"] == [f"2026-03-0{d}" for d in range(2, 9)]
    assert [r["dimensions"] + r["metrics"] for r in by_day["results"]] == [
        ["2026-03-02", 35, 1.6], ["2026-03-03", 22, 11.6], ["2026-03-04", 0, 31.0],
        # Days without rows: no clicks, and no position (nothing was measured).
        *([f"2026-03-0{d}", 0, None] for d in range(5, 9))]


def test_the_page_filter_reads_the_results_path(store):
    pricing = ask(store, metrics=ALL, dimensions=["search:query"], filters=[["is", "event:page", ["/pricing"]]])
    assert [r["dimensions"] + r["metrics"] for r in pricing["results"]] == [
        ["postmetric", 5, 40, 12.5, 2.5], ["web analytics", 0, 100, 0.0, 31.0]]
    blog = ask(store, metrics=["search:clicks"], filters=[["contains", "event:page", ["/blog"]]])
    assert blog["results"][0]["metrics"] == [2]
    not_home = ask(store, metrics=["search:clicks"], dimensions=["search:page"],
                   filters=[["matches_not", "search:page", ["^/$"]], ["is", "search:country", ["US"]]])
    assert [r["dimensions"] + r["metrics"] for r in not_home["results"]] == [["/pricing", 0]]


def test_previous_period_compares_as_many_days_before(store):
    answer_ = ask(store, metrics=["search:clicks", "search:ctr", "search:position"], dimensions=["search:query"],
                  include={"comparison": "previous_period"})
    assert answer_["meta"]["comparison_date_range"] == ["2026-02-23T00:00:00+01:00", "2026-03-02T00:00:00+01:00"]
    by_query = {r["dimensions"][0]: r for r in answer_["results"]}
    # postmetric: 10 clicks of 50 at 1.5 → 55 of 200 at 1.45: +450 %, 20 → 27.5 % (+7.5 points), −0.0 points.
    assert by_query["postmetric"]["comparison"] == {"metrics": [10, 20.0, 1.5], "change": [450.0, 7.5, 0.0]}
    # web analytics: 4 of 200 at 18 → 2 of 500 at 17.56: −50 %, 2 % → 0.4 % (−1.6 points), −0.4 points.
    assert by_query["web analytics"]["comparison"] == {"metrics": [4, 2.0, 18.0], "change": [-50.0, -1.6, -0.4]}


def test_days_pair_with_the_days_a_period_before(store):
    answer_ = ask(store, metrics=["search:clicks"], dimensions=["time:day"],
                  include={"comparison": "previous_period", "time_labels": True})
    pairs = [(r["dimensions"][0], r["metrics"][0], r["comparison"]["metrics"][0]) for r in answer_["results"]]
    assert pairs[:5] == [("2026-03-02", 35, 0), ("2026-03-03", 22, 10), ("2026-03-04", 0, 0),
                         ("2026-03-05", 0, 4), ("2026-03-06", 0, 0)]


def test_a_range_across_a_change_of_clocks_compares_whole_days(event_store):
    """29 March 2026: Berlin's day of 23 hours. The week before is seven whole days too."""
    event_store.replace_search_rows(SITE, date(2026, 3, 22), date(2026, 4, 4), [
        row("2026-03-22", "a", clicks=1, impressions=1, position=1.0),
        row("2026-03-28", "a", clicks=2, impressions=2, position=1.0),
        row("2026-03-29", "a", clicks=4, impressions=4, position=1.0),
        row("2026-04-04", "a", clicks=8, impressions=8, position=1.0)])
    answer_ = ask(event_store, metrics=["search:clicks"], date_range=["2026-03-29", "2026-04-04"],
                  include={"comparison": "previous_period"})
    assert answer_["results"][0]["metrics"] == [12]
    assert answer_["results"][0]["comparison"]["metrics"] == [3]  # 22 to 28 March, not a day more or less


def test_the_days_before_1970_hold_no_rows(event_store):
    """ClickHouse's Date reads a day before 1970 as 1 January 1970: the week before it must still be empty."""
    event_store.replace_search_rows(SITE, date(1970, 1, 1), date(1970, 1, 1), [
        row("1970-01-01", "a", clicks=3, impressions=3, position=1.0)])
    answer_ = ask(event_store, metrics=["search:clicks"], date_range=["1970-01-01", "1970-01-07"], timezone="UTC",
                  include={"comparison": "previous_period"})
    assert answer_["results"][0]["metrics"] == [3] and answer_["results"][0]["comparison"]["metrics"] == [0]


def test_all_time_begins_on_the_first_day_with_rows(store):
    answer_ = ask(store, metrics=["search:clicks"], dimensions=["time:week"], date_range="all",
                  include={"time_labels": True})
    assert answer_["query"]["date_range"][0] == "2026-02-24T00:00:00+01:00"
    assert answer_["meta"]["time_labels"][:3] == ["2026-02-23", "2026-03-02", "2026-03-09"]
    assert [r["metrics"][0] for r in answer_["results"][:2]] == [14, 57]
    nothing = ask(store, site_id=77, metrics=["search:clicks"], date_range="all")
    assert nothing["results"] == [{"dimensions": [], "metrics": [0]}]


def test_rows_are_sorted_and_paged_like_other_queries(store):
    first = ask(store, metrics=["search:impressions"], dimensions=["search:query", "search:page"],
                order_by=[["search:impressions", "asc"]], include={"total_rows": True}, pagination={"limit": 2})
    second = ask(store, metrics=["search:impressions"], dimensions=["search:query", "search:page"],
                 order_by=[["search:impressions", "asc"]], pagination={"limit": 2, "offset": 2})
    assert first["meta"]["total_rows"] == 4
    assert [r["metrics"][0] for r in first["results"] + second["results"]] == [40, 100, 160, 400]
    by_position = ask(store, metrics=["search:position"], dimensions=["search:page"],
                      order_by=[["search:position", "asc"]])
    assert [r["dimensions"][0] for r in by_position["results"]] == ["/", "/blog/analytics", "/pricing"]  # 1.2, 14.2, 22.9


def test_another_sites_rows_never_count(store):
    assert ask(store, metrics=["search:clicks"])["results"][0]["metrics"] == [57]
    assert ask(store, site_id=NEIGHBOUR, metrics=["search:clicks"])["results"][0]["metrics"] == [999]
    assert ask(store, site_id=99, metrics=ALL)["results"] == [{"dimensions": [], "metrics": [0, 0, None, None]}]


# -- what Search Console data cannot answer ----------------------------------------------------------


def refused(**fields) -> str:
    raw = {"site_id": "example.com", "date_range": "7d", "metrics": ["search:clicks"]} | fields
    with pytest.raises(QueryError) as error:
        parse_query(raw, site_timezone="UTC", now=NOW)
    return str(error.value)


@pytest.mark.parametrize("other", ["visitors", "visits", "revenue", "conversion_rate", "percentage"])
def test_search_metrics_do_not_mix_with_visit_metrics(other):
    assert refused(metrics=["search:clicks", other]).startswith(
        f"metrics: {other} cannot be asked together with search:clicks: search:* metrics come from Search Console")
    assert refused(metrics=[other, "search:ctr"]).startswith(f"metrics: {other} cannot be asked together with search:ctr")


@pytest.mark.parametrize("dimension", [d for d in registry.EVENT_DIMENSIONS + registry.VISIT_DIMENSIONS
                                       if d != "event:page"] + ["event:props:plan"])
def test_search_metrics_split_by_search_dimensions_only(dimension):
    assert refused(dimensions=[dimension]).startswith(f"dimensions: {dimension} is not in Search Console data")


def test_a_page_split_of_search_metrics_is_search_page():
    assert refused(dimensions=["event:page"]) == (
        "dimensions: search:clicks splits by search:page, the result's path, not event:page")


@pytest.mark.parametrize("dimension", [d for d in registry.EVENT_DIMENSIONS + registry.VISIT_DIMENSIONS
                                       if d != "event:page" and registry.is_filterable(d)])
def test_search_metrics_filter_by_search_dimensions_and_the_page_only(dimension):
    message = refused(filters=[["not", ["is", dimension, ["x"]]]])
    assert message.startswith(f"filters: {dimension} is not in Search Console data")


@pytest.mark.parametrize("dimension", ["time:minute", "time:hour"])
def test_search_metrics_have_days_not_hours(dimension):
    assert refused(dimensions=[dimension]).startswith(f"dimensions: Search Console reports whole days: {dimension}")


def test_search_metrics_have_no_realtime():
    assert refused(date_range="realtime").startswith("date_range: Search Console reports whole days")


@pytest.mark.parametrize("dimension", registry.SEARCH_DIMENSIONS)
def test_search_dimensions_belong_to_search_metrics(dimension):
    assert refused(metrics=["visitors"], dimensions=[dimension]).startswith(
        f"dimensions: {dimension} splits search:* metrics only")
    assert refused(metrics=["pageviews"], filters=[["is", dimension, ["x"]]]).startswith(
        f"filters: {dimension} filters search:* metrics only")


# -- the property: the engine answers as the oracle -----------------------------------------------------

WINDOW = date(2026, 10, 20)  # 25 October: the end of summer time in Europe
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
QUERIES = ["postmetric", "Postmetric", "web analytics", "analytics ", "日本語", "it's"]
PATHS = ["/", "/pricing", "/blog/one", "/Blog/two"]
VOCABULARY = {"search:query": QUERIES, "search:page": PATHS, "event:page": PATHS,
              "search:country": ["DE", "US", ""], "search:device": ["desktop", "mobile", "tablet"]}
site_ids = itertools.count(100, 2)  # each example its own site; site + 1 is a neighbour


@st.composite
def search_rows(draw) -> list[SearchRow]:
    rows = []
    for _ in range(draw(st.integers(0, 25))):
        path = draw(st.sampled_from(PATHS))
        impressions = draw(st.integers(0, 300))
        rows.append(SearchRow(
            day=WINDOW + timedelta(days=draw(st.integers(0, 20))), query=draw(st.sampled_from(QUERIES)),
            page=f"https://example.com{path}", path=path, country=draw(st.sampled_from(VOCABULARY["search:country"])),
            device=draw(st.sampled_from(VOCABULARY["search:device"])),
            clicks=draw(st.integers(0, impressions)), impressions=impressions,
            position=draw(st.floats(1.0, 90.0, allow_nan=False))))
    return rows


def leaf_filter():
    return st.sampled_from(list(VOCABULARY)).flatmap(lambda dimension: st.one_of(
        st.tuples(st.sampled_from(["is", "is_not"]), st.just(dimension),
                  st.lists(st.sampled_from(VOCABULARY[dimension]), min_size=1, max_size=2, unique=True)),
        st.tuples(st.sampled_from(["contains", "contains_not"]), st.just(dimension),
                  st.lists(st.sampled_from(["o", "/b", "e", "S", "'"]), min_size=1, max_size=2, unique=True)),
        st.tuples(st.sampled_from(["matches", "matches_not"]), st.just(dimension),
                  st.lists(st.sampled_from(["^/b", "s$", "^$", "[A-Z]", "^.$"]), min_size=1, max_size=2,
                           unique=True)),
    ).map(list))


search_filters = st.recursive(leaf_filter(), lambda children: st.one_of(
    st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=1, max_size=3)).map(list),
    children.map(lambda f: ["not", f])), max_leaves=3)


@st.composite
def search_queries(draw) -> dict:
    dimensions = draw(st.lists(st.sampled_from(registry.SEARCH_DIMENSIONS), max_size=2, unique=True))
    if draw(st.booleans()):
        dimensions.insert(draw(st.integers(0, len(dimensions))),
                          draw(st.sampled_from(["time", "time:day", "time:week", "time:month"])))
    first = WINDOW + timedelta(days=draw(st.integers(0, 20)))
    last = first + timedelta(days=draw(st.integers(0, 10)))
    return {"site_id": "example.com", "date_range": [first.isoformat(), last.isoformat()],
            "metrics": draw(st.lists(st.sampled_from(ALL), min_size=1, max_size=4, unique=True)),
            "dimensions": dimensions, "filters": draw(st.lists(search_filters, max_size=2)),
            "timezone": draw(st.sampled_from(ZONES)), "pagination": {"limit": 10_000}}


@settings(max_examples=examples(120), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_engine_answers_like_the_oracle(shared_event_store, data):
    site_id = next(site_ids)
    rows, neighbours = data.draw(search_rows()), data.draw(search_rows())
    span = (WINDOW, WINDOW + timedelta(days=20))
    shared_event_store.replace_search_rows(site_id, *span, rows)
    shared_event_store.replace_search_rows(site_id + 1, *span, neighbours)
    raw = data.draw(search_queries())
    comparison = not any(d.startswith("time") for d in raw["dimensions"]) and data.draw(st.booleans())
    if comparison:
        raw["include"] = {"comparison": "previous_period"}
    query = parse_query(raw, site_timezone="UTC", now=datetime(2026, 12, 1, tzinfo=timezone.utc))
    response = StatsEngine(shared_event_store).run(query, site_id=site_id)

    first, last = days_of(query.date_range.start, query.date_range.end, query.timezone)
    expected = answer(rows, first=first, last=last, metrics=raw["metrics"], dimensions=raw["dimensions"],
                      filters=raw["filters"])
    assert [{"dimensions": r["dimensions"], "metrics": r["metrics"]} for r in response["results"]] == expected
    if comparison:
        days = (last - first).days + 1
        before = {tuple(r["dimensions"]): r["metrics"] for r in answer(
            rows, first=first - timedelta(days=days), last=first - timedelta(days=1), metrics=raw["metrics"],
            dimensions=raw["dimensions"], filters=raw["filters"])}
        for result in response["results"]:
            nothing = [None if m in ("search:ctr", "search:position") else 0 for m in raw["metrics"]]
            assert result["comparison"]["metrics"] == before.get(tuple(result["dimensions"]), nothing)
