"""Export: a site's raw data as a zip of CSV files, and one person's data as JSON (access and portability).

`site_export(store, site_id)` yields the bytes of a zip holding `events.csv`, `visits.csv` and
`payments.csv`, each with a header row and every row the store holds for the site. It is built
while it is sent: rows come from the store in batches (`EventStore.site_rows`), `zipfile` writes
them into a buffer that is handed on and emptied after each batch, so memory stays at one batch
whatever the site's size. The generator blocks: iterate it in a thread (Starlette does).

`person_export(store, site_id, person)` is one person's events, visits and payments (the person a
selector names, `privacy/erasure.find_person`), as one JSON document of at most MAX_PERSON_ROWS
rows per table.

Values are written as the API writes them: times in ISO 8601 UTC with `Z`, UUIDs as text, a
missing value as an empty cell (CSV) or null (JSON).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from postmetric.privacy.erasure import Person, fetch
from postmetric.store.columns import COLUMN_NAMES
from postmetric.store.dialects import DIALECTS, lowered
from postmetric.store.events import EventStore
from postmetric.store.payments import PAYMENT_COLUMN_NAMES
from postmetric.store.sessions import SESSION_COLUMNS

# One JSON answer held in memory: a person with more (a bot given a visitor id, say) is cut short.
MAX_PERSON_ROWS = 100_000
# (file in the zip, store table, its columns)
EXPORT_FILES = (("events.csv", "events", COLUMN_NAMES), ("visits.csv", "sessions", SESSION_COLUMNS),
                ("payments.csv", "payments", PAYMENT_COLUMN_NAMES))


class _Chunks(io.RawIOBase):
    """A write-only, unseekable file whose bytes are taken out as they come (`zipfile` then writes
    sizes after each member instead of seeking back)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def site_export(store: EventStore, site_id: int, *, batch_rows: int = 10_000) -> Iterator[bytes]:
    """The site's events, visits and payments as the bytes of a zip of CSV files, batch by batch (blocking)."""
    sink = _Chunks()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, table, columns in EXPORT_FILES:
            with archive.open(name, mode="w", force_zip64=True) as member, \
                    io.TextIOWrapper(member, encoding="utf-8", newline="", write_through=True) as text:
                writer = csv.writer(text)
                writer.writerow(columns)
                for batch in store.site_rows(table, site_id, batch_rows=batch_rows):
                    writer.writerows([_csv_value(row[column]) for column in columns] for row in batch)
                    if data := sink.take():
                        yield data
            yield sink.take()
    yield sink.take()


def person_export(store: EventStore, site_id: int, person: Person, *,
                  max_rows: int = MAX_PERSON_ROWS) -> dict[str, Any]:
    """The person's visitor ids, events, visits and payments, oldest first, at most `max_rows` of each;
    `truncated` says whether some were left out (the site export has them all) (blocking)."""
    d = DIALECTS[store.dialect]
    params = {"site": d.param_value(site_id, "int"), "visitors": d.param_value(person.visitor_ids, "strings"),
              "emails": d.param_value(person.emails, "strings"), "customers": d.param_value(person.customer_ids, "strings")}
    site, visitors = d.param("site", "int"), d.param("visitors", "strings")

    def rows(sql: str) -> list[dict[str, Any]]:
        found = fetch(store, f"{sql} LIMIT {int(max_rows) + 1}", params)
        return [{name: _json_value(value) for name, value in row.items()} for row in found]

    found = {
        "events": rows(f"SELECT {', '.join(COLUMN_NAMES)} FROM events WHERE site_id = {site}"
                       f" AND {d.is_in(d.text('visitor_id'), visitors)} ORDER BY timestamp, session_id"),
        "visits": rows(f"SELECT {', '.join(SESSION_COLUMNS)} FROM {d.sessions_table} WHERE site_id = {site}"
                       f" AND {d.is_in(d.text('span_visitor'), visitors)} ORDER BY session_started_at, session_id"),
        "payments": rows(
            f"SELECT {', '.join(PAYMENT_COLUMN_NAMES)} FROM {d.payments_table} WHERE site_id = {site}"
            f" AND ({d.is_in(d.text('visitor_id'), visitors)} OR {d.is_in(lowered(d, 'email'), d.param('emails', 'strings'))}"
            f" OR {d.is_in('customer_id', d.param('customers', 'strings'))}) ORDER BY timestamp, transaction_id, kind"),
    }
    truncated = any(len(table) > max_rows for table in found.values())
    found = {name: table[:max_rows] for name, table in found.items()}
    # The visitors the data belongs to: a visitor id asked for but unknown here is not echoed.
    seen = {row.get("visitor_id") or row.get("span_visitor") for table in found.values() for row in table}
    return {"visitor_ids": sorted(seen - {None}), **found, "truncated": truncated}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, UUID):
        return str(value)
    return value


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    return _json_value(value)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:  # DuckDB's TIMESTAMP columns hold UTC without a zone
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
