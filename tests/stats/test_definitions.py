"""The metric and dimension definitions are complete: each one has a label and a format, is
answered on both SQL dialects, and is in the JSON the dashboard is built with."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest

from postmetric.stats import registry
from postmetric.stats.definitions import (
    DIMENSION_DEFINITIONS,
    METRIC_DEFINITIONS,
    Format,
    MetricKind,
    Source,
    json_text,
)
from postmetric.stats.engine import StatsEngine
from postmetric.stats.parse import parse_query

GENERATED = Path(__file__).resolve().parents[2] / "dashboard" / "src" / "generated" / "definitions.json"
NOW = datetime(2026, 3, 13, 12, tzinfo=timezone.utc)


def ask(store, **fields) -> dict:
    raw = {"site_id": "example.com", "date_range": "7d"} | fields
    return StatsEngine(store).run(parse_query(raw, site_timezone="Europe/Berlin", now=NOW), site_id=1)


@pytest.mark.parametrize("metric", METRIC_DEFINITIONS, ids=lambda m: m.name)
def test_every_metric_has_a_label_a_kind_a_format_and_sums_a_plan_computes(metric):
    assert metric.label.strip()
    assert isinstance(metric.kind, MetricKind) and isinstance(metric.format, Format)
    assert metric.plan.sums and metric.needs


@pytest.mark.parametrize("dimension", DIMENSION_DEFINITIONS, ids=lambda d: d.name)
def test_every_dimension_has_a_label(dimension):
    assert dimension.label.strip()


@pytest.mark.parametrize("metric", [m.name for m in METRIC_DEFINITIONS])
def test_every_metric_is_answered_on_both_dialects(shared_event_store, metric):
    """By a page (every metric splits by it: Search Console's by search:page), and alone where a metric
    needs no dimension."""
    page = "search:page" if metric in registry.SEARCH_METRICS else "event:page"
    by_page = ask(shared_event_store, metrics=[metric], dimensions=[page], include={"total_rows": True})
    assert by_page["results"] == [] and by_page["meta"]["total_rows"] == 0
    definition = next(m for m in METRIC_DEFINITIONS if m.name == metric)
    if Source.TOTAL not in definition.needs and definition.kind is not MetricKind.ENGAGEMENT:
        alone = ask(shared_event_store, metrics=[metric], include={"comparison": "previous_period"})
        assert alone["results"][0]["metrics"] == [None if definition.measured else 0]


def test_a_goals_conversion_rate_is_answered_on_both_dialects(shared_event_store):
    answer = ask(shared_event_store, metrics=["conversion_rate"], dimensions=["event:goal"],
                 order_by=[["conversion_rate", "desc"]])
    assert answer["results"] == []


@pytest.mark.parametrize("dimension", [d.name for d in DIMENSION_DEFINITIONS])
def test_every_dimension_groups_and_filters_on_both_dialects(shared_event_store, dimension):
    filters = [["is_not", dimension, ["x"]]] if registry.is_filterable(dimension) else []
    metrics = (["search:clicks", "search:position"] if dimension in registry.SEARCH_DIMENSIONS
               else ["visitors", "revenue"])
    answer = ask(shared_event_store, metrics=metrics, dimensions=[dimension], filters=filters)
    assert answer["results"] == []


def test_the_dashboards_definitions_are_generated_from_these():
    """`make` writes the file; run `.venv/bin/python -m postmetric.stats.definitions >
    dashboard/src/generated/definitions.json` when this fails."""
    assert GENERATED.read_text() == json_text()
    generated = orjson.loads(GENERATED.read_bytes())
    assert [m["name"] for m in generated["metrics"]] == list(registry.METRICS)
    assert all(m["label"] and m["format"] for m in generated["metrics"])
    assert [d["name"] for d in generated["dimensions"]] == [
        *registry.TIME_DIMENSIONS, *registry.EVENT_DIMENSIONS, *registry.VISIT_DIMENSIONS, *registry.SEARCH_DIMENSIONS]


def test_the_registry_names_are_the_definitions():
    assert set(registry.METRICS) == {m.name for m in METRIC_DEFINITIONS}
    assert set(registry.REVENUE_METRICS) == {"revenue", "revenue_new", "revenue_renewal", "refunds", "payments",
                                             "customers", "revenue_per_visitor", "average_order_value",
                                             "conversion_rate"}
    assert registry.MONEY_METRICS == ("revenue", "revenue_new", "revenue_renewal", "refunds",
                                      "revenue_per_visitor", "average_order_value")
    assert registry.VISIT_METRICS == ("visits", "views_per_visit", "bounce_rate", "visit_duration")
    assert registry.PER_EVENT_ONLY_DIMENSIONS == ("event:goal", "event:name")
    assert registry.SEARCH_METRICS == ("search:clicks", "search:impressions", "search:ctr", "search:position")
    assert registry.SEARCH_DIMENSIONS == ("search:query", "search:page", "search:country", "search:device")
