"""The ingestion benchmark runs end to end at a small size and prints its figures."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
BENCH = Path(__file__).resolve().parents[2] / "bench" / "ingest.py"


def test_small_ingest_benchmark_prints_figures_and_stores_every_acknowledged_event():
    done = subprocess.run(
        [sys.executable, str(BENCH), "--duration", "1", "--warmup", "0.5", "--connections", "8",
         "--distinct", "500"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.startswith("machine: ")
    assert re.search(r"postmetric POST /api/events\s+[\d,]+ events/s\s+p50\s+[\d.]+ ms\s+p99\s+[\d.]+ ms", out)
    assert re.search(r"no-op Starlette endpoint\s+[\d,]+ events/s", out)
    stored, acknowledged = re.search(r"stored after shutdown: ([\d,]+) of ([\d,]+) acknowledged", out).groups()
    assert stored == acknowledged and int(acknowledged.replace(",", "")) > 0
    for check in ("events/s", "p99 latency ms", "server private MB", "server peak RSS MB", "share of no-op"):
        assert check in out
