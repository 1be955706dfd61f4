"""Parsing queries: every registered name is accepted, every invalid query names its field."""

from datetime import datetime, timezone

import pytest

from postmetric.stats import registry
from postmetric.stats.parse import parse_query
from postmetric.stats.query import DateRange, Filter, Logical, QueryError

NOW = datetime(2026, 3, 29, 10, 30, tzinfo=timezone.utc)  # the day Berlin moves to summer time


def parse(**fields):
    return parse_query({"site_id": "pm_AbCdEf123456", "date_range": "7d", "metrics": ["visitors"]} | fields,
                       site_timezone="Europe/Berlin", now=NOW)


def _nested_nots(depth: int) -> list:
    nested: list = ["is", "event:page", ["/"]]
    for _ in range(depth):
        nested = ["not", nested]
    return nested


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_the_spec_example_parses():
    query = parse_query({
        "site_id": "pm_AbC123xyz", "date_range": "30d", "metrics": ["visitors", "pageviews", "bounce_rate"],
        "dimensions": ["visit:source"],
        "filters": [["is", "visit:country", ["DE", "FR"]], ["contains", "event:page", ["/blog"]]],
        "order_by": [["pageviews", "desc"]],
        "include": {"comparison": "previous_period", "time_labels": False, "total_rows": True},
        "pagination": {"limit": 100, "offset": 0}, "timezone": "Europe/Berlin", "attribution": "first_touch",
    }, site_timezone="UTC", now=NOW)
    assert query.metrics == ("visitors", "pageviews", "bounce_rate")
    assert query.filters == (Filter("is", "visit:country", ("DE", "FR")), Filter("contains", "event:page", ("/blog",)))
    assert (query.order_by, query.comparison, query.total_rows, query.limit) == (
        (("pageviews", "desc"),), "previous_period", True, 100)
    assert query.date_range == DateRange(utc(2026, 2, 27, 23), utc(2026, 3, 29, 22), "30d")


@pytest.mark.parametrize("metric", [m for m in registry.METRICS if m not in registry.PENDING_METRICS])
def test_every_available_metric_is_accepted(metric):
    dimensions = {"scroll_depth": ["event:page"]}.get(metric, ["visit:source"])  # measured per page
    if metric in registry.SEARCH_METRICS:
        dimensions = ["search:query"]  # Search Console's rows know nothing of visits
    assert parse(metrics=[metric], dimensions=dimensions).metrics == (metric,)


@pytest.mark.parametrize("metric", registry.PENDING_METRICS)
def test_metrics_not_built_yet_say_so(metric):
    with pytest.raises(QueryError, match=f"^metrics: {metric} is not available yet: "):
        parse(metrics=["visitors", metric])


@pytest.mark.parametrize("dimension", ["event:goal", "event:name", "event:props:plan"])
@pytest.mark.parametrize("metric", registry.VISIT_METRICS)
def test_visit_metrics_do_not_split_by_single_events(metric, dimension):
    with pytest.raises(QueryError, match=f"^metrics: {metric} describes whole visits and cannot be split by {dimension}"):
        parse(metrics=["visitors", metric], dimensions=[dimension])


@pytest.mark.parametrize("dimension", ["event:page", "event:hostname", "visit:exit_page", "time:day"])
def test_visit_metrics_split_by_pages_and_visits(dimension):
    assert parse(metrics=["bounce_rate"], dimensions=[dimension]).dimensions == (dimension,)


@pytest.mark.parametrize("dimension", registry.TIME_DIMENSIONS + registry.EVENT_DIMENSIONS
                         + registry.VISIT_DIMENSIONS + ("event:props:plan",))
def test_every_dimension_is_accepted(dimension):
    assert parse(dimensions=[dimension]).dimensions == (dimension,)


@pytest.mark.parametrize("operator", registry.FILTER_OPERATORS)
def test_every_filter_operator_is_accepted(operator):
    assert parse(filters=[[operator, "event:page", ["/a.*"]]]).filters == (Filter(operator, "event:page", ("/a.*",)),)


def test_logical_filters_nest():
    query = parse(filters=[["or", [["is", "visit:country", ["DE"]], ["not", ["contains", "event:page", ["/x"]]]]]])
    assert query.filters == (Logical("or", (Filter("is", "visit:country", ("DE",)),
                                            Logical("not", (Filter("contains", "event:page", ("/x",)),)))),)


