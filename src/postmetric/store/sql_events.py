"""The event store's algorithms, written once over the `Dialect`: loads, the visits and identities a
load keeps current, the payments ledger, Search Console rows, retention, site deletion, erasure,
schema migrations.

The engines (duckdb_events.py, clickhouse_events.py) subclass `SQLEventStore` and supply only
primitives: running a statement, reading inside a write, the write lock (with a transaction where
the engine has them), staging a batch of CSV rows, inserting and replacing payment rows, deleting,
and the DDL that truly differs. Where the engines keep data differently (ClickHouse replaces a row
by inserting a newer version, DuckDB updates it in place), that difference is in a primitive.

Values travel as named parameters (`Dialect.param`); timestamps as integer microseconds.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any

from postmetric.store.columns import COLUMN_NAMES, CSV_NULL, EVENT_COLUMNS, VISIT_FIELDS, ActiveSession
from postmetric.store.dialects import DIALECTS, Dialect, lowered
from postmetric.store.event_migrations import MIGRATIONS, SCHEMA_MIGRATIONS
from postmetric.store.events import LOADED_EVENT_COLUMNS, PaymentMerge, PropMatch
from postmetric.store.identities import identity_rows
from postmetric.store.journal import Position
from postmetric.store.payments import ERASED_COLUMNS, ERASED_LINK, PAYMENT_COLUMN_NAMES, Payment, payment_from_row
from postmetric.store.search import SearchRow
from postmetric.store.sessions import SESSION_COLUMNS, session_rows

# What a site's export holds (privacy/export.py), in a stable order.
EXPORT_COLUMNS = {"events": COLUMN_NAMES, "sessions": SESSION_COLUMNS, "payments": PAYMENT_COLUMN_NAMES}
EXPORT_ORDER = {"events": "timestamp, session_id", "sessions": "session_started_at, session_id",
                "payments": "timestamp, transaction_id, kind"}
# The tables holding a site's rows, and the column naming a row's visitor.
_SITE_TABLES = ("events", "sessions", "identities", "payments", "search_console")
_VISITOR_COLUMNS = (("events", "visitor_id"), ("sessions", "span_visitor"), ("identities", "visitor_id"))


def stored_from_csv(d: Dialect) -> str:
    """The SELECT list that turns a staged CSV batch's columns into the stored ones: timestamps
    from microseconds, CSV_NULL to NULL."""

    def column(name: str, logical: str) -> str:
        if logical == "timestamp":
            return f"{d.from_epoch_micros(name)} AS {name}"
        if logical.endswith("?"):
            return f"NULLIF({name}, {CSV_NULL}) AS {name}"
        return name

    return ", ".join(column(name, logical) for name, logical in EVENT_COLUMNS)


def micros(moment: datetime) -> int:
    """A datetime (naive = UTC) as integer microseconds since the epoch, as timestamp parameters travel."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return round(moment.timestamp() * 1_000_000)


