"""The event store's schema, as a numbered list of migrations applied at open on both engines.

`SQLEventStore._migrate` applies, in order, each migration newer than the last one the store's
`schema_migrations` table records, and records it (on DuckDB in the same transaction). Stores made
before the migrations were numbered have no such table: they get every migration, and each one is
written to leave alone what is there already (CREATE ... IF NOT EXISTS, ADD COLUMN IF NOT EXISTS, a
table rebuilt only when its columns differ), so they end up as a new store would.

A new schema change is one more entry at the end, never an edit of an applied one. The engines
lay out each table by name (`create_table`, `add_column`): the DDL is the part that differs. A
ClickHouse cluster's tables are made by `postmetric store init --cluster` and not migrated at open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from postmetric.store.dialects import DIALECTS
from postmetric.store.identities import identity_rows
from postmetric.store.sessions import SESSION_COLUMNS, session_rows

SCHEMA_MIGRATIONS = "schema_migrations"  # (version, description, applied_at)


class SchemaTarget(Protocol):
    """What a migration may do to a store (SQLEventStore)."""

    dialect: str

    def create_table(self, name: str) -> None: ...

    def add_column(self, table: str, column: str) -> None: ...

    def table_columns(self, table: str) -> tuple[str, ...]: ...

    def drop_table(self, table: str) -> None: ...

    def execute(self, sql: str) -> None: ...


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[SchemaTarget], None]


def _base_tables(store: SchemaTarget) -> None:
    for table in ("events", "journal_checkpoint", "payments"):
        store.create_table(table)


def _payment_checkout_id(store: SchemaTarget) -> None:
    store.add_column("payments", "checkout_id")


def _sessions(store: SchemaTarget) -> None:
    """One row per visit, built from the events; a table of an older layout is rebuilt."""
    if store.table_columns("sessions") == SESSION_COLUMNS:
        return
    store.drop_table("sessions")
    store.create_table("sessions")
    store.execute("INSERT INTO sessions " + session_rows(DIALECTS[store.dialect], "true"))


def _identities(store: SchemaTarget) -> None:
    """One row per identify event naming someone, built from the events."""
    if store.table_columns("identities"):
        return
    store.create_table("identities")
    store.execute("INSERT INTO identities " + identity_rows(DIALECTS[store.dialect], "events"))


def _search_console(store: SchemaTarget) -> None:
    store.create_table("search_console")


MIGRATIONS = (
    Migration(1, "events, journal checkpoint and payments tables", _base_tables),
    Migration(2, "payments.checkout_id", _payment_checkout_id),
    Migration(3, "sessions table: one row per visit, built from the events", _sessions),
    Migration(4, "identities table: one row per naming identify, built from the events", _identities),
    Migration(5, "search_console table: Google Search Console rows by day, query, page, country, device",
              _search_console),
)
assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1)), "migrations are numbered 1, 2, 3…"
