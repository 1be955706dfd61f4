"""Stats benchmark (SPEC §12): p50 per dashboard panel query, and a whole dashboard, on N
realistic events over 90 days in the embedded DuckDB event store.

    .venv/bin/python bench/query.py                          # 1 M then 10 M events
    .venv/bin/python bench/query.py --sizes 20000 --cache-dir /tmp/pm   # a small run (CI)
    .venv/bin/python bench/query.py --sizes 1000000 --clickhouse http://127.0.0.1:8123  # on ClickHouse

The events come from `postmetric.demo.generate` (the traffic `postmetric demo` shows; generated
inside DuckDB, hash-seeded, so a size and seed always give the same file), spread over three
sites, and are cached as `<cache dir>/events-<size>-<seed>-<schema>.duckdb`; `--regenerate`
rebuilds it. The data ends at NOW.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import duckdb

from postmetric import demo
from postmetric.demo import DemoSite, progress_bar
from postmetric.sites.goals import GoalDefinition
from postmetric.stats.engine import StatsEngine
from postmetric.stats.funnels import FunnelStep, funnel_results
from postmetric.stats.parse import parse_query
from postmetric.store.clickhouse_events import ClickHouseEventStore, connect
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.store.event_migrations import MIGRATIONS
from postmetric.store.transfer import copy_to_clickhouse

NOW = datetime(2026, 5, 31, 18, 0, tzinfo=timezone.utc)
DAYS = 90
SITE_ID = 1
# (events up to, per-panel p50 ms, whole dashboard ms); a size uses the first row it fits.
BUDGETS = ((1_000_000, 50.0, 300.0), (math.inf, 150.0, 1000.0))
DEFAULT_CACHE = Path.home() / ".cache" / "postmetric-bench"
DATA_VERSION = 3  # bump when the generated events change (2: payments, 3: identified users)
# Most visitors go to the measured site; two small sites share the store, as on a real instance.
SITES = (DemoSite(SITE_ID, "example.com", 0.95), DemoSite(2, "shop.example.org", 0.035, subdomains=False),
         DemoSite(3, "example.net", 0.015, subdomains=False))


def generate(path: Path, events: int, seed: int, log) -> None:
    """Write `events` events into a new event store at `path` (built aside, then renamed)."""
    started = time.perf_counter()
    building = path.with_name(path.name + ".building")
    building.unlink(missing_ok=True)
    timer = {"step": None, "at": started}

    def progress(step: str, done: float) -> None:
        if step == timer["step"]:  # a long step moving on
            return
        if timer["step"] is not None:
            log(f"  {timer['step']} ({time.perf_counter() - timer['at']:.1f} s)")
        timer.update(step=step, at=time.perf_counter())

    counts = demo.generate(building, sites=SITES, events=events, now=NOW, days=DAYS, seed=seed,
                           progress=progress)[SITE_ID]
    with duckdb.connect(str(building)) as db:
        db.execute("CREATE TABLE bench_data AS SELECT $1::BIGINT AS events, $2::BIGINT AS visitors, "
                   "$3::BIGINT AS visits, $4::DOUBLE AS generation_s",
                   [counts.events, counts.visitors, counts.visits, time.perf_counter() - started])
    building.rename(path)


# --- The dashboard's queries (SPEC §5) --------------------------------------------------------
HEADLINE = ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"]
# The dashboard's money cards, with the conversion rate (no goal filter in the default view).
REVENUE_HEADLINE = ["revenue", "revenue_new", "revenue_renewal", "refunds", "revenue_per_visitor", "conversion_rate"]


def _query(**fields) -> dict:
    return {"site_id": "bench.example", "date_range": "30d", **fields}


def _breakdown(dimension: str, metrics: tuple[str, ...] = ("visitors", "revenue"), **fields) -> dict:
    return _query(metrics=list(metrics), dimensions=[dimension], pagination={"limit": 10}, **fields)


# (name, query, loaded by the default dashboard view)
PANELS = [
    ("headline", _query(metrics=HEADLINE, include={"comparison": "previous_period"}), True),
    ("revenue headline", _query(metrics=REVENUE_HEADLINE, include={"comparison": "previous_period"}), True),
    ("main chart", _query(metrics=["visitors", "pageviews", "revenue"], dimensions=["time:day"],
                          include={"time_labels": True, "comparison": "previous_period"}), True),
    ("channels", _breakdown("visit:channel"), True),
    ("sources", _breakdown("visit:source"), False),
    ("campaigns", _breakdown("visit:utm_campaign"), False),
    ("referrers", _breakdown("visit:referrer"), False),
    ("pages", _breakdown("event:page", ("visitors", "pageviews", "revenue")), True),
    ("entry pages", _breakdown("visit:entry_page", ("visitors", "bounce_rate", "revenue")), False),
    ("exit pages", _breakdown("visit:exit_page"), False),
    ("hostnames", _breakdown("event:hostname"), False),
    ("countries", _breakdown("visit:country"), True),
    ("regions", _breakdown("visit:region"), False),
    ("cities", _breakdown("visit:city"), False),
    ("browsers", _breakdown("visit:browser"), True),
    ("operating systems", _breakdown("visit:os"), False),
    ("devices", _breakdown("visit:device"), False),
    ("goals", _breakdown("event:goal", ("visitors", "conversions", "conversion_rate", "revenue")), True),
    ("sources, last touch", _breakdown("visit:source", attribution="last_touch"), False),
    ("pages, source Google", _breakdown("event:page", ("visitors", "pageviews", "revenue"),
                                        filters=[["is", "visit:source", ["Google"]]]), False),
    ("headline, country US", _query(metrics=HEADLINE, include={"comparison": "previous_period"},
                                    filters=[["is", "visit:country", ["US"]]]), False),
    ("realtime visitors", _query(metrics=["visitors"], date_range="realtime"), True),
    ("realtime pages", _breakdown("event:page", ("visitors",), date_range="realtime"), False),
    ("headline, all time", _query(metrics=HEADLINE, include={"comparison": "previous_period"}, date_range="all"),
     False),
    ("main chart, all time", _query(metrics=["visitors", "pageviews"], dimensions=["time:day"],
                                    include={"time_labels": True}, date_range="all"), False),
]


# The demo's goal definitions and funnel, as `postmetric demo` sets them up.
GOALS = tuple(GoalDefinition(i, g["kind"], g.get("event_name"), g.get("page_path"), g["display_name"])
              for i, g in enumerate(demo.DEMO_GOALS, start=1))
FUNNEL = tuple(FunnelStep(**step) for step in demo.DEMO_FUNNEL["steps"])
# (name, date range, breakdown, loaded by the default dashboard view)
FUNNELS = [("funnel", "30d", None, True), ("funnel by source", "30d", "visit:source", False)]


def measure(run, runs: int) -> tuple[list[float], dict]:
    """Milliseconds of `runs` runs of `run` after one warm-up (parsing included), and the last answer."""
    response = run()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = run()
        times.append((time.perf_counter() - started) * 1000)
    return times, response


def _query_panel(engine: StatsEngine, raw: dict) -> dict:
    return engine.run(parse_query(raw, site_timezone="UTC", now=NOW), site_id=SITE_ID, currency="USD")


def _funnel_panel(store: DuckDBEventStore, date_range: str, breakdown: str | None) -> dict:
    query = parse_query({"site_id": "bench.example", "date_range": date_range, "metrics": ["visitors"]},
                        site_timezone="UTC", now=NOW)
    return funnel_results(store, FUNNEL, site_id=SITE_ID, start=query.date_range.start, end=query.date_range.end,
                          breakdown=breakdown)


def funnel_summary(response: dict) -> str:
    steps = " → ".join(f"{step['visitors']:,}" for step in response["steps"])
    groups = f"; {len(response['breakdown'])} groups" if "breakdown" in response else ""
    return f"visitors per step {steps}{groups}"


def summary(raw: dict, response: dict) -> str:
    """The answer in a few words, to see that it makes sense."""
    results = response["results"]
    if not raw.get("dimensions"):
        return ", ".join(f"{m} {v:,}" for m, v in zip(raw["metrics"], results[0]["metrics"]))
    if not results:
        return "no rows"
    first = results[0]
    return (f"{len(results)} rows; first {' / '.join(map(str, first['dimensions'])) or '(none)'}: "
            + ", ".join(f"{m} {v:,}" for m, v in zip(raw["metrics"], first["metrics"])))


def budget(events: int) -> tuple[float, float]:
    return next((panel, dashboard) for limit, panel, dashboard in BUDGETS if events <= limit)


def machine() -> str:
    info = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
               platform.processor())
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    return (f"{os.cpu_count()} cores, {cpu}, {memory / 1024 ** 2:.1f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, DuckDB {duckdb.__version__}")


def bench(path: Path, size: int, runs: int, generated_now: bool, clickhouse_url: str | None = None) -> bool:
    """Print one size's figures; False if a query failed. With `clickhouse_url`, the same events
    are copied (once) into a database of that server and queried there."""
    panel_budget, dashboard_budget = budget(size)
    with duckdb.connect(str(path), read_only=True) as db:
        events, visitors, visits, generation_s = db.execute("FROM bench_data").fetchone()
    print(f"\n== {size:,} events over {DAYS} days to {NOW:%Y-%m-%d %H:%M} UTC; site {SITE_ID}: {events:,} events, "
          f"{visitors:,} visitors, {visits:,} visits")
    print(f"data: {path} ({path.stat().st_size / 1e6:,.0f} MB), generated in {generation_s:,.1f} s"
          + ("" if generated_now else " (cached)"))
    started = time.perf_counter()
    store = DuckDBEventStore(path) if clickhouse_url is None else _clickhouse_copy(path, size, clickhouse_url)
    print(f"{store.dialect} store opened in {(time.perf_counter() - started) * 1000:,.0f} ms; p50/min/max of {runs} runs after "
          f"one warm-up; budget p50 <= {panel_budget:.0f} ms per panel, whole dashboard <= "
          f"{dashboard_budget:,.0f} ms (* = on the default dashboard view)", flush=True)
    print(f"  {'panel':<24} {'p50 ms':>8} {'min ms':>8} {'max ms':>8}  {'budget':<6}  result")
    engine = StatsEngine(store, goals=lambda site_id: GOALS)
    runs_of = [(name, on_dashboard, partial(_query_panel, engine, raw), partial(summary, raw))
               for name, raw, on_dashboard in PANELS]
    runs_of += [(name, on_dashboard, partial(_funnel_panel, store, date_range, breakdown), funnel_summary)
                for name, date_range, breakdown, on_dashboard in FUNNELS]
    dashboard, ok = 0.0, True
    try:
        for name, on_dashboard, run, describe in runs_of:
            label = ("* " if on_dashboard else "  ") + name
            try:
                times, response = measure(run, runs)
            except Exception as exc:  # a report, not a crash: the row says what went wrong
                print(f"  {label:<24} {'-':>8} {'-':>8} {'-':>8}  {'ERROR':<6}  {type(exc).__name__}: {exc}",
                      flush=True)
                ok = False
                continue
            p50 = statistics.median(times)
            dashboard += p50 if on_dashboard else 0.0
            print(f"  {label:<24} {p50:8.1f} {min(times):8.1f} {max(times):8.1f}  "
                  f"{'ok' if p50 <= panel_budget else 'MISSED':<6}  {describe(response)}", flush=True)
    finally:
        store.close()
    print(f"  {'whole dashboard (sum of * p50s)':<42} {dashboard:8.1f} ms  "
          f"{'ok' if ok and dashboard <= dashboard_budget else 'MISSED'} (budget {dashboard_budget:,.0f} ms)")
    return ok


def _clickhouse_copy(path: Path, size: int, url: str) -> ClickHouseEventStore:
    """The ClickHouse database `bench_<size>_<cache key>` at `url`, filled from `path` unless it was already."""
    store = connect(f"{url.rstrip('/')}/bench_{size}_{cache_key()}")
    if not store.fetch("SELECT count() AS n FROM events")[0]["n"]:
        started = time.perf_counter()
        source = DuckDBEventStore(path)
        try:
            copy_to_clickhouse(source, store, progress=progress_bar(sys.stderr, label="copy to clickhouse"))
        finally:
            source.close()
        print(f"copied into ClickHouse in {time.perf_counter() - started:,.1f} s")
    return store


def cache_key() -> str:
    """Names the store's schema and the generator's version: a cached file made for another
    schema (a derived table it lacks, say) is never reused."""
    return hashlib.sha256(repr((DATA_VERSION, [m.description for m in MIGRATIONS])).encode()).hexdigest()[:8]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000", help="event counts, comma-separated")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per panel, after one warm-up")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--regenerate", action="store_true", help="rebuild cached event stores")
    parser.add_argument("--clickhouse", metavar="URL", help="query a ClickHouse server (http://user:pass@host:8123)"
                        " instead of DuckDB; the events are copied into a database of its own there once")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    ok = True
    for size in (int(s.replace("_", "")) for s in args.sizes.split(",")):
        path = args.cache_dir / f"events-{size}-{args.seed}-{cache_key()}.duckdb"
        generated_now = args.regenerate or not path.exists()
        if generated_now:
            print(f"generating {size:,} events into {path} ...", file=sys.stderr, flush=True)
            generate(path, size, args.seed, lambda line: print(line, file=sys.stderr, flush=True))
        ok = bench(path, size, args.runs, generated_now, args.clickhouse) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
