"""The ClickHouse event store, through clickhouse-connect: a ClickHouse server (or cluster) over
its HTTP interface, or the engine embedded by chdb (`chdb:///path`), with the same SQL. The
algorithms are sql_events.py's; this module supplies ClickHouse's primitives.

1. A batch arrives as CSV and goes into a staging table of this store's own (Memory engine),
   from which INSERT ... SELECTs fill `events` (microseconds become DateTime64, -1 NULL), refresh
   the batch's visits in `sessions` and append its `identities`. An INSERT
   returns once its rows are written, so the journal checkpoint that follows marks stored rows.
2. Values travel as `{name:Type}` parameters beside the SQL, parsed as their declared type,
   never as SQL (`_bound` turns the Python values clickhouse-connect would misspell into text).
3. Results are read as JSONCompact, several times faster than Arrow's `to_pylist()` for
   a few thousand rows; its column types say which strings are dates. Datetimes come back
   UTC-aware, whatever their column's time zone; UUIDs as str.
4. Every app node has its own journal, so checkpoints are kept per journal id.
5. Payments are never updated in place: a changed payment (a merged delivery, a stronger link)
   is inserted again with the next `version`, and reads use `payments FINAL`.
6. On a cluster (`postmetric store init --cluster NAME`, see `clickhouse_schema.py`) the app reads and
   writes Distributed tables; inserts wait until every shard has its rows, and deletes run
   on the shards' local tables.
7. chdb runs one embedded engine per process, on one directory: a store on another directory
   cannot open until this one is closed.
"""

from __future__ import annotations

import pickle
import re
import secrets
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import clickhouse_connect
import orjson
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from postmetric.errors import StoreUnreachable
from postmetric.store.clickhouse_schema import (
    CSV_STRUCTURE,
    EVENTS,
    IDENTITIES,
    JOURNAL_CHECKPOINT,
    PAYMENT_STORED,
    PAYMENT_STORED_TYPES,
    PAYMENTS,
    SCHEMA_MIGRATIONS,
    SEARCH_CONSOLE,
    cluster_statements,
    distributed_cluster,
    sessions_table,
)
from postmetric.store.columns import COLUMN_NAMES
from postmetric.store.dialects import DIALECTS
from postmetric.store.journal import Position
from postmetric.store.payments import PAYMENT_COLUMN_NAMES, Payment
from postmetric.store.search import SEARCH_COLUMN_NAMES, SearchRow
from postmetric.store.sessions import session_rows
from postmetric.store.sql_events import EXPORT_COLUMNS, EXPORT_ORDER, SQLEventStore, stored_from_csv

SESSION_SETTINGS = {
    "session_timezone": "UTC",
    # Datetimes as ISO text in UTC, whatever their column's zone.
    "date_time_output_format": "iso",
    "output_format_json_quote_64bit_integers": 0,
    # A string cut mid-character (substring() counts bytes) must not break the JSON.
    "output_format_json_validate_utf8": 1,
}
# A first row that looked like column names would otherwise be skipped as a header.
_CSV_SETTINGS = {"input_format_csv_detect_header": 0, "format_csv_allow_single_quotes": 0}
# `min(x) AS x` in session_rows.
_ALIAS_SETTINGS = {"prefer_column_name_to_alias": 1}

_INSERT_PAYMENT = (f"INSERT INTO payments ({', '.join(PAYMENT_STORED)}) SELECT "
                   + ", ".join(f"{{{name}:{PAYMENT_STORED_TYPES[name]}}}" for name in PAYMENT_STORED))
_TABLES = {table.name: table for table in (EVENTS, JOURNAL_CHECKPOINT, PAYMENTS, IDENTITIES, SEARCH_CONSOLE,
                                           SCHEMA_MIGRATIONS)}
_SEARCH_BATCH = 50_000


def connect(url: str, *, journal_id: str = "") -> ClickHouseEventStore:
    """The store at `url`: `http(s)://user:password@host:port/database` (the database is created if
    missing) or `chdb:///path/to/dir`, the embedded engine. `journal_id` names the app node's
    ingestion journal, whose checkpoint the store keeps."""
    if url.startswith("chdb:"):
        client = clickhouse_connect.get_client(dsn=url)
        # One engine for the process: its settings are set once, not sent with every query.
        for name, value in SESSION_SETTINGS.items():
            client.command(f"SET {name} = {value!r}")
        return ClickHouseEventStore(client, journal_id=journal_id, embedded=True)
    _create_database(url)
    return ClickHouseEventStore(_server_client(url, _database(url)), journal_id=journal_id)


