"""The embedded event store: one DuckDB file in the data dir.

1. Rows arrive in large batches from the ingestion journal's loader, one transaction
   each, together with the journal position they reach.
2. Reads use a cursor per call, so they run beside the loader.
3. A batch arrives as CSV (the journal's own format) and goes in through a staging file
   that DuckDB reads itself. Binding Python lists as parameters was as fast, but converted
   every value while holding the GIL, stealing a quarter of the event loop's time during
   loads; reading a file, DuckDB releases the GIL.
4. The payments ledger sits beside the events: a load's identify and payment events link
   earlier, weakly linked payments (`revenue/linking.py`) in the load's own transaction, and
   a repeated delivery is merged into its row with an UPDATE.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from postmetric.ingest.sessions import VISIT_FIELDS, ActiveSession
from postmetric.revenue.ledger import (
    ERASED_COLUMNS,
    ERASED_LINK,
    PAYMENT_COLUMN_NAMES,
    PAYMENT_COLUMNS,
    WEAK_LINKS,
    Payment,
    merged_delivery,
    payment_from_row,
)
from postmetric.revenue.linking import LINKING_EVENT_TYPES, link_event, links_from_events
from postmetric.revenue.people import identity_rows
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
# refund or not): `record_payments` looks the key up under the write lock and inserts or merges
# (a key with an expression cannot be a PRIMARY KEY).
_PAYMENT_TYPES = {"uint32": "UINTEGER NOT NULL", "string": "VARCHAR NOT NULL", "int64": "BIGINT NOT NULL",
                  "int64?": "BIGINT", "timestamp": "TIMESTAMP NOT NULL", "string?": "VARCHAR", "uuid?": "UUID"}
CREATE_PAYMENTS = (
    "CREATE TABLE IF NOT EXISTS payments (\n    "
    + ",\n    ".join(f"{name} {_PAYMENT_TYPES[logical]}" for name, logical in PAYMENT_COLUMNS)
    + "\n)"
)
# A table made before a column was added to PAYMENT_COLUMNS (always nullable, always last) gets it.
_ADD_PAYMENT_COLUMNS = tuple(
    f"ALTER TABLE payments ADD COLUMN IF NOT EXISTS {name} {_PAYMENT_TYPES[logical]}"
    for name, logical in PAYMENT_COLUMNS if logical.endswith("?")
)
# One row per visit (stats.spans.SESSION_COLUMNS), rewritten whenever a load brings
# events of that visit: what visit-level stats read instead of grouping events.
CREATE_SESSIONS = "CREATE TABLE sessions AS " + session_rows(DIALECTS["duckdb"], "false")
# One row per identify event naming someone (revenue/people.py), appended by every load.
CREATE_IDENTITIES = ("CREATE TABLE identities (site_id UINTEGER NOT NULL, visitor_id UUID NOT NULL,"
                     " timestamp TIMESTAMP NOT NULL, person VARCHAR NOT NULL)")
INSERT_IDENTITIES = "INSERT INTO identities " + identity_rows(DIALECTS["duckdb"], "batch")
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
        for statement in (*CREATE_TABLES, CREATE_PAYMENTS, *_ADD_PAYMENT_COLUMNS):
            self._connection.execute(statement)
        self._write_lock = threading.Lock()
        self._ensure_sessions_table()
        self._ensure_identities_table()
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
                    db.execute(INSERT_IDENTITIES)
                    _link_payments(db)
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

    def _ensure_identities_table(self) -> None:
        """A data dir from before the identities table gets it built from its events."""
        if self._connection.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'identities'").fetchone()[0]:
            return
        with self._write_lock:
            db = self._connection
            db.execute("BEGIN")
            db.execute(CREATE_IDENTITIES)
            db.execute("INSERT INTO identities " + identity_rows(DIALECTS["duckdb"], "events"))
            db.execute("COMMIT")

    def rebuild_sessions(self) -> None:
        """Recompute the whole sessions table, after events were written around `load`."""
        with self._write_lock:
            db = self._connection
            db.execute("BEGIN")
            db.execute("DELETE FROM sessions")
            db.execute("INSERT INTO sessions " + session_rows(DIALECTS["duckdb"], "true"))
            db.execute("COMMIT")

    def journal_position(self) -> Position | None:
        row = self.cursor().execute("SELECT segment, byte_offset FROM journal_checkpoint").fetchone()
        return Position(*row) if row else None

    def active_sessions(self, since: float) -> list[ActiveSession]:
        visit_columns = ", ".join(f"arg_max({name}, timestamp)" for name in VISIT_FIELDS)
        rows = self.cursor().execute(
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
        of a payment (same site, provider, transaction id, refund or not) is merged into the
        stored one (`merged_delivery`: a stronger link, missing ids, a larger refund)."""
        if not payments:
            return []
        added = []
        with self._write_lock:
            db = self._connection
            db.execute("BEGIN")
            try:
                for payment in payments:
                    found = db.execute(
                        f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)} FROM payments WHERE site_id = ? AND provider = ?"
                        " AND transaction_id = ? AND (kind = 'refund') = ?",
                        [payment.site_id, payment.provider, payment.transaction_id, payment.kind == "refund"],
                    ).fetchone()
                    if found is None:
                        db.execute(_INSERT_PAYMENT, [_naive_utc(value) for value in payment.row()])
                    else:
                        stored = payment_from_row(dict(zip(PAYMENT_COLUMN_NAMES, found)))
                        merged = merged_delivery(stored, payment)
                        if merged != stored:
                            _update_payment(db, merged)
                    added.append(found is None)
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

    def delete_before(self, site_id: int, cutoff: datetime) -> int:
        """Retention: forget the site's visits begun before `cutoff` (UTC), whole, with their events and
        the identities recorded before it; payments stay (the ledger is the site's accounts). Returns how
        many events went."""
        params = [site_id, _naive_utc(cutoff)]
        with self._write_lock:
            db = self._connection
            db.execute("BEGIN")
            try:
                deleted = db.execute("DELETE FROM events WHERE site_id = ? AND session_started_at < ?", params).fetchone()[0]
                db.execute("DELETE FROM sessions WHERE site_id = ? AND session_started_at < ?", params)
                db.execute("DELETE FROM identities WHERE site_id = ? AND timestamp < ?", params)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return deleted

    def delete_sites(self, site_ids: Sequence[int]) -> dict[int, int]:
        """Site deletion: forget everything stored of these sites (events, visits, identities, payments) in
        one transaction; site id → events deleted, for the sites that had rows. Looked up under the write
        lock, like the deletes: a purge running in a job thread at shutdown then finishes before `close`."""
        ids = [int(site_id) for site_id in site_ids]
        if not ids:
            return {}
        with self._write_lock:
            db = self._connection
            found = db.execute(
                "SELECT site_id, sum(n)::BIGINT FROM (SELECT site_id, count(*) AS n FROM events WHERE list_contains($ids, site_id)"
                " GROUP BY site_id UNION ALL SELECT DISTINCT site_id, 0 FROM payments WHERE list_contains($ids, site_id)"
                " UNION ALL SELECT DISTINCT site_id, 0 FROM identities WHERE list_contains($ids, site_id)) GROUP BY site_id",
                {"ids": ids}).fetchall()
            if not found:
                return {}
            stored = [site_id for site_id, _ in found]
            db.execute("BEGIN")
            try:
                for table in ("events", "sessions", "identities", "payments"):
                    db.execute(f"DELETE FROM {table} WHERE list_contains($ids, site_id)", {"ids": stored})
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return dict(found)

    # -- erasure and export (privacy/): kept apart from the site-wide purge ---------------------

    def erase_visitors(self, site_id: int, visitor_ids: Sequence[str]) -> dict[str, int]:
        """Erasure: delete every event, visit and identity of the site's `visitor_ids`, in one
        transaction; how many rows went from each table."""
        params = [site_id, list(visitor_ids)]
        counts = {}
        with self._write_lock:
            db = self._connection
            db.execute("BEGIN")
            try:
                for table, column in (("events", "visitor_id"), ("sessions", "span_visitor"),
                                      ("identities", "visitor_id")):
                    counts[table] = db.execute(
                        f"DELETE FROM {table} WHERE site_id = ? AND list_contains(?::UUID[], {column})",
                        params).fetchone()[0]
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return counts

    def scrub_payments(self, site_id: int, *, visitor_ids: Sequence[str], emails: Sequence[str],
                       customer_ids: Sequence[str]) -> int:
        """Erasure: strip the personal data (`ERASED_COLUMNS`) from the site's payments of these
        visitors, emails (compared lower-cased) or customer ids, keeping amounts and dates; how many."""
        where = ("site_id = ? AND (list_contains(?::UUID[], visitor_id)"
                 " OR list_contains(?::VARCHAR[], lower(email)) OR list_contains(?::VARCHAR[], customer_id))")
        params = [site_id, list(visitor_ids), [email.lower() for email in emails], list(customer_ids)]
        with self._write_lock:
            return self._connection.execute(
                f"UPDATE payments SET {', '.join(f'{name} = NULL' for name in ERASED_COLUMNS)},"
                f" link_method = '{ERASED_LINK}' WHERE {where}", params).fetchone()[0]

    def site_rows(self, table: str, site_id: int, *, batch_rows: int = 10_000) -> Iterator[list[dict[str, Any]]]:
        """Export: every row the site has in `table` (EXPORT_TABLES), `batch_rows` at a time, read
        on a cursor of its own (a snapshot, beside the loads)."""
        columns = _EXPORT_COLUMNS[table]
        with self.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE site_id = ? ORDER BY {_EXPORT_ORDER[table]}",
                           [site_id])
            while batch := cursor.fetchmany(batch_rows):
                yield [dict(zip(columns, row)) for row in batch]

    def payments(self, site_id: int, *, provider: str | None = None, transaction_id: str | None = None,
                 visitor_id: str | None = None) -> list[Payment]:
        """The site's payments, oldest first, optionally of one provider, transaction or visitor."""
        rows = self.fetch(
            f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)} FROM payments WHERE site_id = $site_id"
            " AND ($provider IS NULL OR provider = $provider)"
            " AND ($transaction_id IS NULL OR transaction_id = $transaction_id)"
            " AND ($visitor_id IS NULL OR visitor_id = $visitor_id::UUID)"
            " ORDER BY timestamp, transaction_id, kind = 'refund'",
            {"site_id": site_id, "provider": provider, "transaction_id": transaction_id, "visitor_id": visitor_id},
        )
        return [payment_from_row(row) for row in rows]

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        cursor = self.cursor().execute(sql, dict(params or {}))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def close(self) -> None:
        with self._write_lock:
            self._connection.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own, for reads too large for `fetch` (a `with` block closes it)."""
        return self._connection.cursor()


# What a site's export holds (privacy/export.py), in a stable order.
_EXPORT_COLUMNS = {"events": COLUMN_NAMES, "sessions": SESSION_COLUMNS, "payments": PAYMENT_COLUMN_NAMES}
_EXPORT_ORDER = {"events": "timestamp, session_id", "sessions": "session_started_at, session_id",
                 "payments": "timestamp, transaction_id, kind"}


def _link_payments(db: duckdb.DuckDBPyConnection) -> None:
    """Link the weakly linked payments of the staged batch's sites that its identify and
    payment events match (`links_from_events`), inside the load's transaction."""
    events = [link_event(*row) for row in db.execute(
        f"SELECT site_id, visitor_id, session_id, timestamp, type, props FROM batch WHERE type IN ({_LINKING})"
    ).fetchall()]
    if not events:
        return
    cursor = db.execute(
        f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)} FROM payments WHERE list_contains(?, site_id)"
        f" AND link_method IN ({_WEAK})",
        [sorted({event.site_id for event in events})])
    weak = [payment_from_row(dict(zip(PAYMENT_COLUMN_NAMES, row))) for row in cursor.fetchall()]
    for payment in links_from_events(weak, events):
        _update_payment(db, payment)


