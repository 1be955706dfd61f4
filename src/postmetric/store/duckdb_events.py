"""The embedded event store: one DuckDB file in the data dir (the algorithms are sql_events.py's).

1. Rows arrive in large batches from the ingestion journal's loader, one transaction
   each, together with the journal position they reach.
2. Reads use a cursor per call, so they run beside the loader.
3. A batch arrives as CSV (the journal's own format) and goes in through a staging file
   that DuckDB reads itself. Binding Python lists as parameters was as fast, but converted
   every value while holding the GIL, stealing a quarter of the event loop's time during
   loads; reading a file, DuckDB releases the GIL.
4. A load folds each visit's new events into its `sessions` row in place, and a changed
   payment is updated in place.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from postmetric.store.columns import COLUMN_NAMES, EVENT_COLUMNS
from postmetric.store.dialects import DIALECTS
from postmetric.store.identities import identity_rows
from postmetric.store.journal import Position
from postmetric.store.payments import PAYMENT_COLUMN_NAMES, PAYMENT_COLUMNS, PAYMENT_KEY_COLUMNS, Payment
from postmetric.store.search import SEARCH_COLUMNS, SearchRow
from postmetric.store.sessions import merged_session, session_rows
from postmetric.store.sql_events import EXPORT_COLUMNS, EXPORT_ORDER, SQLEventStore, stored_from_csv

_TYPES = {
    "uint32": "UINTEGER NOT NULL",
    "uint32?": "UINTEGER",
    "uint8?": "UTINYINT",
    "timestamp": "TIMESTAMP NOT NULL",
    "string": "VARCHAR NOT NULL DEFAULT ''",
    "json": "VARCHAR NOT NULL DEFAULT '{}'",
    "uuid": "UUID NOT NULL",
}
_CSV_TYPES = {"timestamp": "BIGINT", "uuid": "UUID", "uint32": "UINTEGER", "uint32?": "BIGINT",
              "uint8?": "BIGINT", "string": "VARCHAR", "json": "VARCHAR"}
# The payments ledger: `record_payments` looks a key up under the write lock and inserts or merges
# (a key with an expression cannot be a PRIMARY KEY).
_PAYMENT_TYPES = {"uint32": "UINTEGER NOT NULL", "string": "VARCHAR NOT NULL", "int64": "BIGINT NOT NULL",
                  "int64?": "BIGINT", "timestamp": "TIMESTAMP NOT NULL", "string?": "VARCHAR", "uuid?": "UUID"}
_SEARCH_TYPES = {"uint32": "UINTEGER", "date": "DATE", "string": "VARCHAR", "uint64": "UBIGINT", "float64": "DOUBLE"}
_DUCKDB = DIALECTS["duckdb"]
_TABLES = {
    "events": "CREATE TABLE IF NOT EXISTS events (\n    "
              + ",\n    ".join(f"{name} {_TYPES[logical]}" for name, logical in EVENT_COLUMNS) + "\n)",
    "journal_checkpoint": "CREATE TABLE IF NOT EXISTS journal_checkpoint (segment BIGINT NOT NULL,"
                          " byte_offset BIGINT NOT NULL)",
    "payments": "CREATE TABLE IF NOT EXISTS payments (\n    "
                + ",\n    ".join(f"{name} {_PAYMENT_TYPES[logical]}" for name, logical in PAYMENT_COLUMNS) + "\n)",
    # Typed as the aggregates over the events make them.
    "sessions": "CREATE TABLE IF NOT EXISTS sessions AS " + session_rows(_DUCKDB, "false"),
    "identities": "CREATE TABLE IF NOT EXISTS identities (site_id UINTEGER NOT NULL, visitor_id UUID NOT NULL,"
                  " timestamp TIMESTAMP NOT NULL, person VARCHAR NOT NULL)",
    "search_console": "CREATE TABLE IF NOT EXISTS search_console (\n    "
                      + ",\n    ".join(f"{name} {_SEARCH_TYPES[logical]} NOT NULL" for name, logical in SEARCH_COLUMNS)
                      + "\n)",
    "schema_migrations": "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL,"
                         " description VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)",
}
_COLUMN_TYPES = {"payments": {name: _PAYMENT_TYPES[logical] for name, logical in PAYMENT_COLUMNS}}
# A load folds each visit's new events into its row: the batch's part of every visit it
# touches, merged with the row so far (found by the visit's start first, so zone maps skip
# older rows), replaces that row. Visits are never reread from the events table.
REFRESH_SESSIONS = (
    "CREATE OR REPLACE TEMP TABLE touched AS " + session_rows(_DUCKDB, "true", source="batch"),
    "CREATE OR REPLACE TEMP TABLE merged AS SELECT " + ", ".join(merged_session("t", "s"))
    + " FROM touched AS t LEFT JOIN sessions AS s ON s.session_id = t.session_id"
    " AND s.session_started_at >= (SELECT min(x.session_started_at) FROM touched AS x)",
    "DELETE FROM sessions WHERE session_started_at >= (SELECT min(m.session_started_at) FROM merged AS m)"
    " AND session_id IN (SELECT m.session_id FROM merged AS m)",
    "INSERT INTO sessions SELECT * FROM merged",
    "DROP TABLE touched",
    "DROP TABLE merged",
)
_INSERT_PAYMENT = (f"INSERT INTO payments ({', '.join(PAYMENT_COLUMN_NAMES)})"
                   f" VALUES ({', '.join('?' for _ in PAYMENT_COLUMNS)})")
_UPDATE_PAYMENT = (
    "UPDATE payments SET "
    + ", ".join(f"{name} = ?" for name in PAYMENT_COLUMN_NAMES if name not in PAYMENT_KEY_COLUMNS)
    + " WHERE " + " AND ".join(f"{name} = ?" for name in PAYMENT_KEY_COLUMNS)
)
# Search Console rows go in as one list per column, zipped by unnest: thousands of rows per statement.
_INSERT_SEARCH = ("INSERT INTO search_console SELECT $site_id::UINTEGER, "
                  + ", ".join(f"unnest(${name}::{_SEARCH_TYPES[logical]}[])" for name, logical in SEARCH_COLUMNS[1:]))
_SEARCH_BATCH = 10_000


def _stage_from_csv(path: Path) -> str:
    columns = ", ".join(f"'{name}': '{_CSV_TYPES[logical]}'" for name, logical in EVENT_COLUMNS)
    return (
        f"CREATE OR REPLACE TEMP TABLE batch AS SELECT {stored_from_csv(_DUCKDB)} FROM read_csv("
        f"'{path}', header = false, auto_detect = false, columns = {{{columns}}}, "
        "delim = ',', quote = '\"', escape = '\"', new_line = '\\n', allow_quoted_nulls = false)"
    )


class DuckDBEventStore(SQLEventStore):
    dialect = "duckdb"

    def __init__(self, path: Path, *, threads: int | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = duckdb.connect(str(path))
        self._connection.execute("SET TimeZone = 'UTC'")
        # Twice as many threads as cores: on the 2-core machine, dashboard queries over 10 M
        # events ran 20-35 % faster than with DuckDB's default of one per core (bench/query.py).
        self._connection.execute(f"SET threads = {int(threads or 2 * (os.cpu_count() or 1))}")
        self._write_lock = threading.Lock()
        self._staging = path.with_name(path.name + ".load.csv")
        self._stage_sql = _stage_from_csv(self._staging)
        self._migrate()

    # -- primitives -------------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        with self._write_lock, _transaction(self._connection):
            yield

    def _execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._connection.execute(sql, dict(params or {}))

    def _query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        cursor = self._connection.execute(sql, dict(params or {}))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.cursor().execute(sql, dict(params or {}))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def _delete(self, table: str, where: str, params: Mapping[str, Any]) -> None:
        self._execute(f"DELETE FROM {table} WHERE {where}", params)

    def _truncate(self, table: str) -> None:
        self._execute(f"DELETE FROM {table}")

    def _stage(self, rows_csv: bytes) -> str:
        try:
            self._staging.write_bytes(rows_csv)
            self._execute(self._stage_sql)
        finally:
            self._staging.unlink(missing_ok=True)
        return "batch"

    def _unstage(self) -> None:
        self._execute("DROP TABLE batch")

    def _insert_events(self, journal_position: Position | None) -> None:
        self._execute(f"INSERT INTO events ({', '.join(COLUMN_NAMES)}) SELECT * FROM batch")

    def _refresh_sessions(self, batch: str) -> None:
        for statement in REFRESH_SESSIONS:
            self._execute(statement)

    def _write_checkpoint(self, position: Position) -> None:
        self._execute("DELETE FROM journal_checkpoint")
        self._connection.execute("INSERT INTO journal_checkpoint VALUES (?, ?)", list(position))

    def _insert_payments(self, payments: Sequence[Payment]) -> None:
        for payment in payments:
            self._connection.execute(_INSERT_PAYMENT, [_naive_utc(value) for value in payment.row()])

    def _replace_payments(self, payments: Sequence[Payment]) -> None:
        for payment in payments:
            values = [_naive_utc(getattr(payment, name)) for name in PAYMENT_COLUMN_NAMES
                      if name not in PAYMENT_KEY_COLUMNS]
            key = [getattr(payment, name) for name in PAYMENT_KEY_COLUMNS]
            self._connection.execute(_UPDATE_PAYMENT, [*values, *key])

    def _purge_replaced(self, site_id: int, payments: Sequence[Payment]) -> None:
        """Nothing: an UPDATE keeps no older values."""

    def _insert_search_rows(self, site_id: int, rows: Sequence[SearchRow]) -> None:
        names = [name for name, _ in SEARCH_COLUMNS[1:]]
        for start in range(0, len(rows), _SEARCH_BATCH):
            batch = rows[start:start + _SEARCH_BATCH]
            self._execute(_INSERT_SEARCH, {"site_id": site_id} | {
                name: [getattr(row, name) for row in batch] for name in names})

    def create_table(self, name: str) -> None:
        self._execute(_TABLES[name])

    def _column_type(self, table: str, column: str) -> str:
        return _COLUMN_TYPES[table][column]

    def table_columns(self, table: str) -> tuple[str, ...]:
        return tuple(row["column_name"] for row in self._query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $table"
            " ORDER BY ordinal_position", {"table": table}))

    # -- bulk generation (demo.py) -------------------------------------------------------------

    def replace_sites(self, site_ids: Sequence[int], fill: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
        """Replace everything stored of these sites by what `fill` inserts into `events` and `payments`,
        in one transaction, on a cursor of the store's own; their visits and identities are then built
        from the new events. For generating data inside DuckDB (demo.py: millions of rows in seconds,
        where loads would take minutes). The cursor's temp tables and macros go when it closes."""
        ids = [int(site_id) for site_id in site_ids]
        of_sites = _DUCKDB.is_in("site_id", _DUCKDB.param("ids", "ints"))
        with self._write_lock, self._connection.cursor() as db, _transaction(db):
            for table in ("events", "sessions", "identities", "payments"):
                db.execute(f"DELETE FROM {table} WHERE {of_sites}", {"ids": ids})
            fill(db)
            db.execute("INSERT INTO sessions " + session_rows(_DUCKDB, of_sites), {"ids": ids})
            db.execute("INSERT INTO identities " + identity_rows(_DUCKDB, "events", of_sites), {"ids": ids})

    # -- engine-specific reads ------------------------------------------------------------------

    def journal_position(self) -> Position | None:
        row = self.cursor().execute("SELECT segment, byte_offset FROM journal_checkpoint").fetchone()
        return Position(*row) if row else None

    def site_rows(self, table: str, site_id: int, *, batch_rows: int = 10_000) -> Iterator[list[dict[str, Any]]]:
        """Export: every row the site has in `table` (EXPORT_TABLES), `batch_rows` at a time, read
        on a cursor of its own (a snapshot, beside the loads)."""
        columns = EXPORT_COLUMNS[table]
        with self.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE site_id = ? ORDER BY {EXPORT_ORDER[table]}",
                           [site_id])
            while batch := cursor.fetchmany(batch_rows):
                yield [dict(zip(columns, row)) for row in batch]

    def close(self) -> None:
        with self._write_lock:
            self._connection.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own, for reads too large for `fetch` (a `with` block closes it)."""
        return self._connection.cursor()


@contextmanager
def _transaction(db: duckdb.DuckDBPyConnection) -> Iterator[None]:
    db.execute("BEGIN")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _naive_utc(value: Any) -> Any:
    """DuckDB TIMESTAMP columns hold UTC wall-clock times without a zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value
