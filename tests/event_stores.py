"""The event stores the store, stats and revenue suites run on: DuckDB, and ClickHouse through
clickhouse-connect over its HTTP interface — served from the chdb engine by clickhouse_http.py, or
the real server POSTMETRIC_TEST_CLICKHOUSE_URL names. Each test directory gets a database of its
own there, so reopening a directory reopens its data; a real server's are dropped at exit."""

from __future__ import annotations

import atexit
import hashlib
from pathlib import Path

from clickhouse_http import SERVER_URL_VARIABLE, server_url
from postmetric.store.clickhouse_events import ClickHouseEventStore, connect
from postmetric.store.duckdb_events import DuckDBEventStore

KINDS = ("duckdb", "clickhouse")

_databases: set[str] = set()


def open_store(kind: str, directory: Path) -> DuckDBEventStore | ClickHouseEventStore:
    if kind == "duckdb":
        return DuckDBEventStore(directory / "events.duckdb")
    return connect(clickhouse_url(directory))


def clickhouse_url(directory: Path) -> str:
    """The URL of the ClickHouse database kept for `directory`."""
    database = "test_" + hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:20]
    if not _databases:
        atexit.register(_drop_databases)
    _databases.add(database)
    return f"{server_url()}/{database}"


def _drop_databases() -> None:
    import os

    if not os.environ.get(SERVER_URL_VARIABLE):
        return  # the harness's directory goes with its process
    import clickhouse_connect

    client = clickhouse_connect.get_client(dsn=server_url(), database="default")
    for database in _databases:
        client.command(f"DROP DATABASE IF EXISTS {database}")
    client.close()
