"""The embedded event store: one DuckDB file in the data dir.

1. Rows arrive in large batches from the ingestion journal's loader, one transaction
   each, together with the journal position they reach.
2. Reads use a cursor per call, so they run beside the loader.
3. A batch arrives as CSV (the journal's own format) and goes in through a staging file
   that DuckDB reads itself. Binding Python lists as parameters was as fast, but converted
   every value while holding the GIL, stealing a quarter of the event loop's time during
   loads; reading a file, DuckDB releases the GIL.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from postmetric.ingest.sessions import VISIT_FIELDS, ActiveSession
from postmetric.revenue.ledger import PAYMENT_COLUMN_NAMES, PAYMENT_COLUMNS, Payment, payment_from_row
from postmetric.stats.dialects import DIALECTS
from postmetric.stats.spans import SESSION_COLUMNS, merged_session, session_rows
from postmetric.store.events import COLUMN_NAMES, CSV_NULL, EVENT_COLUMNS
from postmetric.store.journal import Position

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

CREATE_TABLES = (
    "CREATE TABLE IF NOT EXISTS events (\n    "
    + ",\n    ".join(f"{name} {_TYPES[logical]}" for name, logical in EVENT_COLUMNS)
    + "\n)",
    "CREATE TABLE IF NOT EXISTS journal_checkpoint (segment BIGINT NOT NULL, byte_offset BIGINT NOT NULL)",
)
# The payments ledger (revenue.ledger.PAYMENT_COLUMNS), one row per (site, provider, transaction,
# refund or not): `record_payments` inserts only rows whose key is not there yet (an anti-join
# under the write lock; a key with an expression cannot be a PRIMARY KEY).
_PAYMENT_TYPES = {"uint32": "UINTEGER NOT NULL", "string": "VARCHAR NOT NULL", "int64": "BIGINT NOT NULL",
                  "int64?": "BIGINT", "timestamp": "TIMESTAMP NOT NULL", "string?": "VARCHAR", "uuid?": "UUID"}
CREATE_PAYMENTS = (
    "CREATE TABLE IF NOT EXISTS payments (\n    "
    + ",\n    ".join(f"{name} {_PAYMENT_TYPES[logical]}" for name, logical in PAYMENT_COLUMNS)
    + "\n)"
)
_PAYMENT_KEY = ("p.site_id = b.site_id AND p.provider = b.provider AND p.transaction_id = b.transaction_id"
                " AND (p.kind = 'refund') = (b.kind = 'refund')")
# One row per visit (stats.spans.SESSION_COLUMNS), rewritten whenever a load brings
# events of that visit: what visit-level stats read instead of grouping events.
CREATE_SESSIONS = "CREATE TABLE sessions AS " + session_rows(DIALECTS["duckdb"], "false")
# A load folds each visit's new events into its row: the batch's part of every visit it
# touches, merged with the row so far (found by the visit's start first, so zone maps skip
# older rows), replaces that row. Visits are never reread from the events table.
_DUCKDB = DIALECTS["duckdb"]
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


def _stage_from_csv(path: Path) -> str:
    columns = ", ".join(f"'{name}': '{_CSV_TYPES[logical]}'" for name, logical in EVENT_COLUMNS)
    select = ", ".join(_from_csv(name, logical) for name, logical in EVENT_COLUMNS)
    return (
        f"CREATE OR REPLACE TEMP TABLE batch AS SELECT {select} FROM read_csv("
        f"'{path}', header = false, auto_detect = false, columns = {{{columns}}}, "
        "delim = ',', quote = '\"', escape = '\"', new_line = '\\n', allow_quoted_nulls = false)"
    )


def _from_csv(name: str, logical: str) -> str:
    if logical == "timestamp":
        return f"make_timestamp({name}) AS {name}"
    if logical.endswith("?"):
        return f"nullif({name}, {CSV_NULL}) AS {name}"
    return name


class DuckDBEventStore:
    dialect = "duckdb"

    def __init__(self, path: Path, *, threads: int | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = duckdb.connect(str(path))
        self._connection.execute("SET TimeZone = 'UTC'")
        # Twice as many threads as cores: on the 2-core machine, dashboard queries over 10 M
        # events ran 20-35 % faster than with DuckDB's default of one per core (bench/query.py).
        self._connection.execute(f"SET threads = {int(threads or 2 * (os.cpu_count() or 1))}")
        for statement in (*CREATE_TABLES, CREATE_PAYMENTS):
            self._connection.execute(statement)
        self._write_lock = threading.Lock()
        self._ensure_sessions_table()
        self._staging = path.with_name(path.name + ".load.csv")
        self._stage_sql = _stage_from_csv(self._staging)

    def load(self, rows_csv: bytes, *, journal_position: Position | None = None) -> None:
        if not rows_csv and journal_position is None:
            return
        with self._write_lock:
            db = self._connection
            db.execute("BEGIN")
            try:
                if rows_csv:
                    self._staging.write_bytes(rows_csv)
                    db.execute(self._stage_sql)
                    db.execute(f"INSERT INTO events ({', '.join(COLUMN_NAMES)}) SELECT * FROM batch")
                    for statement in REFRESH_SESSIONS:
                        db.execute(statement)
                    db.execute("DROP TABLE batch")
                if journal_position is not None:
                    db.execute("DELETE FROM journal_checkpoint")
                    db.execute("INSERT INTO journal_checkpoint VALUES (?, ?)", list(journal_position))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            finally:
                self._staging.unlink(missing_ok=True)

    def _ensure_sessions_table(self) -> None:
        """A data dir from before the sessions table, or from an older layout of it, gets
        it (re)built from its events."""
        columns = tuple(row[0] for row in self._connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'sessions'"
            " ORDER BY ordinal_position").fetchall())
        if columns == SESSION_COLUMNS:
            return
        self._connection.execute("DROP TABLE IF EXISTS sessions")
        self._connection.execute(CREATE_SESSIONS)
        self.rebuild_sessions()

    def rebuild_sessions(self) -> None:
        """Recompute the whole sessions table, after events were written around `load`."""
        with self._write_lock:
            db = self._connection
            db.execute("BEGIN")
            db.execute("DELETE FROM sessions")
            db.execute("INSERT INTO sessions " + session_rows(DIALECTS["duckdb"], "true"))
            db.execute("COMMIT")

    def journal_position(self) -> Position | None:
        row = self._cursor().execute("SELECT segment, byte_offset FROM journal_checkpoint").fetchone()
        return Position(*row) if row else None

    def active_sessions(self, since: float) -> list[ActiveSession]:
        visit_columns = ", ".join(f"arg_max({name}, timestamp)" for name in VISIT_FIELDS)
        rows = self._cursor().execute(
            f"""
            SELECT site_id, visitor_id::VARCHAR, session_id::VARCHAR, epoch_us(min(session_started_at)),
                   epoch_us(max(timestamp)), {visit_columns}
            FROM events
            WHERE timestamp >= make_timestamp(?::BIGINT)
            GROUP BY site_id, visitor_id, session_id
            """,
            [int(since * 1_000_000)],
        ).fetchall()
        return [
            ActiveSession(
                site_id=row[0],
                visitor_id=row[1],
                session_id=row[2],
                started_at=row[3] / 1_000_000,
                last_seen=row[4] / 1_000_000,
                attributes=tuple(row[5:]),
            )
            for row in rows
        ]

    def record_payments(self, payments: Sequence[Payment]) -> list[bool]:
        """Store the payments not recorded yet; for each, whether it was new. A second delivery
        of a payment (same site, provider, transaction id, refund or not) changes nothing."""
        if not payments:
            return []
        placeholders = ", ".join("?" for _ in PAYMENT_COLUMNS)
        added = []
        with self._write_lock:
            db = self._connection
            db.execute("BEGIN")
            try:
                for payment in payments:
                    row = [_naive_utc(value) for value in payment.row()]
                    inserted = db.execute(
                        f"INSERT INTO payments SELECT * FROM (SELECT {placeholders}) AS b"
                        f"({', '.join(PAYMENT_COLUMN_NAMES)})"
                        f" WHERE NOT EXISTS (SELECT 1 FROM payments AS p WHERE {_PAYMENT_KEY})", row,
                    ).fetchone()
                    added.append(bool(inserted and inserted[0]))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return added

    def delete_payment(self, site_id: int, provider: str, transaction_id: str) -> bool:
        """Remove the transaction (and its refund); whether there was one."""
        with self._write_lock:
            deleted = self._connection.execute(
                "DELETE FROM payments WHERE site_id = ? AND provider = ? AND transaction_id = ?",
                [site_id, provider, transaction_id]).fetchone()
        return bool(deleted and deleted[0])

    def payments(self, site_id: int, *, provider: str | None = None,
                 transaction_id: str | None = None) -> list[Payment]:
        """The site's payments, oldest first, optionally of one provider or transaction."""
        rows = self.fetch(
            f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)} FROM payments WHERE site_id = $site_id"
            " AND ($provider IS NULL OR provider = $provider)"
            " AND ($transaction_id IS NULL OR transaction_id = $transaction_id)"
            " ORDER BY timestamp, transaction_id, kind = 'refund'",
            {"site_id": site_id, "provider": provider, "transaction_id": transaction_id},
        )
        return [payment_from_row(row) for row in rows]

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        cursor = self._cursor().execute(sql, dict(params or {}))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def close(self) -> None:
        with self._write_lock:
            self._connection.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        return self._connection.cursor()


def _naive_utc(value: Any) -> Any:
    """DuckDB TIMESTAMP columns hold UTC wall-clock times without a zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value
