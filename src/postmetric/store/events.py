"""The event store interface, and the one column list every implementation stores.

Implementations (DuckDB now, ClickHouse later) only know how to write and read these
columns; what the columns mean is decided by ingestion and stats.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import orjson

from postmetric.config import Settings
from postmetric.ingest.event import Event
from postmetric.revenue.ledger import Payment
from postmetric.ingest.sessions import VISIT_FIELDS, ActiveSession
from postmetric.store.journal import Position

# (name, logical type) — the dialects map logical types to their own. An event's own
# columns come first, then its visit's: ids, start and attributes in VISIT_FIELDS order.
EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("site_id", "uint32"),
    ("timestamp", "timestamp"),
    ("type", "string"),
    ("name", "string"),
    ("hostname", "string"),
    ("pathname", "string"),
    ("query", "string"),
    ("title", "string"),
    ("viewport_width", "uint32?"),
    ("viewport_height", "uint32?"),
    ("props", "json"),
    ("scroll_depth", "uint8?"),
    ("engaged_ms", "uint32?"),
    ("visitor_id", "uuid"),
    ("session_id", "uuid"),
    ("session_started_at", "timestamp"),
) + tuple((name, "json" if name == "click_ids" else "string") for name in VISIT_FIELDS)
COLUMN_NAMES = tuple(name for name, _ in EVENT_COLUMNS)


Row = Sequence[Any]


def event_row(e: Event) -> tuple:
    """The event's values in EVENT_COLUMNS order; timestamps in integer microseconds."""
    visit = e.visit
    return (
        e.site_id, round(e.timestamp * 1_000_000), e.type.value, e.name, e.hostname, e.pathname, e.query, e.title,
        e.viewport_width, e.viewport_height, orjson.dumps(e.props).decode() if e.props else "{}",
        e.scroll_depth, e.engaged_ms, visit.visitor_id, visit.session_id, round(visit.started_at * 1_000_000),
        *visit.attributes,
    )


# Every nullable column is a number; Python 3.11's csv module would write None as a
# quoted empty string like any other, so a missing number travels as -1.
_NULLABLE = tuple(i for i, (_, logical) in enumerate(EVENT_COLUMNS) if logical.endswith("?"))
CSV_NULL = -1


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

    def add_event(self, e: Event) -> None:
        """`add(event_row(e))`, three times cheaper on the ingestion hot path: the visit's
        columns (more than half of a row) are encoded once, on its first event, and the
        event's own are formatted directly, quoted as the csv module would."""
        visit = e.visit
        if visit.encoded_attributes is None:
            visit.encoded_attributes = "," + encode_rows(
                [(visit.visitor_id, visit.session_id, round(visit.started_at * 1_000_000), *visit.attributes)]
            ).decode()
        self._buffer.write(
            f"{e.site_id},{round(e.timestamp * 1_000_000)},{_quoted(e.type.value)},{_quoted(e.name)},"
            f"{_quoted(e.hostname)},{_quoted(e.pathname)},{_quoted(e.query)},{_quoted(e.title)},"
            f"{CSV_NULL if e.viewport_width is None else e.viewport_width},"
            f"{CSV_NULL if e.viewport_height is None else e.viewport_height},"
            f"{_quoted(orjson.dumps(e.props).decode()) if e.props else _EMPTY_OBJECT},"
            f"{CSV_NULL if e.scroll_depth is None else e.scroll_depth},"
            f"{CSV_NULL if e.engaged_ms is None else e.engaged_ms}"
        )
        self._buffer.write(visit.encoded_attributes)
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


_EMPTY_OBJECT = '"{}"'


def _quoted(text: str) -> str:
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
    """Where enriched events are kept."""

    def load(self, rows_csv: bytes, *, journal_position: Position | None = None) -> None:
        """Store the rows of `encode_rows` and, in the same transaction, the journal position
        they reach, so a replay after a crash never loads a row twice. Identify and payment
        events among them link the site's payments still linked `none` or `session_window`
        (revenue/linking.py): a checkout id → `checkout` (visitor and visit), an email, user id
        or customer id → `identity` (visitor)."""
        ...

    def journal_position(self) -> Position | None:
        """How far into the ingestion journal the stored rows reach."""
        ...

    def active_sessions(self, since: float) -> list[ActiveSession]:
        """Visits with an event at or after `since` (unix seconds): their latest state."""
        ...

    dialect: str  # "duckdb" | "clickhouse": the SQL `fetch` speaks

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run a read-only query in the store's own SQL dialect, with named parameters
        (`$name` in DuckDB, `{name:Type}` in ClickHouse)."""
        ...

    def rebuild_sessions(self) -> None:
        """Recompute the sessions table (one row per visit) from all events."""
        ...

    def record_payments(self, payments: Sequence[Payment]) -> list[bool]:
        """Store payments once per (site, provider, transaction, refund or not); for each,
        whether it was new. A repeated delivery changes the stored payment only as
        `ledger.merged_delivery` says (a stronger link, missing ids, a larger refund)."""
        ...

    def delete_payment(self, site_id: int, provider: str, transaction_id: str) -> bool: ...

    def delete_before(self, site_id: int, cutoff: datetime) -> int:
        """Retention: forget the site's visits begun before `cutoff`, whole, and the identities recorded
        before it (payments stay); how many events went."""
        ...

    def delete_sites(self, site_ids: Sequence[int]) -> dict[int, int]:
        """Site deletion: forget these sites' events, visits, identities and payments, all of them; site id →
        events deleted, for the sites that had rows (a site with none costs no write). Rows still on their
        way (journaled, not loaded) are the caller's (sites/purge.py)."""
        ...

    def payments(self, site_id: int, *, provider: str | None = None, transaction_id: str | None = None,
                 visitor_id: str | None = None) -> list[Payment]:
        """The site's payments, oldest first."""
        ...

    def close(self) -> None: ...


def open_event_store(settings: Settings, *, journal_id: str = "") -> EventStore:
    """ClickHouse when POSTMETRIC_CLICKHOUSE_URL names one, else the DuckDB file in the data dir.
    `journal_id`: the node's ingestion journal, whose checkpoint a shared store keeps apart."""
    if settings.clickhouse_url:
        from postmetric.store.clickhouse_events import connect

        return connect(settings.clickhouse_url, journal_id=journal_id)
    from postmetric.store.duckdb_events import DuckDBEventStore

    return DuckDBEventStore(settings.events_path)