class SQLEventStore(ABC):
    """An event store over one SQL engine (the `EventStore` protocol, store/events.py)."""

    dialect: str  # "duckdb" | "clickhouse"

    @property
    def _d(self) -> Dialect:
        return DIALECTS[self.dialect]

    # -- engine primitives ----------------------------------------------------------------------

    @abstractmethod
    def _writing(self) -> AbstractContextManager[None]:
        """The store's write lock, and a transaction where the engine has them."""

    @abstractmethod
    def _execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one writing statement (inside `_writing`)."""

    @abstractmethod
    def _query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one read inside `_writing` (no read lock of its own)."""

    @abstractmethod
    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run one read-only statement in the engine's SQL, with named parameters, beside the writes."""

    @abstractmethod
    def _delete(self, table: str, where: str, params: Mapping[str, Any]) -> None:
        """Delete `table`'s rows matching `where`; they are gone when it returns."""

    @abstractmethod
    def _truncate(self, table: str) -> None:
        """Delete every row of `table`."""

    @abstractmethod
    def _stage(self, rows_csv: bytes) -> str:
        """Put a batch of CSV rows where the load's statements read them; returns an SQL source
        (table or subquery) of the batch with the stored columns and types."""

    @abstractmethod
    def _unstage(self) -> None:
        """Drop the staged batch."""

    @abstractmethod
    def _insert_events(self, journal_position: Position | None) -> None:
        """Insert the staged batch into `events`."""

    @abstractmethod
    def _refresh_sessions(self, batch: str) -> None:
        """Bring the `sessions` rows of the visits the staged batch touches up to date."""

    @abstractmethod
    def _write_checkpoint(self, position: Position) -> None:
        """Record how far into the ingestion journal the stored rows reach."""

    @abstractmethod
    def _insert_payments(self, payments: Sequence[Payment]) -> None:
        """Insert payments whose keys are not stored yet."""

    @abstractmethod
    def _replace_payments(self, payments: Sequence[Payment]) -> None:
        """Make these the stored values of payments already stored (same key)."""

    @abstractmethod
    def _purge_replaced(self, site_id: int, payments: Sequence[Payment]) -> None:
        """Delete whatever older values of these payments the engine still keeps after a replace."""

    @abstractmethod
    def _insert_search_rows(self, site_id: int, rows: Sequence[SearchRow]) -> None:
        """Insert Search Console rows of the site as they are."""

    @abstractmethod
    def create_table(self, name: str) -> None:
        """Create the table `name` (SCHEMA_MIGRATIONS or a table of store/event_migrations.py) as the
        current code lays it out, if it does not exist."""

    @abstractmethod
    def _column_type(self, table: str, column: str) -> str:
        """The engine's type of a column of one of its tables, as the current code lays it out."""

    @abstractmethod
    def table_columns(self, table: str) -> tuple[str, ...]:
        """The columns of `table` in order; empty if there is no such table."""

    # -- schema ---------------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Apply the migrations this store has not had yet (store/event_migrations.py), each with the
        row recording it; a store made before migrations were numbered gets them all, and each is
        written to leave alone what is already there."""
        self.create_table(SCHEMA_MIGRATIONS)
        d = self._d
        [row] = self._query("SELECT max(version) AS version FROM schema_migrations")
        applied = row["version"] or 0
        for migration in MIGRATIONS:
            if migration.version <= applied:
                continue
            with self._writing():
                migration.apply(self)
                self._execute(
                    f"INSERT INTO schema_migrations (version, description, applied_at) SELECT"
                    f" {d.param('version', 'int')}, {d.param('description', 'string')}, {d.param('at', 'timestamp')}",
                    {"version": migration.version, "description": migration.description,
                     "at": round(time.time() * 1_000_000)})

    def add_column(self, table: str, column: str) -> None:
        """Add `column`, as the current code types it, to `table` if it is missing."""
        self._execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {self._column_type(table, column)}")

    def drop_table(self, table: str) -> None:
        self._execute(f"DROP TABLE IF EXISTS {table}")

    def schema_version(self) -> int:
        """The number of the last migration applied."""
        return self.fetch("SELECT max(version) AS version FROM schema_migrations")[0]["version"] or 0

    def execute(self, sql: str) -> None:
        """A migration's own statement (store/event_migrations.py)."""
        self._execute(sql)

    # -- events ---------------------------------------------------------------------------------

    def load(self, rows_csv: bytes, *, journal_position: Position | None = None,
             returning_types: Sequence[str] = ()) -> list[dict[str, Any]]:
        if not rows_csv and journal_position is None:
            return []
        d = self._d
        loaded: list[dict[str, Any]] = []
        with self._writing():
            if rows_csv:
                batch = self._stage(rows_csv)
                self._insert_events(journal_position)
                self._refresh_sessions(batch)
                self._execute("INSERT INTO identities " + identity_rows(d, batch))
                if returning_types:
                    loaded = self._query(
                        f"SELECT {', '.join(LOADED_EVENT_COLUMNS)} FROM {batch} AS loaded"
                        f" WHERE {d.is_in('type', d.param('types', 'strings'))}", {"types": list(returning_types)})
                self._unstage()
            # ClickHouse has no transactions: after a crash between the inserts and the checkpoint, the
            # journal replays from the last checkpoint (and its insert tokens skip the rows seen).
            if journal_position is not None:
                self._write_checkpoint(journal_position)
        return loaded

    def rebuild_sessions(self) -> None:
        """Recompute the whole sessions table, after events were written around `load`."""
        with self._writing():
            self._truncate("sessions")
            self._execute("INSERT INTO sessions " + session_rows(self._d, "true"))

    def active_sessions(self, since: float) -> list[ActiveSession]:
        d = self._d
        attributes = ", ".join(f"{d.arg_max(name, 'timestamp')} AS a{i}" for i, name in enumerate(VISIT_FIELDS))
        rows = self.fetch(
            f"SELECT site_id, {d.text('visitor_id')} AS visitor, {d.text('session_id')} AS session,"
            f" {d.epoch_micros('min(session_started_at)')} AS started_us,"
            f" {d.epoch_micros('max(timestamp)')} AS last_seen_us, {attributes}"
            f" FROM events WHERE timestamp >= {d.param('since', 'timestamp')}"
            " GROUP BY site_id, visitor_id, session_id",
            {"since": int(since * 1_000_000)})
        return [ActiveSession(site_id=row["site_id"], visitor_id=row["visitor"], session_id=row["session"],
                              started_at=row["started_us"] / 1_000_000, last_seen=row["last_seen_us"] / 1_000_000,
                              attributes=tuple(row[f"a{i}"] for i in range(len(VISIT_FIELDS))))
                for row in rows]

    def latest_event_visit(self, site_id: int, matches: Sequence[PropMatch]) -> tuple[str, str] | None:
        d = self._d
        params: dict[str, Any] = {"site": site_id}
        conditions = []
        for i, match in enumerate(matches):
            value, wanted = d.prop(d.param(f"key{i}", "string")), d.param(f"value{i}", "string")
            if match.fold_case:
                value, wanted = f"lower(trim({value}))", f"lower({wanted})"
            conditions.append(f"({d.is_in('type', d.param(f'types{i}', 'strings'))} AND {value} = {wanted})")
            params |= {f"key{i}": match.key, f"value{i}": match.value, f"types{i}": list(match.types)}
        rows = self.fetch(
            f"SELECT {d.text('visitor_id')} AS visitor_id, {d.text('session_id')} AS session_id FROM events"
            f" WHERE site_id = {d.param('site', 'int')} AND ({' OR '.join(conditions)})"
            " ORDER BY timestamp DESC LIMIT 1", params)
        return (rows[0]["visitor_id"], rows[0]["session_id"]) if rows else None

    def visits_active(self, site_id: int, *, start: datetime, end: datetime, limit: int) -> list[tuple[str, str]]:
        d = self._d
        end_at, start_at = d.param("end", "timestamp"), d.param("start", "timestamp")
        rows = self.fetch(
            f"SELECT {d.text('span_visitor')} AS visitor_id, {d.text('session_id')} AS session_id"
            f" FROM {d.sessions_table} WHERE site_id = {d.param('site', 'int')}"
            f" AND session_started_at <= {end_at} AND first_at <= {end_at} AND last_at >= {start_at}"
            f" ORDER BY session_id LIMIT {d.param('limit', 'int')}",
            {"site": site_id, "start": micros(start), "end": micros(end), "limit": limit})
        return [(row["visitor_id"], row["session_id"]) for row in rows]

    # -- payments -------------------------------------------------------------------------------

    def record_payments(self, payments: Sequence[Payment], *, merge: PaymentMerge) -> list[bool]:
        added = []
        with self._writing():
            for payment in payments:
                stored = self._stored_payment(payment)
                if stored is None:
                    self._insert_payments([payment])
                else:
                    merged = merge(stored, payment)
                    if merged != stored:
                        self._replace_payments([merged])
                added.append(stored is None)
        return added

    def _stored_payment(self, payment: Payment) -> Payment | None:
        d = self._d
        rows = self._query(
            f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)} FROM {d.payments_table} WHERE {self._payment_key(d)}"
            f" AND kind {'=' if payment.kind == 'refund' else '<>'} 'refund'",
            {"site": payment.site_id, "provider": payment.provider, "transaction": payment.transaction_id})
        return payment_from_row(rows[0]) if rows else None

    @staticmethod
    def _payment_key(d: Dialect) -> str:
        return (f"site_id = {d.param('site', 'int')} AND provider = {d.param('provider', 'string')}"
                f" AND transaction_id = {d.param('transaction', 'string')}")

    def revise_payments(self, site_ids: Sequence[int], link_methods: Sequence[str],
                        revise: Callable[[list[Payment]], list[Payment]]) -> int:
        d = self._d
        with self._writing():
            rows = self._query(
                f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)} FROM {d.payments_table}"
                f" WHERE {d.is_in('site_id', d.param('sites', 'ints'))}"
                f" AND {d.is_in('link_method', d.param('methods', 'strings'))}",
                {"sites": list(site_ids), "methods": list(link_methods)})
            revised = revise([payment_from_row(row) for row in rows]) if rows else []
            if revised:
                self._replace_payments(revised)
        return len(revised)

    def import_payments(self, payments: Sequence[Payment]) -> None:
        """Insert payments as they are, for a store that has none of their keys yet (`store migrate`:
        `record_payments` would look each one up first)."""
        with self._writing():
            self._insert_payments(payments)

    def payments(self, site_id: int, *, provider: str | None = None, transaction_id: str | None = None,
                 visitor_id: str | None = None) -> list[Payment]:
        """The site's payments, oldest first, optionally of one provider, transaction or visitor."""
        d = self._d
        where, params = [f"site_id = {d.param('site_id', 'int')}"], {"site_id": site_id}
        for column, value, kind in (("provider", provider, "string"), ("transaction_id", transaction_id, "string"),
                                    ("visitor_id", visitor_id, "uuid")):
            if value is not None:
                where.append(f"{column} = {d.param(column, kind)}")
                params[column] = value
        rows = self.fetch(
            f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)} FROM {d.payments_table} WHERE {' AND '.join(where)}"
            " ORDER BY timestamp, transaction_id, kind = 'refund'", params)
        return [payment_from_row(row) for row in rows]

    def delete_payment(self, site_id: int, provider: str, transaction_id: str) -> bool:
        """Remove the transaction (and its refund); whether there was one."""
        d = self._d
        key = {"site": site_id, "provider": provider, "transaction": transaction_id}
        with self._writing():
            if not self._query(f"SELECT count(*) AS n FROM {d.payments_table} WHERE {self._payment_key(d)}",
                               key)[0]["n"]:
                return False
            self._delete("payments", self._payment_key(d), key)
        return True

    # -- Search Console rows (store/search.py) --------------------------------------------------

    def replace_search_rows(self, site_id: int, start: date, end: date, rows: Sequence[SearchRow]) -> int:
        """Make `rows` the site's Search Console rows of the days `start` to `end` (both included):
        the rows stored for those days go, `rows` come in; how many came in. Every row must lie in
        that span (ValueError otherwise). One transaction on DuckDB; on ClickHouse, which has none,
        the delete and the insert run one after the other under the write lock."""
        if start > end:
            raise ValueError(f"search rows: the span {start}..{end} ends before it starts")
        outside = next((row.day for row in rows if not start <= row.day <= end), None)
        if outside is not None:
            raise ValueError(f"search rows: a row of {outside} lies outside the span {start}..{end}")
        where, params = self._search_days(site_id, start, end)
        with self._writing():
            if self._query(f"SELECT count(*) AS n FROM search_console WHERE {where}", params)[0]["n"]:
                self._delete("search_console", where, params)
            if rows:
                self._insert_search_rows(site_id, rows)
        return len(rows)

    def delete_search_rows(self, site_id: int) -> int:
        """Forget every Search Console row of the site; how many went."""
        d = self._d
        where, params = f"site_id = {d.param('site', 'int')}", {"site": site_id}
        with self._writing():
            [row] = self._query(f"SELECT count(*) AS n FROM search_console WHERE {where}", params)
            if row["n"]:
                self._delete("search_console", where, params)
        return row["n"]

    def search_span(self, site_id: int) -> tuple[date, date] | None:
        """The first and last day the site has Search Console rows of; None if it has none."""
        d = self._d
        [row] = self.fetch(f"SELECT count(*) AS n, min(day) AS first_day, max(day) AS last_day FROM search_console"
                           f" WHERE site_id = {d.param('site', 'int')}", {"site": site_id})
        return (row["first_day"], row["last_day"]) if row["n"] else None

    def _search_days(self, site_id: int, start: date, end: date) -> tuple[str, dict[str, Any]]:
        d = self._d
        return (f"site_id = {d.param('site', 'int')} AND day >= {d.param('start', 'date')}"
                f" AND day <= {d.param('end', 'date')}", {"site": site_id, "start": start, "end": end})

    # -- retention, site deletion, erasure --------------------------------------------------------

    def delete_before(self, site_id: int, cutoff: datetime) -> int:
        """Retention: forget the site's visits begun before `cutoff` (UTC), whole, with their events and
        the identities recorded before it; payments stay (the ledger is the site's accounts). Returns how
        many events went. A table with nothing to delete is not written (a ClickHouse delete rewrites
        data parts, and the purge runs hourly)."""
        d = self._d
        params = {"site": site_id, "cutoff": micros(cutoff)}
        site, cutoff_at = d.param("site", "int"), d.param("cutoff", "timestamp")
        before = f"site_id = {site} AND session_started_at < {cutoff_at}"
        identified_before = f"site_id = {site} AND timestamp < {cutoff_at}"
        with self._writing():
            [row] = self._query(f"SELECT count(*) AS n FROM events WHERE {before}", params)
            if row["n"]:
                self._delete("events", before, params)
                self._delete("sessions", before, params)
            if self._query(f"SELECT count(*) AS n FROM identities WHERE {identified_before}", params)[0]["n"]:
                self._delete("identities", identified_before, params)
        return row["n"]

    def delete_sites(self, site_ids: Sequence[int]) -> dict[int, int]:
        """Site deletion: forget everything stored of these sites (events, visits, identities, payments,
        Search Console rows); site id → events deleted, for the sites that had rows. A table holding
        nothing of them is left alone. Under the write lock, like the deletes: a purge running in a job
        thread at shutdown then finishes before `close`."""
        ids = [int(site_id) for site_id in site_ids]
        if not ids:
            return {}
        d = self._d
        of_sites = d.is_in("site_id", d.param("ids", "ints"))
        found: dict[int, int] = {}
        with self._writing():
            for table in _SITE_TABLES:
                rows = self._query(f"SELECT site_id, count(*) AS n FROM {table} WHERE {of_sites} GROUP BY site_id",
                                   {"ids": ids})
                if rows:
                    self._delete(table, of_sites, {"ids": ids})
                for row in rows:
                    found[row["site_id"]] = found.get(row["site_id"], 0) + (row["n"] if table == "events" else 0)
        return found

    def erase_visitors(self, site_id: int, visitor_ids: Sequence[str]) -> dict[str, int]:
        """Erasure: delete every event, visit and identity of the site's `visitor_ids`; how many rows
        went from each table (on ClickHouse, a visit's older rows not yet merged are not counted)."""
        d = self._d
        params = {"site": site_id, "visitors": list(visitor_ids)}
        counts = {}
        with self._writing():
            for table, column in _VISITOR_COLUMNS:
                visitors = d.is_in(column, d.param("visitors", "uuids"))
                where = f"site_id = {d.param('site', 'int')} AND {visitors}"
                source = d.sessions_table if table == "sessions" else table
                counts[table] = self._query(f"SELECT count(*) AS n FROM {source} WHERE {where}", params)[0]["n"]
                if counts[table]:
                    self._delete(table, where, params)
        return counts

    def scrub_payments(self, site_id: int, *, visitor_ids: Sequence[str], emails: Sequence[str],
                       customer_ids: Sequence[str]) -> int:
        """Erasure: strip the personal data (`ERASED_COLUMNS`) from the site's payments of these
        visitors, emails (compared lower-cased) or customer ids, keeping amounts and dates; how many."""
        d = self._d
        params = {"site": site_id, "visitors": list(visitor_ids),
                  "emails": [email.lower() for email in emails], "customers": list(customer_ids),
                  "erased": ERASED_LINK}
        with self._writing():
            rows = self._query(
                f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)} FROM {d.payments_table}"
                f" WHERE site_id = {d.param('site', 'int')} AND link_method <> {d.param('erased', 'string')}"
                f" AND ({d.is_in('visitor_id', d.param('visitors', 'uuids'))}"
                f" OR {d.is_in(lowered(d, 'email'), d.param('emails', 'strings'))}"
                f" OR {d.is_in('customer_id', d.param('customers', 'strings'))})", params)
            erased = [replace(payment_from_row(row), link_method=ERASED_LINK, **dict.fromkeys(ERASED_COLUMNS))
                      for row in rows]
            if erased:
                self._replace_payments(erased)
                self._purge_replaced(site_id, erased)
        return len(erased)

    @abstractmethod
    def site_rows(self, table: str, site_id: int, *, batch_rows: int = 10_000) -> Iterator[list[dict[str, Any]]]:
        """Export: every row the site has in `table` (EXPORT_COLUMNS), `batch_rows` at a time."""