def create_cluster_schema(url: str, cluster: str) -> list[str]:
    """`postmetric store init --cluster NAME`: the database and the tables on every shard and replica
    of the cluster, with Distributed tables in front (clickhouse_schema.py). Returns what it ran."""
    _create_database(url, cluster)
    client = _server_client(url, _database(url))
    ran = []
    try:
        for statement in EVENTS.cluster(cluster):  # the sessions table's types are derived from it
            client.command(statement)
        for statement in cluster_statements(cluster, _session_columns(client)):
            client.command(statement)
            ran.append(statement)
    finally:
        client.close()
    return ran


def _session_columns(client: Client) -> tuple[tuple[str, str], ...]:
    """The sessions table's columns, typed as the server derives them from `events`."""
    described = client.raw_query(f"DESCRIBE TABLE ({session_rows(DIALECTS['clickhouse'], 'false')})",
                                 settings=_ALIAS_SETTINGS, fmt="JSONCompact")
    return tuple((row["name"], row["type"]) for row in _rows(described))


def _database(url: str) -> str:
    database = urlsplit(url).path.strip("/") or "default"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
        raise ValueError(f"ClickHouse database {database!r}: letters, digits and underscores only")
    return database


def _create_database(url: str, cluster: str | None = None) -> None:
    try:
        admin = _server_client(url, "default")
    except ClickHouseError as error:  # the first request: unreachable, or the credentials refused
        parts = urlsplit(url)
        raise StoreUnreachable("POSTMETRIC_CLICKHOUSE_URL", f"ClickHouse at {parts.scheme}://{parts.hostname}:"
                               f"{parts.port or 8123}", str(error).splitlines()[0][:300]) from error
    try:
        admin.command(f"CREATE DATABASE IF NOT EXISTS {_database(url)}" + (f" ON CLUSTER `{cluster}`" if cluster else ""))
    finally:
        admin.close()


def _server_client(url: str, database: str) -> Client:
    # No server session: settings travel with every request, and web threads query at once.
    return clickhouse_connect.get_client(dsn=url, database=database, settings=SESSION_SETTINGS,
                                         autogenerate_session_id=False)


