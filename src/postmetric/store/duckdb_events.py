"""The embedded event store: one DuckDB file in the data dir.

1. Writes come from one thread (the `EventWriter`) through one connection; a batch is
   one transaction, whose commit DuckDB makes durable in its write-ahead log.
2. Reads use a cursor per call, so they run beside the writer.
3. Rows go in as one `INSERT … SELECT unnest(…)` per batch: column lists bound as
   parameters, about 40× faster than `executemany` here.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import orjson

from postmetric.ingest.event import Event
from postmetric.ingest.sessions import VISIT_FIELDS, ActiveSession
from postmetric.store.events import EVENT_COLUMNS

_TYPES = {
    "uint32": "UINTEGER NOT NULL",
    "uint32?": "UINTEGER",
    "uint8?": "UTINYINT",
    "timestamp": "TIMESTAMP NOT NULL",
    "string": "VARCHAR NOT NULL DEFAULT ''",
    "json": "VARCHAR NOT NULL DEFAULT '{}'",
    "uuid": "UUID NOT NULL",
}
# Parameters carry timestamps as integer microseconds.
_PARAM_TYPES = {"timestamp": "BIGINT", "uuid": "UUID", "uint32": "UINTEGER", "uint32?": "UINTEGER",
                "uint8?": "UTINYINT", "string": "VARCHAR", "json": "VARCHAR"}


def _select_expression(index: int, logical: str) -> str:
    param = f"unnest(${index}::{_PARAM_TYPES[logical]}[])"
    return f"make_timestamp({param})" if logical == "timestamp" else param


CREATE_EVENTS = "CREATE TABLE IF NOT EXISTS events (\n    " + ",\n    ".join(
    f"{name} {_TYPES[logical]}" for name, logical in EVENT_COLUMNS
) + "\n)"
INSERT_EVENTS = "INSERT INTO events ({}) SELECT {}".format(
    ", ".join(name for name, _ in EVENT_COLUMNS),
    ", ".join(_select_expression(i + 1, logical) for i, (_, logical) in enumerate(EVENT_COLUMNS)),
)


def event_columns(events: Sequence[Event]) -> list[list[Any]]:
    """Transpose events into one list per column, in EVENT_COLUMNS order."""
    rows = [
        (
            e.site_id, int(e.timestamp * 1_000_000), e.type.value, e.name, e.visitor_id, e.session_id,
            int(e.session_started_at * 1_000_000), e.hostname, e.pathname, e.query, e.title,
            e.entry_page, e.referrer, e.referrer_host, e.source, e.channel,
            e.utm_source, e.utm_medium, e.utm_campaign, e.utm_term, e.utm_content, e.ref,
            orjson.dumps(e.click_ids).decode() if e.click_ids else "{}",
            e.country, e.region, e.city, e.browser, e.browser_version, e.os, e.os_version,
            e.device, e.viewport_width, e.viewport_height,
            orjson.dumps(e.props).decode() if e.props else "{}",
            e.scroll_depth, e.engaged_ms,
        )
        for e in events
    ]
    return [list(column) for column in zip(*rows)]


class DuckDBEventStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = duckdb.connect(str(path))
        self._connection.execute("SET TimeZone = 'UTC'")
        self._connection.execute(CREATE_EVENTS)
        self._write_lock = threading.Lock()

    def insert(self, events: Sequence[Event]) -> None:
        if not events:
            return
        columns = event_columns(events)
        with self._write_lock:
            self._connection.execute(INSERT_EVENTS, columns)

    def active_sessions(self, since: float) -> list[ActiveSession]:
        visit_columns = ", ".join(f"arg_max({name}, timestamp)" for name in VISIT_FIELDS)
        rows = self._cursor().execute(
            f"""
            SELECT site_id, visitor_id, session_id, epoch_us(min(session_started_at)),
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
                attributes=tuple(_visit_value(name, value) for name, value in zip(VISIT_FIELDS, row[5:])),
            )
            for row in rows
        ]

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self._cursor().execute(sql, list(params))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def close(self) -> None:
        with self._write_lock:
            self._connection.close()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        return self._connection.cursor()


def _visit_value(name: str, value: Any) -> Any:
    # click_ids is a dict on the event and JSON in the store.
    return orjson.loads(value) if name == "click_ids" else value

