"""The ClickHouse event store, through clickhouse-connect: a ClickHouse server (or cluster) over
its HTTP interface, or the engine embedded by chdb (`chdb:///path`), with the same SQL.

1. A batch arrives as CSV and goes into a staging table of this store's own (Memory engine),
   from which INSERT ... SELECTs fill `events` (microseconds become DateTime64, -1 NULL), refresh
   the batch's visits in `sessions`, append its `identities` and link payments. An INSERT
   returns once its rows are written, so the journal checkpoint that follows marks stored rows.
2. Values travel as `{name:Type}` parameters beside the SQL, parsed as their declared type,
   never as SQL (`_bound` turns the Python values clickhouse-connect would misspell into text).
3. Results are read as JSONCompact, several times faster than Arrow's `to_pylist()` for
   a few thousand rows; its column types say which strings are dates. Datetimes come back
   UTC-aware, whatever their column's time zone; UUIDs as str.
4. Every app node has its own journal, so checkpoints are kept per journal id.
5. Payments are never updated in place: a changed payment (a merged delivery, a link that a
   load's identify or payment events found) is inserted again with the next `version`, and
   reads use `payments FINAL`.
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
from contextlib import nullcontext
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import clickhouse_connect
import orjson
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from postmetric.errors import StoreUnreachable
from postmetric.ingest.sessions import VISIT_FIELDS, ActiveSession
from postmetric.revenue.ledger import (
    ERASED_COLUMNS,
    ERASED_LINK,
    PAYMENT_COLUMN_NAMES,
    WEAK_LINKS,
    Payment,
    merged_delivery,
    payment_from_row,
)
from postmetric.revenue.linking import LINKING_EVENT_TYPES, link_event, links_from_events
from postmetric.revenue.people import identity_rows
from postmetric.stats.dialects import DIALECTS
from postmetric.stats.spans import SESSION_COLUMNS, session_rows
from postmetric.store.clickhouse_schema import (
    CSV_STRUCTURE,
    EVENTS,
    IDENTITIES,
    JOURNAL_CHECKPOINT,
    PAYMENT_STORED,
    PAYMENT_STORED_TYPES,
    PAYMENTS,
    cluster_statements,
    distributed_cluster,
    sessions_table,
)
from postmetric.store.events import COLUMN_NAMES, CSV_NULL, EVENT_COLUMNS
from postmetric.store.journal import Position

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

_PAYMENT_KEY = ("site_id = {site_id:UInt32} AND provider = {provider:String}"
                " AND transaction_id = {transaction_id:String}")
_INSERT_PAYMENT = (f"INSERT INTO payments ({', '.join(PAYMENT_STORED)}) SELECT "
                   + ", ".join(f"{{{name}:{PAYMENT_STORED_TYPES[name]}}}" for name in PAYMENT_STORED))
_SELECT_PAYMENTS = f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)}, version FROM payments FINAL"
_LINKING = ", ".join(f"'{kind}'" for kind in LINKING_EVENT_TYPES)
_WEAK = ", ".join(f"'{method}'" for method in WEAK_LINKS)


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


class ClickHouseEventStore:
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
            for table in (EVENTS, JOURNAL_CHECKPOINT, PAYMENTS):
                self._command(table.single_server())
            self._ensure_sessions_table()
            self._ensure_identities_table()
        # The node's own staging table: several nodes load at once.
        self._staging = f"load_{journal_id.replace('-', '') or secrets.token_hex(8)}"
        self._command(f"CREATE TABLE IF NOT EXISTS {self._staging} ({CSV_STRUCTURE}) ENGINE = Memory")
        staged = (f"(SELECT site_id, visitor_id, session_id, fromUnixTimestamp64Micro(timestamp, 'UTC') AS timestamp,"
                  f" type, props FROM {self._staging})")
        self._load_sql = (
            f"INSERT INTO events ({', '.join(COLUMN_NAMES)})"
            f" SELECT {', '.join(_from_csv(name, logical) for name, logical in EVENT_COLUMNS)} FROM {self._staging}",
            "INSERT INTO sessions " + session_rows(
                DIALECTS["clickhouse"],
                f"session_started_at >= fromUnixTimestamp64Micro((SELECT min(session_started_at) FROM {self._staging}),"
                f" 'UTC') AND session_id IN (SELECT session_id FROM {self._staging})"),
            "INSERT INTO identities " + identity_rows(DIALECTS["clickhouse"], staged),
        )
        self._linking_events_sql = f"SELECT * FROM {staged} AS staged WHERE type IN ({_LINKING})"

    def _table(self, name: str) -> str:
        """Where a delete or truncate of `name` runs: on a cluster, every shard's local table."""
        return f"{name}_local ON CLUSTER `{self.cluster}`" if self.cluster else name

    def _ensure_sessions_table(self) -> None:
        """A database from before the sessions table, or from an older layout of it, gets it
        (re)built from its events."""
        columns = tuple(row["name"] for row in self._query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'sessions'"
            " ORDER BY position", {}))
        if columns == SESSION_COLUMNS:
            return
        self._command("DROP TABLE IF EXISTS sessions")
        self._command(sessions_table(_session_columns(self._client)).single_server())
        self.rebuild_sessions()

    def _ensure_identities_table(self) -> None:
        """A database from before the identities table gets it built from its events."""
        if self._query("SELECT name FROM system.tables WHERE database = currentDatabase() AND name = 'identities'", {}):
            return
        self._command(IDENTITIES.single_server())
        self._command("INSERT INTO identities " + identity_rows(DIALECTS["clickhouse"], "events"))

    def load(self, rows_csv: bytes, *, journal_position: Position | None = None) -> None:
        if not rows_csv and journal_position is None:
            return
        with self._lock:
            if rows_csv:
                self._command(f"TRUNCATE TABLE {self._staging}")
                self._client.raw_insert(self._staging, None, rows_csv, settings=_CSV_SETTINGS, fmt="CSV")
                insert_events, *derived = self._load_sql
                # A retry of this load (the same rows up to the same journal position) inserts nothing.
                token = ({"insert_deduplication_token": f"{self._journal_id}:{journal_position[0]}:{journal_position[1]}"}
                         if journal_position is not None else {})
                self._command(insert_events, settings=self._write_settings | token)
                for statement in derived:
                    self._command(statement, settings=_ALIAS_SETTINGS | self._write_settings)
                self._link_payments()
                self._command(f"TRUNCATE TABLE {self._staging}")
            # No transactions in ClickHouse: after a crash between the inserts and the checkpoint, the
            # journal replays from the last checkpoint, and rows batched differently are stored twice.
            if journal_position is not None:
                segment, offset = journal_position
                self._command("INSERT INTO journal_checkpoint VALUES ({journal:String}, {segment:UInt64}, {offset:UInt64})",
                              {"journal": self._journal_id, "segment": segment, "offset": offset}, self._write_settings)

    def rebuild_sessions(self) -> None:
        """Recompute the whole sessions table, after events were written around `load`."""
        with self._lock:
            self._command(f"TRUNCATE TABLE {self._table('sessions')}")
            self._command("INSERT INTO sessions " + session_rows(DIALECTS["clickhouse"], "true"),
                          settings=_ALIAS_SETTINGS | self._write_settings)

    def journal_position(self) -> Position | None:
        rows = self.fetch("SELECT segment, byte_offset FROM journal_checkpoint WHERE journal_id = {journal:String}"
                          " ORDER BY segment DESC, byte_offset DESC LIMIT 1", {"journal": self._journal_id})
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
                             row["props"]) for row in self._query(self._linking_events_sql, {})]
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

    def import_payments(self, payments: Sequence[Payment]) -> None:
        """Insert payments as they are, in one INSERT, for a store that has none of their keys yet
        (`store migrate`: `record_payments` would look each one up first)."""
        rows = b"\n".join(orjson.dumps(dict(zip(PAYMENT_COLUMN_NAMES, map(_bound_value, payment.row()))) | {"version": 1})
                          for payment in payments)
        with self._lock:
            self._client.raw_insert("payments", None, rows, settings=self._write_settings, fmt="JSONEachRow")

    def _write_payment(self, payment: Payment, version: int) -> None:
        self._command(_INSERT_PAYMENT, dict(zip(PAYMENT_COLUMN_NAMES, payment.row())) | {"version": version},
                      self._write_settings)

    def delete_payment(self, site_id: int, provider: str, transaction_id: str) -> bool:
        """Remove the transaction (and its refund); whether there was one."""
        key = {"site_id": site_id, "provider": provider, "transaction_id": transaction_id}
        with self._lock:
            if not self._query(f"SELECT count() AS n FROM payments FINAL WHERE {_PAYMENT_KEY}", key)[0]["n"]:
                return False
            self._delete("payments", _PAYMENT_KEY, key)
        return True

    def delete_before(self, site_id: int, cutoff: datetime) -> int:
        """Retention: forget the site's visits begun before `cutoff` (UTC), whole, with their events and
        the identities recorded before it; payments stay (the ledger is the site's accounts). Returns how
        many events went."""
        params = {"site_id": site_id, "cutoff": cutoff}
        before = "site_id = {site_id:UInt32} AND session_started_at < {cutoff:DateTime64(6, 'UTC')}"
        identified_before = "site_id = {site_id:UInt32} AND timestamp < {cutoff:DateTime64(6, 'UTC')}"
        with self._lock:
            # A mutation rewrites data parts: none is started for nothing (the purge runs hourly).
            [row] = self._query(f"SELECT count() AS n FROM events WHERE {before}", params)
            if row["n"]:
                self._delete("events", before, params)
                self._delete("sessions", before, params)
            if self._query(f"SELECT count() AS n FROM identities WHERE {identified_before}", params)[0]["n"]:
                self._delete("identities", identified_before, params)
        return row["n"]

    def delete_sites(self, site_ids: Sequence[int]) -> dict[int, int]:
        """Site deletion: forget everything stored of these sites (events, visits, identities, payments) on
        every shard and replica; site id → events deleted, for the sites that had rows. A table holding
        nothing of them is left alone: a mutation rewrites data parts."""
        ids = [int(site_id) for site_id in site_ids]
        if not ids:
            return {}
        of_sites = "has({ids:Array(UInt32)}, site_id)"
        found: dict[int, int] = {}
        with self._lock:
            for table in ("events", "sessions", "identities", "payments"):
                rows = self._query(f"SELECT site_id, count() AS n FROM {table} WHERE {of_sites} GROUP BY site_id",
                                   {"ids": ids})
                if rows:
                    self._delete(table, of_sites, {"ids": ids})
                for row in rows:
                    found[row["site_id"]] = found.get(row["site_id"], 0) + (row["n"] if table == "events" else 0)
        return found

    # -- erasure and export (privacy/): kept apart from the site-wide purge ---------------------

    def erase_visitors(self, site_id: int, visitor_ids: Sequence[str]) -> dict[str, int]:
        """Erasure: delete every event, visit and identity of the site's `visitor_ids` (synchronous
        mutations, on every shard of a cluster); how many rows went from each table (a visit's
        older rows, not yet merged, are not counted)."""
        params = {"site_id": site_id, "visitors": list(visitor_ids)}
        counts = {}
        with self._lock:
            for table, column in (("events", "visitor_id"), ("sessions", "span_visitor"),
                                  ("identities", "visitor_id")):
                where = f"site_id = {{site_id:UInt32}} AND has({{visitors:Array(UUID)}}, {column})"
                counts[table] = self._query(
                    f"SELECT count() AS n FROM {table}{' FINAL' if table == 'sessions' else ''} WHERE {where}",
                    params)[0]["n"]
                if counts[table]:
                    self._delete(table, where, params)
        return counts

    def scrub_payments(self, site_id: int, *, visitor_ids: Sequence[str], emails: Sequence[str],
                       customer_ids: Sequence[str]) -> int:
        """Erasure: strip the personal data (`ERASED_COLUMNS`) from the site's payments of these
        visitors, emails (compared lower-cased) or customer ids, keeping amounts and dates; how many.
        Each goes in as its next version, then every older version (still holding the data until
        a merge) is deleted."""
        params = {"site_id": site_id, "visitors": list(visitor_ids), "emails": [e.lower() for e in emails],
                  "customers": list(customer_ids)}
        with self._lock:
            rows = self._query(
                f"{_SELECT_PAYMENTS} WHERE site_id = {{site_id:UInt32}} AND link_method <> '{ERASED_LINK}'"
                " AND (has({visitors:Array(UUID)}, visitor_id) OR has({emails:Array(String)}, lowerUTF8(email))"
                " OR has({customers:Array(String)}, customer_id))", params)
            if not rows:
                return 0
            for row in rows:
                erased = replace(payment_from_row(row), link_method=ERASED_LINK, **dict.fromkeys(ERASED_COLUMNS))
                self._write_payment(erased, row["version"] + 1)
            keys = [f"{row['provider']}:{row['transaction_id']}" for row in rows]  # provider names have no ':'
            self._delete("payments", f"site_id = {{site_id:UInt32}} AND link_method <> '{ERASED_LINK}'"
                         " AND has({keys:Array(String)}, concat(provider, ':', transaction_id))",
                         {"site_id": site_id, "keys": keys})
        return len(rows)

    def site_rows(self, table: str, site_id: int, *, batch_rows: int = 10_000) -> Iterator[list[dict[str, Any]]]:
        """Export: every row the site has in `table` (EXPORT_TABLES), `batch_rows` at a time, as
        the server streams them (the newest row of a visit or payment). The embedded engine is read
        under the store's lock, at its own pace, into a temporary file first: a download paced by a
        slow client must not hold up the loads."""
        columns = _EXPORT_COLUMNS[table]
        source = {"events": "events", "sessions": "sessions FINAL", "payments": "payments FINAL"}[table]

        def blocks() -> Iterator[list[dict[str, Any]]]:
            with self._client.query_column_block_stream(
                    f"SELECT {', '.join(columns)} FROM {source} WHERE site_id = {{site_id:UInt32}}"
                    f" ORDER BY {_EXPORT_ORDER[table]}", parameters={"site_id": site_id},
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

    def _delete(self, table: str, where: str, params: Mapping[str, Any]) -> None:
        # A synchronous mutation (on every replica): the rows are gone when it returns.
        self._command(f"ALTER TABLE {self._table(table)} DELETE WHERE {where}", params, {"mutations_sync": 2})

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

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one read-only statement. Parameters: str, int, float, bool, None, datetime
        (naive = UTC; declare it `DateTime64(6, 'UTC')` or `DateTime('UTC')`, as its text is
        read in the declared zone), date, UUID, and lists or tuples of these for `Array(T)`."""
        with self._read_lock:
            return self._query(sql, params or {})

    def _query(self, sql: str, params: Mapping[str, Any], settings: Mapping[str, Any] | None = None,
               ) -> list[dict[str, Any]]:
        return _rows(self._client.raw_query(sql, parameters=_bound(params), settings=settings, fmt="JSONCompact"))

    def _command(self, sql: str, params: Mapping[str, Any] | None = None,
                 settings: Mapping[str, Any] | None = None) -> None:
        self._client.command(sql, parameters=_bound(params or {}), settings=settings)

    def close(self) -> None:
        with self._lock:
            try:
                self._command(f"DROP TABLE IF EXISTS {self._staging}")
            finally:
                self._client.close()


# What a site's export holds (privacy/export.py), in a stable order.
_EXPORT_COLUMNS = {"events": COLUMN_NAMES, "sessions": SESSION_COLUMNS, "payments": PAYMENT_COLUMN_NAMES}
_EXPORT_ORDER = {"events": "timestamp, session_id", "sessions": "session_started_at, session_id",
                 "payments": "timestamp, transaction_id, kind"}


def _from_csv(name: str, logical: str) -> str:
    if logical == "timestamp":
        return f"fromUnixTimestamp64Micro({name}, 'UTC')"
    if logical.endswith("?"):
        return f"nullIf({name}, {CSV_NULL})"
    return name


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
