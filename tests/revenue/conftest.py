"""Both event stores for the ledger tests: DuckDB, and ClickHouse SQL on the embedded chdb engine
(one open chdb store per process, so each test closes its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from postmetric.store.clickhouse_events import ChdbEventStore
from postmetric.store.duckdb_events import DuckDBEventStore

OPENERS = {"duckdb": lambda d: DuckDBEventStore(d / "events.duckdb"), "clickhouse": lambda d: ChdbEventStore(d / "chdb")}


@pytest.fixture(params=sorted(OPENERS))
def store_opener(request: pytest.FixtureRequest):
    return OPENERS[request.param]


@pytest.fixture
def event_store(store_opener, tmp_path: Path) -> Iterator:
    store = store_opener(tmp_path)
    yield store
    store.close()
