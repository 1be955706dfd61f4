"""The ClickHouse event store, run in-process on chdb: ClickHouse SQL without a server,
so the ClickHouse dialect can be tested like the DuckDB one.

1. A batch arrives as CSV and goes in through a staging file that ClickHouse reads
   itself (`file()`), as in the DuckDB store; the INSERT ... SELECT turns microseconds
   into DateTime64 and -1 into NULL.
2. `fetch` binds `{name:Type}` parameters through chdb's `params=`: each value travels
   beside the SQL and is parsed as its declared type, never as SQL. chdb hands values to
   ClickHouse as text without escaping them, so `_param_text` writes that text.
3. Results are read as JSONCompact, several times faster than Arrow's `to_pylist()` for
   a few thousand rows (and Arrow sends DateTime as UInt32); its column types say which
   strings are dates. Datetimes come back UTC-aware, whatever their column's time zone;
   UUIDs as str.
4. chdb runs one embedded server per process, on one directory: a store on another
   directory cannot open until this one is closed.
5. Payments are never updated in place: a changed payment (a merged delivery, a link that a
   load's identify or payment events found) is inserted again with the next `version`, and
   reads use `payments FINAL`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
from chdb import session

from postmetric.ingest.sessions import VISIT_FIELDS, ActiveSession
from postmetric.revenue.ledger import (
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
from postmetric.stats.spans import SESSION_COLUMNS, session_rows
from postmetric.store.events import COLUMN_NAMES, CSV_NULL, EVENT_COLUMNS
from postmetric.store.journal import Position

_TYPES = {
    "uint32": "UInt32",
    "uint32?": "Nullable(UInt32)",
    "uint8?": "Nullable(UInt8)",
    "timestamp": "DateTime64(6, 'UTC')",
    "string": "String",
    "json": "String DEFAULT '{}'",
    "uuid": "UUID",
}
# Columns with at most a few thousand distinct values: dictionary-encoded.
_LOW_CARDINALITY = {"type", "name", "channel", "country", "region", "browser", "browser_version", "os",
                    "os_version", "device"}

_CSV_TYPES = {"uint32": "UInt32", "uint32?": "Int64", "uint8?": "Int64", "timestamp": "Int64",
              "string": "String", "json": "String", "uuid": "UUID"}


def column_type(name: str, logical: str) -> str:
    return "LowCardinality(String)" if name in _LOW_CARDINALITY else _TYPES[logical]


CREATE_TABLES = (
    "CREATE TABLE IF NOT EXISTS events (\n    "
    + ",\n    ".join(f"{name} {column_type(name, logical)}" for name, logical in EVENT_COLUMNS)
    # Reads are "one site, a time range"; a visit's events then sit together.
    + "\n) ENGINE = MergeTree ORDER BY (site_id, toDate(timestamp), session_id, timestamp)",
    # Append-only: positions only grow, and the largest is the checkpoint.
    "CREATE TABLE IF NOT EXISTS journal_checkpoint (segment UInt64, byte_offset UInt64) "
    "ENGINE = MergeTree ORDER BY tuple()",
)

# One row per visit (stats.spans.SESSION_COLUMNS), inserted again whenever a load brings
# events of that visit; the newest row of a visit wins (read with FINAL).
CREATE_SESSIONS = (
    "CREATE TABLE sessions ENGINE = ReplacingMergeTree "
    "ORDER BY (site_id, toDate(session_started_at), session_id) AS "
    + session_rows(DIALECTS["clickhouse"], "false") + " SETTINGS prefer_column_name_to_alias = 1"
)

# One row per identify event naming someone (revenue/people.py), appended by every load.
CREATE_IDENTITIES = ("CREATE TABLE identities (site_id UInt32, visitor_id UUID, timestamp DateTime64(6, 'UTC'),"
                     " person String) ENGINE = MergeTree ORDER BY (site_id, visitor_id)")

# The payments ledger (revenue.ledger.PAYMENT_COLUMNS) plus a `version`. `record_payments` inserts a
# row when its key (site, provider, transaction, refund or not) is absent, checked under the store's
# lock; a change to a stored payment (a merged delivery, a link found by a later event) inserts the
# row again with the next version. ReplacingMergeTree(version) on that key, read with FINAL, keeps
# the newest (and one row even if a copy slipped in).
_PAYMENT_TYPES = {"uint32": "UInt32", "string": "String", "int64": "Int64", "int64?": "Nullable(Int64)",
                  "timestamp": "DateTime64(6, 'UTC')", "string?": "Nullable(String)", "uuid?": "Nullable(UUID)"}
_PAYMENT_STORED = (*PAYMENT_COLUMNS, ("version", "version"))
_PAYMENT_TYPES["version"] = "UInt64"


def _create_payments(table: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (\n    "
        + ",\n    ".join(f"{name} {_PAYMENT_TYPES[logical]}" for name, logical in _PAYMENT_STORED)
        + "\n) ENGINE = ReplacingMergeTree(version) ORDER BY (site_id, provider, transaction_id, kind = 'refund')"
    )


CREATE_PAYMENTS = _create_payments("payments")
_PAYMENT_KEY = ("site_id = {site_id:UInt32} AND provider = {provider:String}"
                " AND transaction_id = {transaction_id:String}")
_INSERT_PAYMENT = (
    f"INSERT INTO payments ({', '.join(name for name, _ in _PAYMENT_STORED)}) SELECT "
    + ", ".join(f"{{{name}:{_PAYMENT_TYPES[logical]}}}" for name, logical in _PAYMENT_STORED)
)
_SELECT_PAYMENTS = f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)}, version FROM payments FINAL"
_LINKING = ", ".join(f"'{kind}'" for kind in LINKING_EVENT_TYPES)
_WEAK = ", ".join(f"'{method}'" for method in WEAK_LINKS)

_SESSION_SETTINGS = (
    "SET session_timezone = 'UTC'",
    # Datetimes as ISO text in UTC ending in Z, whatever their column's zone.
    "SET date_time_output_format = 'iso'",
    "SET output_format_json_quote_64bit_integers = 0",
    # A string cut mid-character (substring() counts bytes) must not break the JSON.
    "SET output_format_json_validate_utf8 = 1",
)


def _insert_from_csv() -> str:
    structure = _csv_structure()
    select = ", ".join(_from_csv(name, logical) for name, logical in EVENT_COLUMNS)
    return (
        f"INSERT INTO events ({', '.join(COLUMN_NAMES)}) SELECT {select} "
        f"FROM file({{staging:String}}, 'CSV', '{structure}') "
        # A first row that looked like column names would otherwise be skipped as a header.
        "SETTINGS input_format_csv_detect_header = 0, format_csv_allow_single_quotes = 0"
    )


def _refresh_sessions() -> str:
    """Rewrite the visits of the staged batch from all their events."""
    staged = f"file({{staging:String}}, 'CSV', '{_csv_structure()}')"
    where = (
        f"session_started_at >= fromUnixTimestamp64Micro((SELECT min(session_started_at) FROM {staged}), 'UTC')"
        f" AND session_id IN (SELECT session_id FROM {staged})"
    )
    return (
        "INSERT INTO sessions " + session_rows(DIALECTS["clickhouse"], where)
        + " SETTINGS prefer_column_name_to_alias = 1, input_format_csv_detect_header = 0"
    )


def _csv_structure() -> str:
    return ", ".join(f"{name} {_CSV_TYPES[logical]}" for name, logical in EVENT_COLUMNS)


def _from_csv(name: str, logical: str) -> str:
    if logical == "timestamp":
        return f"fromUnixTimestamp64Micro({name}, 'UTC')"
    if logical.endswith("?"):
        return f"nullIf({name}, {CSV_NULL})"
    return name


class ChdbEventStore:
    dialect = "clickhouse"

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._session = session.Session(str(path))
        for statement in (*_SESSION_SETTINGS, *CREATE_TABLES, CREATE_PAYMENTS):
            self._session.query(statement)
        self._upgrade_payments()
        # chdb's session is thread-safe, but closing it under a running query is not.
        self._lock = threading.Lock()
        self._staging = path.with_name(path.name + ".load.csv")
        self._insert_sql = _insert_from_csv()
        self._refresh_sql = _refresh_sessions()
        self._linking_events_sql = (
            "SELECT site_id, visitor_id, session_id, fromUnixTimestamp64Micro(timestamp, 'UTC') AS timestamp, type,"
            f" props FROM file({{staging:String}}, 'CSV', '{_csv_structure()}') WHERE type IN ({_LINKING})"
            " SETTINGS input_format_csv_detect_header = 0, format_csv_allow_single_quotes = 0"
        )
        staged = (f"(SELECT site_id, visitor_id, fromUnixTimestamp64Micro(timestamp, 'UTC') AS timestamp, type, props"
                  f" FROM file({{staging:String}}, 'CSV', '{_csv_structure()}'))")
        self._identities_sql = ("INSERT INTO identities " + identity_rows(DIALECTS["clickhouse"], staged)
                                + " SETTINGS input_format_csv_detect_header = 0, format_csv_allow_single_quotes = 0")
        self._ensure_sessions_table()
        self._ensure_identities_table()

    def _ensure_identities_table(self) -> None:
        """A data dir from before the identities table gets it built from its events."""
        if self.fetch("SELECT name FROM system.tables WHERE database = currentDatabase() AND name = 'identities'"):
            return
        self._session.query(CREATE_IDENTITIES)
        self._session.query("INSERT INTO identities " + identity_rows(DIALECTS["clickhouse"], "events"))

    def _ensure_sessions_table(self) -> None:
        """A data dir from before the sessions table, or from an older layout of it, gets
        it (re)built from its events."""
        columns = tuple(row["name"] for row in self.fetch(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'sessions'"
            " ORDER BY position"))
        if columns == SESSION_COLUMNS:
            return
        self._session.query("DROP TABLE IF EXISTS sessions")
        self._session.query(CREATE_SESSIONS)
        self.rebuild_sessions()

    def _upgrade_payments(self) -> None:
        """A payments table from an older layout (without `version` or a later column) is copied
        into the current one: ClickHouse cannot change a table's engine in place."""
        columns = {row["name"] for row in self._query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'payments'", {})}
        wanted = [name for name, _ in _PAYMENT_STORED]
        if set(wanted) <= columns:
            return
        kept = [name for name in wanted if name in columns]
        self._session.query("DROP TABLE IF EXISTS payments_upgrade")
        self._session.query(_create_payments("payments_upgrade"))
        self._session.query(f"INSERT INTO payments_upgrade ({', '.join(kept)}) SELECT {', '.join(kept)}"
                            " FROM payments FINAL")
        self._session.query("EXCHANGE TABLES payments AND payments_upgrade")
        self._session.query("DROP TABLE payments_upgrade")

    def load(self, rows_csv: bytes, *, journal_position: Position | None = None) -> None:
        if not rows_csv and journal_position is None:
            return
        with self._lock:
            try:
                if rows_csv:
                    self._staging.write_bytes(rows_csv)
                    self._session.query(self._insert_sql, params={"staging": str(self._staging)})
                    self._session.query(self._refresh_sql, params={"staging": str(self._staging)})
                    self._session.query(self._identities_sql, params={"staging": str(self._staging)})
                    self._link_payments()
                # No transactions in ClickHouse: a crash between the two inserts leaves the
                # rows without their checkpoint, and the journal replays the batch (twice
                # stored). The crash-safe ClickHouse store is a later issue.
                if journal_position is not None:
                    segment, offset = journal_position
                    self._session.query(
                        "INSERT INTO journal_checkpoint VALUES ({segment:UInt64}, {offset:UInt64})",
                        params={"segment": str(segment), "offset": str(offset)},
                    )
            finally:
                self._staging.unlink(missing_ok=True)

    def rebuild_sessions(self) -> None:
        """Recompute the whole sessions table, after events were written around `load`."""
        with self._lock:
            self._session.query("TRUNCATE TABLE sessions")
            self._session.query("INSERT INTO sessions " + session_rows(DIALECTS["clickhouse"], "true")
                                + " SETTINGS prefer_column_name_to_alias = 1")

    def journal_position(self) -> Position | None:
        rows = self.fetch(
            "SELECT segment, byte_offset FROM journal_checkpoint ORDER BY segment DESC, byte_offset DESC LIMIT 1"
        )
        return Position(rows[0]["segment"], rows[0]["byte_offset"]) if rows else None

    def active_sessions(self, since: float) -> list[ActiveSession]:
        rows = self.fetch(
            f"""
            SELECT site_id, visitor_id, session_id,
                   toUnixTimestamp64Micro(min(session_started_at)) AS started_us,
                   toUnixTimestamp64Micro(max(timestamp)) AS last_seen_us,
                   argMax(({", ".join(VISIT_FIELDS)}), timestamp) AS attributes
            FROM events
            WHERE timestamp >= fromUnixTimestamp64Micro({{since:Int64}}, 'UTC')
            GROUP BY site_id, visitor_id, session_id
            """,
            {"since": int(since * 1_000_000)},
        )
        return [
            ActiveSession(
                site_id=row["site_id"],
                visitor_id=row["visitor_id"],
                session_id=row["session_id"],
                started_at=row["started_us"] / 1_000_000,
                last_seen=row["last_seen_us"] / 1_000_000,
                attributes=tuple(row["attributes"]),
            )
            for row in rows
        ]

    def _link_payments(self) -> None:
        """Link the weakly linked payments of the staged batch's sites that its identify and
        payment events match (`links_from_events`): their next version."""
        events = [link_event(row["site_id"], row["visitor_id"], row["session_id"], row["timestamp"], row["type"],
                             row["props"]) for row in self._query(self._linking_events_sql,
                                                                  {"staging": str(self._staging)})]
        if not events:
            return
        rows = self._query(f"{_SELECT_PAYMENTS} WHERE has({{sites:Array(UInt32)}}, site_id)"
                           f" AND link_method IN ({_WEAK})", {"sites": sorted({e.site_id for e in events})})
        versions = {}
        weak = []
        for row in rows:
            payment = payment_from_row(row)
            versions[payment.key] = row["version"]
            weak.append(payment)
        for payment in links_from_events(weak, events):
            self._write_payment(payment, versions[payment.key] + 1)

    def record_payments(self, payments: Sequence[Payment]) -> list[bool]:
        """Store the payments not recorded yet; for each, whether it was new. A second delivery
        of a payment (same site, provider, transaction id, refund or not) is merged into the
        stored one (`merged_delivery`: a stronger link, missing ids, a larger refund), as the
        row's next version."""
        added = []
        with self._lock:
            for payment in payments:
                key = {"site_id": payment.site_id, "provider": payment.provider,
                       "transaction_id": payment.transaction_id, "refund": payment.kind == "refund"}
                existing = self._query(
                    f"{_SELECT_PAYMENTS} WHERE {_PAYMENT_KEY} AND (kind = 'refund') = {{refund:Bool}}", key)
                if not existing:
                    self._write_payment(payment, 1)
                    added.append(True)
                    continue
                stored = payment_from_row(existing[0])
                merged = merged_delivery(stored, payment)
                if merged != stored:
                    self._write_payment(merged, existing[0]["version"] + 1)
                added.append(False)
        return added

    def _write_payment(self, payment: Payment, version: int) -> None:
        self._query(_INSERT_PAYMENT, dict(zip(PAYMENT_COLUMN_NAMES, payment.row())) | {"version": version})

    def delete_payment(self, site_id: int, provider: str, transaction_id: str) -> bool:
        """Remove the transaction (and its refund); whether there was one."""
        key = {"site_id": site_id, "provider": provider, "transaction_id": transaction_id}
        with self._lock:
            if not self._query(f"SELECT count() AS n FROM payments FINAL WHERE {_PAYMENT_KEY}", key)[0]["n"]:
                return False
            # A synchronous mutation: the rows are gone when it returns.
            self._query(f"ALTER TABLE payments DELETE WHERE {_PAYMENT_KEY} SETTINGS mutations_sync = 2", key)
        return True

    def payments(self, site_id: int, *, provider: str | None = None, transaction_id: str | None = None,
                 visitor_id: str | None = None) -> list[Payment]:
        """The site's payments, oldest first, optionally of one provider, transaction or visitor."""
        rows = self.fetch(
            f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)} FROM payments FINAL WHERE site_id = {{site_id:UInt32}}"
            " AND ({provider:Nullable(String)} IS NULL OR provider = {provider:Nullable(String)})"
            " AND ({transaction_id:Nullable(String)} IS NULL OR transaction_id = {transaction_id:Nullable(String)})"
            " AND ({visitor_id:Nullable(UUID)} IS NULL OR visitor_id = {visitor_id:Nullable(UUID)})"
            " ORDER BY timestamp, transaction_id, kind = 'refund'",
            {"site_id": site_id, "provider": provider, "transaction_id": transaction_id, "visitor_id": visitor_id},
        )
        return [payment_from_row(row) for row in rows]

    def _query(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """`fetch` for a caller that already holds the lock."""
        result = self._session.query(sql, "JSONCompact",
                                     params={name: _param_text(value) for name, value in params.items()})
        return _rows(result.bytes())

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one read-only statement. Parameters: str, int, float, bool, None, datetime
        (naive = UTC; declare it `DateTime64(6, 'UTC')` or `DateTime('UTC')`, as its text is
        read in the declared zone), date, UUID, and lists or tuples of these for `Array(T)`."""
        texts = {name: _param_text(value) for name, value in (params or {}).items()}
        with self._lock:
            result = self._session.query(sql, "JSONCompact", params=texts)
        return _rows(result.bytes())

    def close(self) -> None:
        with self._lock:
            self._session.close()


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


# ClickHouse reads a parameter as its type's text in the escaped (TSV) format; inside an
# array, elements are literals in the quoted format.
_ESCAPED = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n"})
_QUOTED = str.maketrans({"\\": "\\\\", "'": "\\'"})


def _param_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, (list, tuple)):
        return _array_text(value)
    return _text(value).translate(_ESCAPED)


def _array_text(values: list | tuple) -> str:
    return "[" + ",".join(map(_literal, values)) + "]"


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (list, tuple)):
        return _array_text(value)
    if isinstance(value, (int, float)):
        return _text(value)
    return "'" + _text(value).translate(_QUOTED) + "'"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        # A fraction would not parse as DateTime (whole seconds).
        return f"{text}.{value.microsecond:06d}" if value.microsecond else text
    if isinstance(value, (date, UUID)):
        return str(value)
    raise TypeError(f"cannot pass {type(value).__name__} as a ClickHouse query parameter")
