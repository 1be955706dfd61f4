"""`postmetric store migrate --to clickhouse`: an embedded install's demo data, copied into ClickHouse,
answers every dashboard query, funnel and visitor profile exactly as it did on DuckDB."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from event_stores import clickhouse_url
from postmetric import demo
from postmetric.cli import main
from postmetric.demo import DemoSite
from postmetric.sites.goals import GoalDefinition
from postmetric.stats.engine import StatsEngine
from postmetric.sites.funnels import FunnelStep
from postmetric.stats.funnels import funnel_results
from postmetric.stats.parse import parse_query
from postmetric.stats.visitors import visitor_profile
from postmetric.store.clickhouse_events import connect
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.store.journal import EventJournal, Position
from postmetric.store.search import SearchRow
from postmetric.store.transfer import copy_to_clickhouse

NOW = datetime(2026, 5, 31, 18, 0, tzinfo=timezone.utc)
SITES = (DemoSite(1, "example.com", 0.9), DemoSite(2, "shop.example.org", 0.1, subdomains=False))
GOALS = tuple(GoalDefinition(i, g["kind"], g.get("event_name"), g.get("page_path"), g["display_name"])
              for i, g in enumerate(demo.DEMO_GOALS, start=1))
FUNNEL = tuple(FunnelStep(**step) for step in demo.DEMO_FUNNEL["steps"])


def breakdown(dimension: str, metrics=("visitors", "revenue"), **fields) -> dict:
    return {"metrics": list(metrics), "dimensions": [dimension], "order_by": [[metrics[0], "desc"]],
            "pagination": {"limit": 10}} | fields


QUERIES = [
    {"metrics": ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"],
     "include": {"comparison": "previous_period"}},
    {"metrics": ["revenue", "revenue_new", "revenue_renewal", "refunds", "revenue_per_visitor", "conversion_rate",
                 "customers"]},
    {"metrics": ["visitors", "pageviews", "revenue"], "dimensions": ["time:day"], "include": {"time_labels": True}},
    breakdown("visit:channel"), breakdown("visit:source", attribution="last_touch"),
    breakdown("event:page", ("visitors", "pageviews", "scroll_depth")), breakdown("visit:entry_page"),
    breakdown("visit:exit_page"), breakdown("visit:country"), breakdown("visit:city"), breakdown("visit:browser"),
    breakdown("event:goal", ("visitors", "conversions", "conversion_rate", "revenue")),
    breakdown("visit:utm_campaign", filters=[["is", "visit:device", ["Desktop"]]]),
    {"metrics": ["search:clicks", "search:impressions", "search:ctr", "search:position"],
     "dimensions": ["search:query", "time:week"], "include": {"comparison": "previous_period"}},
]
# Search Console rows of the first site, two to a day.
SEARCH_ROWS = [SearchRow(day=date(2026, 5, 1) + timedelta(days=n // 2), query=f"query {n % 3}",
                         page=f"https://example.com/{n % 4}", path=f"/{n % 4}", country="DE",
                         device=("desktop", "mobile")[n % 2], clicks=n % 5, impressions=10 + n,
                         position=1.5 + n % 7) for n in range(60)]


def answers(store, site_id: int) -> list:
    engine = StatsEngine(store, goals=lambda _site: GOALS)
    results = [engine.run(parse_query(dict(raw, site_id="x", date_range="30d"), site_timezone="UTC", now=NOW),
                          site_id=site_id, currency="USD") for raw in QUERIES]
    start, end = datetime(2026, 5, 1, tzinfo=timezone.utc), NOW
    results.append(funnel_results(store, FUNNEL, site_id=site_id, start=start, end=end, breakdown="visit:source"))
    payer = store.fetch("SELECT visitor_id FROM payments WHERE site_id = {s:UInt32} AND visitor_id IS NOT NULL"
                        " ORDER BY transaction_id LIMIT 1"
                        if store.dialect == "clickhouse" else
                        "SELECT visitor_id FROM payments WHERE site_id = $s AND visitor_id IS NOT NULL ORDER BY transaction_id LIMIT 1",
                        {"s": site_id})
    results.append(visitor_profile(store, site_id=site_id, visitor_id=str(payer[0]["visitor_id"])))
    return results


@pytest.fixture
def embedded_install(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    demo.generate(data_dir / "events.duckdb", sites=SITES, events=12_000, now=NOW, days=60)
    store = DuckDBEventStore(data_dir / "events.duckdb")
    store.load(b"", journal_position=Position(4, 1234))
    store.replace_search_rows(1, date(2026, 5, 1), date(2026, 5, 31), SEARCH_ROWS)
    expected = {site.site_id: answers(store, site.site_id) for site in SITES}
    store.close()
    revenue, profile = expected[1][1]["results"][0]["metrics"][0], expected[1][-1]
    assert revenue > 0 and profile["payments"]  # the comparison covers revenue and a payer's journey
    assert expected[1][len(QUERIES) - 1]["results"]  # and Search Console's rows
    monkeypatch.setenv("POSTMETRIC_DATA_DIR", str(data_dir))
    monkeypatch.setenv("POSTMETRIC_CLICKHOUSE_URL", clickhouse_url(tmp_path))
    return data_dir, expected


def test_copied_data_answers_every_query_as_before(embedded_install, tmp_path, capsys):
    data_dir, expected = embedded_install
    assert main(["store", "migrate", "--to", "clickhouse"]) == 0
    out, err = capsys.readouterr()
    assert "store migrate: [" in err and "done" in err  # progress, for a person watching
    store = connect(clickhouse_url(tmp_path), journal_id=EventJournal(data_dir / "journal").journal_id)
    try:
        assert '"events": 12000' in out and '"search_rows": 60' in out
        assert store.journal_position() == Position(4, 1234)  # the node replays what DuckDB had not loaded
        for site in SITES:
            assert answers(store, site.site_id) == expected[site.site_id]
    finally:
        store.close()


def test_search_rows_are_copied_whole_days_at_a_time(tmp_path):
    """Batches of 7 rows cut at day boundaries (two rows a day): every row arrives once, of its own site."""
    source = DuckDBEventStore(tmp_path / "events.duckdb")
    target = connect(clickhouse_url(tmp_path))
    try:
        source.replace_search_rows(1, date(2026, 5, 1), date(2026, 5, 31), SEARCH_ROWS)
        source.replace_search_rows(2, date(2026, 5, 1), date(2026, 5, 31), SEARCH_ROWS[:5])
        assert copy_to_clickhouse(source, target, batch_rows=7).search_rows == 65
        columns = "site_id, day, query, page, path, country, device, clicks, impressions, position"
        order = " ORDER BY site_id, day, query, page, device"
        assert [tuple(r.values()) for r in target.fetch(f"SELECT {columns} FROM search_console{order}")] == [
            tuple(r.values()) for r in source.fetch(f"SELECT {columns} FROM search_console{order}")]
        assert target.search_span(2) == (date(2026, 5, 1), date(2026, 5, 3))
    finally:
        target.close()
        source.close()


def test_copying_twice_is_refused(embedded_install, capsys):
    assert main(["store", "migrate", "--to", "clickhouse"]) == 0
    capsys.readouterr()
    assert main(["store", "migrate", "--to", "clickhouse"]) == 2
    assert "already holds events" in capsys.readouterr().err


def test_without_a_clickhouse_url_it_says_what_to_set(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POSTMETRIC_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("POSTMETRIC_CLICKHOUSE_URL", raising=False)
    assert main(["store", "migrate", "--to", "clickhouse"]) == 2
    assert "set POSTMETRIC_CLICKHOUSE_URL" in capsys.readouterr().err