_LINKING = ", ".join(f"'{kind}'" for kind in LINKING_EVENT_TYPES)
_WEAK = ", ".join(f"'{method}'" for method in WEAK_LINKS)
_INSERT_PAYMENT = (f"INSERT INTO payments ({', '.join(PAYMENT_COLUMN_NAMES)})"
                   f" VALUES ({', '.join('?' for _ in PAYMENT_COLUMNS)})")
_KEY_COLUMNS = ("site_id", "provider", "transaction_id", "kind")
_UPDATE_PAYMENT = (
    "UPDATE payments SET " + ", ".join(f"{name} = ?" for name in PAYMENT_COLUMN_NAMES if name not in _KEY_COLUMNS)
    + " WHERE site_id = ? AND provider = ? AND transaction_id = ? AND kind = ?"
)


def _update_payment(db: duckdb.DuckDBPyConnection, payment: Payment) -> None:
    """Rewrite the stored row of `payment` (same key, same kind) with its values."""
    values = [_naive_utc(getattr(payment, name)) for name in PAYMENT_COLUMN_NAMES if name not in _KEY_COLUMNS]
    db.execute(_UPDATE_PAYMENT, [*values, *(getattr(payment, name) for name in _KEY_COLUMNS)])


def _naive_utc(value: Any) -> Any:
    """DuckDB TIMESTAMP columns hold UTC wall-clock times without a zone."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value
