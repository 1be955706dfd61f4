"""Event stores for the stats tests: every test runs once on DuckDB and once on ClickHouse
(event_stores.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from event_stores import KINDS, open_store


@pytest.fixture(params=KINDS)
def event_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    store = open_store(request.param, tmp_path)
    yield store
    store.close()


@pytest.fixture(scope="module", params=KINDS)
def shared_event_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """One store per module and kind, for property tests that give each example its own site id."""
    store = open_store(request.param, tmp_path_factory.mktemp(request.param))
    yield store
    store.close()
