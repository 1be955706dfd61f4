"""`postmetric store migrate --to clickhouse|postgresql`: an embedded install's stores, copied into
the scale-out ones.

To ClickHouse, the event store:

Events go in as loads, in the journal's CSV format, so ClickHouse builds its sessions and
identities tables from them by the same rules as at ingestion. The payments follow, as stored
(links included), in bulk: loaded after the events, no load re-links them, and the database had
none (it is refused unless empty). Then the Search Console rows, whole days at a time. Last, the node's
journal checkpoint, so events journaled but not yet loaded are loaded into ClickHouse at the next start.

To PostgreSQL, the metadata: every table row for row, ids included (so site public ids, keys, share
links and webhook secrets keep working), parents before children; then each id sequence is set past
the largest id copied or ever issued (SQLite's AUTOINCREMENT remembers deleted rows' ids), so the next
site or user gets a fresh one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, insert, select, text

from postmetric.errors import Conflict
from postmetric.store.clickhouse_events import ClickHouseEventStore
from postmetric.store.columns import EVENT_COLUMNS
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.store.events import encode_rows
from postmetric.store.metadata import Base
from postmetric.store.payments import PAYMENT_COLUMN_NAMES, payment_from_row
from postmetric.store.search import SEARCH_COLUMN_NAMES, SearchRow

Progress = Callable[[str, float], None]
BATCH_ROWS = 50_000
_PAYMENT_BATCH = 10_000

# The stored columns as the journal writes them: timestamps in microseconds.
_EVENT_SELECT = ", ".join(f"epoch_us({name})" if logical == "timestamp" else name for name, logical in EVENT_COLUMNS)


class TargetNotEmpty(Conflict):
    """The target already holds data: copying again would count it twice, or clash with it."""


@dataclass(frozen=True)
class Copied:
    events: int
    payments: int
    search_rows: int = 0


def copy_to_clickhouse(source: DuckDBEventStore, target: ClickHouseEventStore, *, batch_rows: int = BATCH_ROWS,
                       progress: Progress = lambda step, done: None) -> Copied:
    if target.fetch("SELECT (SELECT count() FROM events) + (SELECT count() FROM payments)"
                    " + (SELECT count() FROM search_console) AS n")[0]["n"]:
        raise TargetNotEmpty("the ClickHouse database already holds events, payments or Search Console rows;"
                             " copy into an empty one")
    [total] = source.fetch("SELECT count(*) AS n FROM events")
    copied = 0
    progress("events", 0.0)
    with source.cursor() as cursor:
        # A visit's events stay together in a load, as at ingestion (any split would give the same rows).
        cursor.execute(f"SELECT {_EVENT_SELECT} FROM events ORDER BY site_id, session_started_at, session_id, timestamp")
        while rows := cursor.fetchmany(batch_rows):
            target.load(encode_rows(rows))
            copied += len(rows)
            progress("events", copied / max(total["n"], 1))
    payments = [payment_from_row(row) for row in source.fetch(
        f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)} FROM payments ORDER BY site_id, timestamp, transaction_id")]
    for start in range(0, len(payments), _PAYMENT_BATCH):
        target.import_payments(payments[start:start + _PAYMENT_BATCH])
        progress("payments", min(start + _PAYMENT_BATCH, len(payments)) / len(payments))
    search_rows = _copy_search_rows(source, target, batch_rows, progress)
    target.load(b"", journal_position=source.journal_position())
    progress("done", 1.0)
    return Copied(events=copied, payments=len(payments), search_rows=search_rows)


def _copy_search_rows(source: DuckDBEventStore, target: ClickHouseEventStore, batch_rows: int,
                      progress: Progress) -> int:
    """Each site's Search Console rows as stored, about `batch_rows` at a time; a batch ends with a day, so
    no batch replaces the days of another."""
    [total] = source.fetch("SELECT count(*) AS n FROM search_console")
    copied, site_id, batch = 0, None, []
    progress("search console", 0.0)

    def flush() -> None:
        nonlocal copied
        if batch:
            copied += target.replace_search_rows(site_id, batch[0].day, batch[-1].day, batch)
            progress("search console", copied / total["n"])

    with source.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(SEARCH_COLUMN_NAMES)} FROM search_console ORDER BY site_id, day")
        while rows := cursor.fetchmany(batch_rows):
            for site, *values in rows:
                row = SearchRow(*values)
                if batch and (site != site_id or (len(batch) >= batch_rows and row.day != batch[-1].day)):
                    flush()
                    batch = []
                site_id = site
                batch.append(row)
    flush()
    return copied



def copy_metadata(source: Engine, target: Engine, *, progress: Progress = lambda step, done: None) -> dict[str, int]:
    """Copy every metadata table of `source` into `target` (both migrated to the same revision), in one
    transaction; rows copied per table."""
    tables = Base.metadata.sorted_tables  # parents first: foreign keys hold at every insert
    copied: dict[str, int] = {}
    with source.connect() as reading, target.begin() as writing:
        held = [table.name for table in tables if writing.scalar(select(func.count()).select_from(table))]
        if held:
            raise TargetNotEmpty(f"the target metadata database already holds {', '.join(held)}; copy into an empty one")
        for done, table in enumerate(tables, 1):
            rows = [dict(row) for row in reading.execute(select(table)).mappings()]
            if rows:
                writing.execute(insert(table), rows)
            copied[table.name] = len(rows)
            progress(table.name, done / len(tables))
        if writing.dialect.name == "postgresql":
            issued = _largest_ids_issued(reading)
            for table in tables:
                if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement in (True, "auto"):
                    writing.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                                         f" greatest(coalesce(max(id), 1), :issued), greatest(max(id), :issued) > 0)"
                                         f" FROM {table.name}"), {"issued": issued.get(table.name, 0)})
    return copied


def _largest_ids_issued(source: Connection) -> dict[str, int]:
    """Table → the largest id SQLite ever issued in it (AUTOINCREMENT keeps it): the ids of rows deleted
    since are not given again after the copy either."""
    if source.dialect.name != "sqlite" or not source.scalar(
            text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")):
        return {}
    return {name: seq for name, seq in source.execute(text("SELECT name, seq FROM sqlite_sequence"))}
