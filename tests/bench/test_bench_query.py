"""The stats benchmark runs end to end at a small size and prints sane figures."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
BENCH = Path(__file__).resolve().parents[2] / "bench" / "query.py"
_spec = importlib.util.spec_from_file_location("bench_query", BENCH)
bench_query = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_query)


def number(text: str) -> int:
    return int(text.replace(",", ""))


def test_small_stats_benchmark_times_every_panel_on_generated_events(tmp_path):
    done = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "20000", "--runs", "2", "--cache-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.startswith("machine: ") and "DuckDB " in out
    assert len(list(tmp_path.glob("events-20000-1-*.duckdb"))) == 1
    events, visitors, visits = map(number, re.search(
        r"== 20,000 events .*: ([\d,]+) events, ([\d,]+) visitors, ([\d,]+) visits", out).groups())
    assert 0 < visitors < visits < events < 20_000  # the rest belong to the other sites

    for name, query, on_dashboard in bench_query.PANELS:
        row = re.search(rf"^  {re.escape('* ' if on_dashboard else '  ')}{re.escape(name)} +([\d.]+) +([\d.]+) "
                        r"+([\d.]+)  (ok|MISSED)  (.*)$", out, re.MULTILINE)
        assert row, f"no figures for {name!r}:\n{out}"
        if query["date_range"] != "realtime":
            assert row[5] != "no rows" and not row[5].startswith("visitors 0,"), row[0]
    for name, _range, breakdown, on_dashboard in bench_query.FUNNELS:
        row = re.search(rf"^  {re.escape('* ' if on_dashboard else '  ')}{re.escape(name)} +[\d.]+ +[\d.]+ +[\d.]+  "
                        r"(?:ok|MISSED) +visitors per step ([\d,]+) → ([\d,]+) → ([\d,]+)(; \d+ groups)?$",
                        out, re.MULTILINE)
        assert row, f"no figures for {name!r}:\n{out}"
        steps = [number(n) for n in row.groups()[:3]]
        assert steps[0] > 0 and steps == sorted(steps, reverse=True), row[0]  # a funnel only narrows
        assert (row[4] is not None) == (breakdown is not None), row[0]
    headline = re.search(r"^  \* headline .*visitors ([\d,]+), visits ([\d,]+)", out, re.MULTILINE)
    assert 0 < number(headline[1]) <= number(headline[2]) and number(headline[1]) <= visitors
    all_time = re.search(r"^    headline, all time .*visitors ([\d,]+), visits ([\d,]+)", out, re.MULTILINE)
    assert (number(all_time[1]), number(all_time[2])) == (visitors, visits)
    assert re.search(r"whole dashboard \(sum of \* p50s\) +[\d.]+ ms", out)


def test_the_benchmark_queries_clickhouse_too(tmp_path):
    from clickhouse_http import server_url

    command = [sys.executable, str(BENCH), "--sizes", "20000", "--runs", "1", "--cache-dir", str(tmp_path)]
    duckdb_run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    done = subprocess.run([*command, "--clickhouse", server_url()], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "clickhouse store opened" in done.stdout and "copied into ClickHouse" in done.stdout
    assert "copy to clickhouse: [" in done.stderr  # progress while copying
    # The same answers as on DuckDB, panel by panel.
    assert answers(done.stdout) == answers(duckdb_run.stdout)


def answers(out: str) -> list[str]:
    """The panel rows without their timings."""
    return [" ".join(re.sub(r" [\d.]+ +[\d.]+ +[\d.]+  (ok|MISSED) ", " ", line).split())
            for line in out.splitlines() if line.startswith("  ") and "whole dashboard" not in line]