class ClickHouseEventStore(SQLEventStore):
    dialect = "clickhouse"

    def __init__(self, client: Client, *, journal_id: str = "", embedded: bool = False) -> None:
        self._client = client
        self._journal_id = journal_id
        # Writes are serialised; reads too on chdb, whose engine must not close under a query.
        self._lock = threading.Lock()
        self._read_lock = self._lock if embedded else nullcontext()
        events = self._query("SELECT engine_full FROM system.tables WHERE database = currentDatabase()"
                             " AND name = 'events'", {})
        self.cluster = distributed_cluster(events[0]["engine_full"]) if events else None
        self._write_settings = {"distributed_foreground_insert": 1} if self.cluster else {}
        if self.cluster is None:  # a cluster's tables are made by `postmetric store init --cluster`
            self._migrate()
        # The node's own staging table: several nodes load at once.
        self._staging = f"load_{journal_id.replace('-', '') or secrets.token_hex(8)}"
        self._command(f"CREATE TABLE IF NOT EXISTS {self._staging} ({CSV_STRUCTURE}) ENGINE = Memory")
        # The staged rows with the stored types (microseconds become DateTime64, -1 NULL).
        self._batch = f"(SELECT {stored_from_csv(DIALECTS['clickhouse'])} FROM {self._staging})"

    def _table(self, name: str) -> str:
        """Where a delete or truncate of `name` runs: on a cluster, every shard's local table."""
        return f"{name}_local ON CLUSTER `{self.cluster}`" if self.cluster else name

    # -- primitives -------------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        with self._lock:
            yield

    def _execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        # `min(x) AS x` in session_rows needs the column name to win over the alias.
        self._command(sql, params, _ALIAS_SETTINGS | self._write_settings)

    def _delete(self, table: str, where: str, params: Mapping[str, Any]) -> None:
        # A synchronous mutation (on every replica): the rows are gone when it returns.
        self._command(f"ALTER TABLE {self._table(table)} DELETE WHERE {where}", params, {"mutations_sync": 2})

    def _truncate(self, table: str) -> None:
        self._command(f"TRUNCATE TABLE {self._table(table)}")

    def _stage(self, rows_csv: bytes) -> str:
        self._command(f"TRUNCATE TABLE {self._staging}")
        self._client.raw_insert(self._staging, None, rows_csv, settings=_CSV_SETTINGS, fmt="CSV")
        return self._batch

    def _unstage(self) -> None:
        self._command(f"TRUNCATE TABLE {self._staging}")

    def _insert_events(self, journal_position: Position | None) -> None:
        # A retry of this load (the same rows up to the same journal position) inserts nothing.
        token = ({"insert_deduplication_token": f"{self._journal_id}:{journal_position[0]}:{journal_position[1]}"}
                 if journal_position is not None else {})
        self._command(f"INSERT INTO events ({', '.join(COLUMN_NAMES)}) SELECT * FROM {self._batch}",
                      settings=self._write_settings | token)

    def _refresh_sessions(self, batch: str) -> None:
        """The touched visits' rows, recomputed from their events, inserted again: the newest wins (FINAL)."""
        self._execute("INSERT INTO sessions " + session_rows(
            DIALECTS["clickhouse"],
            f"session_started_at >= fromUnixTimestamp64Micro((SELECT min(session_started_at) FROM {self._staging}),"
            f" 'UTC') AND session_id IN (SELECT session_id FROM {self._staging})"))

    def _write_checkpoint(self, position: Position) -> None:
        segment, offset = position
        self._command("INSERT INTO journal_checkpoint VALUES ({journal:String}, {segment:UInt64}, {offset:UInt64})",
                      {"journal": self._journal_id, "segment": segment, "offset": offset}, self._write_settings)

    def _insert_payments(self, payments: Sequence[Payment]) -> None:
        """One INSERT of every payment, as version 1."""
        if not payments:
            return
        rows = b"\n".join(orjson.dumps(dict(zip(PAYMENT_COLUMN_NAMES, map(_bound_value, payment.row()))) | {"version": 1})
                          for payment in payments)
        self._client.raw_insert("payments", None, rows, settings=self._write_settings, fmt="JSONEachRow")

    def _replace_payments(self, payments: Sequence[Payment]) -> None:
        """Each payment inserted again with its key's next version: reads see the newest (FINAL)."""
        for payment in payments:
            [row] = self._query(
                "SELECT max(version) AS version FROM payments WHERE site_id = {site:UInt32}"
                " AND provider = {provider:String} AND transaction_id = {transaction:String} AND kind = {kind:String}",
                {"site": payment.site_id, "provider": payment.provider, "transaction": payment.transaction_id,
                 "kind": payment.kind})
            values = dict(zip(PAYMENT_COLUMN_NAMES, payment.row())) | {"version": row["version"] + 1}
            self._command(_INSERT_PAYMENT, values, self._write_settings)

    def _purge_replaced(self, site_id: int, payments: Sequence[Payment]) -> None:
        """The older versions, still holding what the replace changed until a merge, deleted."""
        keys = [f"{payment.provider}:{payment.transaction_id}" for payment in payments]  # provider names have no ':'
        versions = self._query(
            "SELECT provider, transaction_id, kind, max(version) AS version FROM payments"
            " WHERE site_id = {site_id:UInt32} AND has({keys:Array(String)}, concat(provider, ':', transaction_id))"
            " GROUP BY provider, transaction_id, kind",
            {"site_id": site_id, "keys": keys})
        for row in versions:
            self._delete("payments", "site_id = {site_id:UInt32} AND provider = {provider:String}"
                         " AND transaction_id = {transaction:String} AND kind = {kind:String}"
                         " AND version < {version:UInt64}",
                         {"site_id": site_id, "provider": row["provider"], "transaction": row["transaction_id"],
                          "kind": row["kind"], "version": row["version"]})

    def _insert_search_rows(self, site_id: int, rows: Sequence[SearchRow]) -> None:
        for start in range(0, len(rows), _SEARCH_BATCH):
            data = b"\n".join(orjson.dumps(dict(zip(SEARCH_COLUMN_NAMES, row.values(site_id))))
                               for row in rows[start:start + _SEARCH_BATCH])
            self._client.raw_insert("search_console", None, data, settings=self._write_settings, fmt="JSONEachRow")

    def create_table(self, name: str) -> None:
        if name == "sessions":
            self._command(sessions_table(_session_columns(self._client)).single_server())
        else:
            self._command(_TABLES[name].single_server())

    def _column_type(self, table: str, column: str) -> str:
        return dict(_TABLES[table].columns)[column]

    def table_columns(self, table: str) -> tuple[str, ...]:
        return tuple(row["name"] for row in self._query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {table:String}"
            " ORDER BY position", {"table": table}))

    # -- engine-specific reads ------------------------------------------------------------------

    def journal_position(self) -> Position | None:
        rows = self.fetch("SELECT segment, byte_offset FROM journal_checkpoint WHERE journal_id = {journal:String}"
                          " ORDER BY segment DESC, byte_offset DESC LIMIT 1", {"journal": self._journal_id})
        return Position(rows[0]["segment"], rows[0]["byte_offset"]) if rows else None

    def site_rows(self, table: str, site_id: int, *, batch_rows: int = 10_000) -> Iterator[list[dict[str, Any]]]:
        """Export: every row the site has in `table` (EXPORT_TABLES), `batch_rows` at a time, as
        the server streams them (the newest row of a visit or payment). The embedded engine is read
        under the store's lock, at its own pace, into a temporary file first: a download paced by a
        slow client must not hold up the loads."""
        columns = EXPORT_COLUMNS[table]
        source = {"events": "events", "sessions": "sessions FINAL", "payments": "payments FINAL"}[table]

        def blocks() -> Iterator[list[dict[str, Any]]]:
            with self._client.query_column_block_stream(
                    f"SELECT {', '.join(columns)} FROM {source} WHERE site_id = {{site_id:UInt32}}"
                    f" ORDER BY {EXPORT_ORDER[table]}", parameters={"site_id": site_id},
                    settings={"max_block_size": batch_rows}) as stream:
                for block in stream:
                    yield [dict(zip(columns, values)) for values in zip(*block)]

        if self._read_lock is not self._lock:
            yield from blocks()
            return
        with tempfile.TemporaryFile() as spool:
            with self._lock:
                for batch in blocks():
                    pickle.dump(batch, spool)  # our own rows, read back below: never untrusted input
            spool.seek(0)
            while True:
                try:
                    yield pickle.load(spool)
                except EOFError:
                    return

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one read-only statement. Parameters: str, int, float, bool, None, datetime
        (naive = UTC; declare it `DateTime64(6, 'UTC')` or `DateTime('UTC')`, as its text is
        read in the declared zone), date, UUID, and lists or tuples of these for `Array(T)`."""
        with self._read_lock:
            return self._query(sql, params or {})

    def _query(self, sql: str, params: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
               ) -> list[dict[str, Any]]:
        return _rows(self._client.raw_query(sql, parameters=_bound(params or {}), settings=settings, fmt="JSONCompact"))

    def _command(self, sql: str, params: Mapping[str, Any] | None = None,
                 settings: Mapping[str, Any] | None = None) -> None:
        self._client.command(sql, parameters=_bound(params or {}), settings=settings)

    def close(self) -> None:
        with self._lock:
            try:
                self._command(f"DROP TABLE IF EXISTS {self._staging}")
            finally:
                self._client.close()


def _rows(data: bytes) -> list[dict[str, Any]]:
    if not data:
        return []
    result = orjson.loads(data)
    rows = result["data"]
    for i, column in enumerate(result["meta"]):
        parse = _parser(column["type"])
        if parse is not None:
            for row in rows:
                if row[i] is not None:
                    row[i] = parse(row[i])
    names = [column["name"] for column in result["meta"]]
    return [dict(zip(names, row)) for row in rows]


def _parser(clickhouse_type: str) -> Callable[[str], Any] | None:
    """Top-level date columns only; inside arrays or tuples they stay ISO strings."""
    base = clickhouse_type.removeprefix("LowCardinality(").removeprefix("Nullable(")
    if base.startswith("DateTime"):
        return datetime.fromisoformat
    if base.startswith("Date"):
        return date.fromisoformat
    return None


def _bound(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as clickhouse-connect sends them right: it would write True as `True`, tuples as
    tuples and datetimes without their microseconds."""
    return {name: _bound_value(value) for name, value in params.items()}


def _bound_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        # A fraction would not parse as DateTime (whole seconds).
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return f"{text}.{value.microsecond:06d}" if value.microsecond else text
    if isinstance(value, (list, tuple)):
        return [_bound_value(item) for item in value]
    if value is None or isinstance(value, (str, int, float, date, UUID)):
        return value
    raise TypeError(f"cannot pass {type(value).__name__} as a ClickHouse query parameter")