@pytest.mark.parametrize(
    "label, start, end",
    [
        ("realtime", utc(2026, 3, 29, 10, 0), NOW),
        ("24h", utc(2026, 3, 28, 10, 30), NOW),
        # Berlin midnights: UTC+1 before 02:00 on the 29th, UTC+2 after
        ("day", utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)),
        ("7d", utc(2026, 3, 22, 23), utc(2026, 3, 29, 22)),
        ("month", utc(2026, 2, 28, 23), utc(2026, 3, 31, 22)),
        ("6mo", utc(2025, 9, 30, 22), utc(2026, 3, 31, 22)),
        ("12mo", utc(2025, 3, 31, 22), utc(2026, 3, 31, 22)),
        ("year", utc(2025, 12, 31, 23), utc(2026, 12, 31, 23)),
        ("all", utc(1970, 1, 1), utc(2026, 3, 29, 22)),
        (["2026-03-01", "2026-03-01"], utc(2026, 2, 28, 23), utc(2026, 3, 1, 23)),
        (["2026-03-01T08:00:00", "2026-03-01T09:00:00+00:00"], utc(2026, 3, 1, 7), utc(2026, 3, 1, 9)),
    ],
)
def test_date_ranges_resolve_in_the_query_timezone(label, start, end):
    assert parse(date_range=label).date_range == DateRange(start, end, label if isinstance(label, str) else None)


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"metrics": []}, "metrics", "non-empty list"),
        ({"metrics": ["visitors", "clicks"]}, "metrics", "unknown metric 'clicks'"),
        ({"metrics": ["visitors", "visitors"]}, "metrics", "twice"),
        ({"metrics": ["percentage"]}, "metrics", "percentage needs a dimension"),
        ({"dimensions": ["visit:planet"]}, "dimensions", "unknown dimension 'visit:planet'"),
        ({"dimensions": ["event:props:Bad Key"]}, "dimensions", "unknown dimension"),
        ({"dimensions": ["time:day", "time:hour"]}, "dimensions", "at most one time dimension"),
        ({"date_range": "yesterday-ish"}, "date_range", "unknown range"),
        ({"date_range": ["2026-03-05", "2026-03-01"]}, "date_range", "start must be before end"),
        ({"date_range": ["2026-13-01", "2026-03-01"]}, "date_range", "is not an ISO date"),
        ({"date_range": None}, "date_range", "is required"),
        ({"filters": [["equals", "event:page", ["/"]]]}, "filters[0]", "unknown operator 'equals'"),
        ({"filters": [["is", "time:day", ["x"]]]}, "filters[0]", "cannot filter by 'time:day'"),
        ({"filters": [["is", "event:page", []]]}, "filters[0]", "non-empty list of strings"),
        ({"filters": [["matches", "event:page", ["(unclosed"]]]}, "filters[0]", "invalid regular expression"),
        # Valid for Python's re, not for RE2, the engine DuckDB and ClickHouse match with.
        ({"filters": [["matches", "event:page", ["^/(?!admin)"]]]}, "filters[0]", "RE2 syntax"),
        ({"filters": [["matches_not", "event:page", [r"(a)\1"]]]}, "filters[0]", "invalid escape sequence"),
        ({"filters": [["and", [["is", "event:page", [1]]]]]}, "filters[0][1][0]", "list of strings"),
        ({"filters": [["not", ["is", "event:page", ["/"]], "extra"]]}, "filters[0]", "exactly one filter"),
        ({"filters": "visit:country=DE"}, "filters", "must be a list"),
        ({"order_by": [["pageviews", "desc"]]}, "order_by[0]", "neither a queried metric nor a dimension"),
        ({"order_by": [["visitors", "up"]]}, "order_by[0]", "[name, \"asc\"|\"desc\"]"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not a known IANA time zone"),
        ({"include": {"comparison": "last_week"}}, "include.comparison", "must be one of"),
        ({"include": {"totals": True}}, "include.totals", "is not known"),
        ({"include": {"total_rows": "yes"}}, "include.total_rows", "true or false"),
        ({"pagination": {"limit": 0}}, "pagination.limit", "between 1 and 10000"),
        ({"pagination": {"limit": 10001}}, "pagination.limit", "between 1 and 10000"),
        ({"pagination": {"offset": -1}}, "pagination.offset", "between 0 and 1000000000"),
        ({"attribution": "linear"}, "attribution", "must be one of first_touch, last_touch"),
        ({"site_id": ""}, "site_id", "is required"),
        ({"colour": "blue"}, "colour", "is not a query field"),
        # Extremes: each of these once raised OverflowError, OSError or RecursionError (a 500),
        # or listed millions of time buckets before refusing.
        ({"date_range": ["0001-01-01T00:00:00+01:00", "2026-03-01"]}, "date_range", "between 1970-01-01 and 2099-12-31"),
        ({"date_range": ["2026-01-01", "9999-12-31T23:59:59-01:00"]}, "date_range", "between 1970-01-01"),
        ({"date_range": ["0001-01-01", "9999-12-31"]}, "date_range", "between 1970-01-01"),
        ({"timezone": "Europe"}, "timezone", "not a known IANA time zone"),
        ({"timezone": "a" * 300}, "timezone", "not a known IANA time zone"),
        ({"pagination": {"offset": 2**64}}, "pagination.offset", "between 0 and 1000000000"),
        ({"dimensions": ["time:minute"], "date_range": ["2000-01-01", "2026-01-01"], "include": {"time_labels": True}},
         "dimensions", "more than 10000"),
        ({"dimensions": ["time:hour"], "date_range": ["2024-01-01", "2026-01-01"], "include": {"comparison": "previous_period"}},
         "dimensions", "more than 10000"),
        ({"filters": [_nested_nots(9)]}, "filters[0]" + "[1]" * 8, "nest at most 8 deep"),
        ({"filters": [_nested_nots(2000)]}, "filters[0]" + "[1]" * 8, "nest at most 8 deep"),
    ],
)
def test_invalid_queries_name_the_field_and_the_problem(fields, field, message):
    with pytest.raises(QueryError) as refused:
        parse(**fields)
    assert refused.value.field == field
    assert message in refused.value.message
    assert str(refused.value).startswith(f"{field}: ")


def test_time_buckets_are_only_counted_where_they_are_listed():
    """Without time_labels or a comparison the store groups only the buckets that hold data."""
    query = parse(dimensions=["time:minute"], date_range=["2000-01-01", "2026-01-01"])
    assert query.dimensions == ("time:minute",)
    assert parse(filters=[_nested_nots(8)]).filters


def test_a_query_must_be_an_object():
    with pytest.raises(QueryError, match="query: must be a JSON object"):
        parse_query(["visitors"], site_timezone="UTC", now=NOW)
