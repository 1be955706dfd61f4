"""The event store interface, and the CSV rows it loads.

The store only knows how to write and read its columns (store/columns.py, store/payments.py);
what they mean is decided by ingestion, stats and revenue.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from postmetric.store.columns import CSV_NULL, EVENT_COLUMNS, ActiveSession
from postmetric.store.journal import Position
from postmetric.store.payments import Payment
from postmetric.store.search import SearchRow

Row = Sequence[Any]


# Every nullable column is a number; Python 3.11's csv module would write None as a
# quoted empty string like any other, so a missing number travels as CSV_NULL.
_NULLABLE = tuple(i for i, (_, logical) in enumerate(EVENT_COLUMNS) if logical.endswith("?"))


class RowEncoder:
    """Rows as CSV, the format of the journal and of bulk loads: strings always quoted,
    numbers bare, one row per line (a quoted value may contain newlines). Rows are
    added one at a time as events arrive; `take()` returns what was added since."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        self.rows = 0

    def add(self, row: Row) -> None:
        self._writer.writerow(_csv_row(row))
        self.rows += 1

    def add_encoded(self, text: str) -> None:
        """A row already encoded as `add` would (ingest/rows.py does it faster for events), with
        its line end."""
        self._buffer.write(text)
        self.rows += 1

    def take(self) -> bytes:
        data = self._buffer.getvalue().encode()
        self._buffer.seek(0)
        self._buffer.truncate()
        self.rows = 0
        return data


def encode_rows(rows: Iterable[Row]) -> bytes:
    encoder = RowEncoder()
    for row in rows:
        encoder.add(row)
    return encoder.take()


def csv_quoted(text: str) -> str:
    """`text` as a CSV string value, quoted as the csv module quotes it."""
    return '"' + text.replace('"', '""') + '"'


def _csv_row(row: Row) -> Row:
    if all(row[i] is not None for i in _NULLABLE):
        return row
    patched = list(row)
    for i in _NULLABLE:
        if patched[i] is None:
            patched[i] = CSV_NULL
    return patched


class EventStore(Protocol):
    """Where enriched events are kept, with the visits, identities and payments beside them.
    `sql_events.SQLEventStore` is the one implementation, over DuckDB or ClickHouse."""

    dialect: str  # "duckdb" | "clickhouse": the SQL `fetch` speaks

    def load(self, rows_csv: bytes, *, journal_position: Position | None = None,
             returning_types: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Store the rows of `encode_rows` and, in the same transaction, the journal position
        they reach, so a replay after a crash never loads a row twice; the visits and identities
        they touch follow. Returns the loaded events whose type is in `returning_types`
        (LOADED_EVENT_COLUMNS), for what the caller does after a load (revenue/linking.py)."""
        ...

    def journal_position(self) -> Position | None:
        """How far into the ingestion journal the stored rows reach."""
        ...

    def active_sessions(self, since: float) -> list[ActiveSession]:
        """Visits with an event at or after `since` (unix seconds): their latest state."""
        ...

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a read-only query in the store's own SQL dialect, with named parameters
        (`$name` in DuckDB, `{name:Type}` in ClickHouse)."""
        ...

    def latest_event_visit(self, site_id: int, matches: Sequence[PropMatch]) -> tuple[str, str] | None:
        """(visitor id, session id) of the site's latest event that one of `matches` describes."""
        ...

    def visits_active(self, site_id: int, *, start: datetime, end: datetime, limit: int) -> list[tuple[str, str]]:
        """(visitor id, session id) of at most `limit` visits of the site with an event at or after
        `start` that began (first event) at or before `end`, by session id."""
        ...

    def rebuild_sessions(self) -> None:
        """Recompute the sessions table (one row per visit) from all events."""
        ...

    def record_payments(self, payments: Sequence[Payment], *, merge: PaymentMerge) -> list[bool]:
        """Store payments once per key (site, provider, transaction, refund or not); for each, whether it
        was new. A payment whose key is stored already replaces it by `merge(stored, delivered)` when
        that differs from the stored one. Lookups and writes happen under the store's write lock."""
        ...

    def revise_payments(self, site_ids: Sequence[int], link_methods: Sequence[str],
                        revise: Callable[[list[Payment]], list[Payment]]) -> int:
        """Under the write lock: the sites' payments linked by one of `link_methods` go to `revise`,
        and the payments it returns replace their stored rows (same key); how many."""
        ...

    def import_payments(self, payments: Sequence[Payment]) -> None:
        """Insert payments as they are, without lookups, into a store that has none of their keys."""
        ...

    def delete_payment(self, site_id: int, provider: str, transaction_id: str) -> bool: ...

    def delete_before(self, site_id: int, cutoff: datetime) -> int:
        """Retention: forget the site's visits begun before `cutoff`, whole, and the identities recorded
        before it (payments stay); how many events went."""
        ...

    def delete_sites(self, site_ids: Sequence[int]) -> dict[int, int]:
        """Site deletion: forget these sites' events, visits, identities, payments and Search Console rows,
        all of them; site id → events deleted, for the sites that had rows (a site with none costs no write).
        Rows still on their way (journaled, not loaded) are the caller's (sites/purge.py)."""
        ...

    def payments(self, site_id: int, *, provider: str | None = None, transaction_id: str | None = None,
                 visitor_id: str | None = None) -> list[Payment]:
        """The site's payments, oldest first."""
        ...

    def replace_search_rows(self, site_id: int, start: date, end: date, rows: Sequence[SearchRow]) -> int:
        """Make `rows` the site's Search Console rows (store/search.py) of the days `start` to `end`, both
        included: the stored rows of those days are deleted, `rows` inserted (atomically where the engine
        has transactions); how many were inserted. A row outside the span is a ValueError."""
        ...

    def delete_search_rows(self, site_id: int) -> int:
        """Forget every Search Console row of the site; how many went."""
        ...

    def search_span(self, site_id: int) -> tuple[date, date] | None:
        """The first and last day the site has Search Console rows of; None if it has none."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class PropMatch:
    """Events of one of `types` whose property `key` is `value` (both trimmed and lower-cased
    first when `fold_case`)."""

    types: tuple[str, ...]
    key: str
    value: str
    fold_case: bool = False


# Merges a repeated delivery into the stored payment: (stored, delivered) -> what to keep.
PaymentMerge = Callable[[Payment, Payment], Payment]
# The columns of the events `load` returns.
LOADED_EVENT_COLUMNS = ("site_id", "visitor_id", "session_id", "timestamp", "type", "props")
