"""Both event stores for the ledger tests: DuckDB and ClickHouse (event_stores.py)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from event_stores import KINDS, open_store


@pytest.fixture(params=KINDS)
def store_opener(request: pytest.FixtureRequest):
    return partial(open_store, request.param)


@pytest.fixture
def event_store(store_opener, tmp_path: Path) -> Iterator:
    store = store_opener(tmp_path)
    yield store
    store.close()
