"""Event stores for the stats tests: every test runs once on DuckDB and once on ClickHouse
SQL executed by the embedded chdb engine."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from postmetric.store.duckdb_events import DuckDBEventStore


def _open(dialect: str, directory: Path):
    if dialect == "duckdb":
        return DuckDBEventStore(directory / "events.duckdb")
    from postmetric.store.clickhouse_events import ChdbEventStore

    return ChdbEventStore(directory / "chdb")


DIALECTS = ["duckdb"]
if importlib.util.find_spec("postmetric.store.clickhouse_events") is not None:
    DIALECTS.append("clickhouse")


@pytest.fixture(params=DIALECTS)
def event_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    store = _open(request.param, tmp_path)
    yield store
    store.close()


@pytest.fixture(scope="module", params=DIALECTS)
def shared_event_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """One store per module and dialect, for property tests that give each example its own site id."""
    store = _open(request.param, tmp_path_factory.mktemp(request.param))
    yield store
    store.close()
