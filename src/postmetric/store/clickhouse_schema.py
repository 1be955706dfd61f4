"""The ClickHouse tables, on one server or on a cluster.

One server: MergeTree tables that app nodes create themselves at start (`CREATE TABLE IF NOT
EXISTS`). A cluster (`postmetric store init --cluster NAME`): on every shard and replica a
`<table>_local` with the Replicated engine, and in front of it a Distributed `<table>` that the
app reads and writes. Rows sharing a key of a Replacing table (a visit, a payment) must live on
one shard for FINAL to merge them there, hence the sharding keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from postmetric.store.columns import EVENT_COLUMNS
from postmetric.store.payments import PAYMENT_COLUMNS
from postmetric.store.search import SEARCH_COLUMNS

_EVENT_TYPES = {
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
_PAYMENT_TYPES = {"uint32": "UInt32", "string": "String", "int64": "Int64", "int64?": "Nullable(Int64)",
                  "timestamp": "DateTime64(6, 'UTC')", "string?": "Nullable(String)", "uuid?": "Nullable(UUID)"}
# The payments ledger plus a `version`: a changed payment is inserted again with the next one.
PAYMENT_STORED = (*(name for name, _ in PAYMENT_COLUMNS), "version")
PAYMENT_STORED_TYPES = {name: _PAYMENT_TYPES[logical] for name, logical in PAYMENT_COLUMNS} | {"version": "UInt64"}
# How a staged batch's CSV reads: timestamps in microseconds, -1 for a missing number.
_CSV_TYPES = {"uint32": "UInt32", "uint32?": "Int64", "uint8?": "Int64", "timestamp": "Int64",
              "string": "String", "json": "String", "uuid": "UUID"}
CSV_STRUCTURE = ", ".join(f"{name} {_CSV_TYPES[logical]}" for name, logical in EVENT_COLUMNS)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, ClickHouse type)
    engine: str  # without "Replicated"
    order_by: str
    shard_key: str
    settings: str = ""  # a single server's table settings (Replicated tables have their own defaults)

    def single_server(self) -> str:
        return (f"CREATE TABLE IF NOT EXISTS {self.name} ({_columns(self.columns)}) ENGINE = {self.engine}"
                f" ORDER BY {self.order_by}" + (f" SETTINGS {self.settings}" if self.settings else ""))

    def cluster(self, cluster: str) -> list[str]:
        """The shards' local table and the Distributed table in front of it."""
        engine, _, arguments = self.engine.partition("(")
        replica = f"'/clickhouse/tables/{{shard}}/{{database}}/{self.name}', '{{replica}}'"
        arguments = arguments.rstrip(")")
        replicated = f"Replicated{engine}({replica}{', ' + arguments if arguments else ''})"
        on_cluster = f"ON CLUSTER `{cluster}`"
        return [
            f"CREATE TABLE IF NOT EXISTS {self.name}_local {on_cluster} ({_columns(self.columns)})"
            f" ENGINE = {replicated} ORDER BY {self.order_by}",
            f"CREATE TABLE IF NOT EXISTS {self.name} {on_cluster} AS {self.name}_local"
            f" ENGINE = Distributed('{cluster}', currentDatabase(), '{self.name}_local', {self.shard_key})",
        ]


def _columns(columns: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in columns)


EVENTS = Table(
    "events",
    tuple((name, "LowCardinality(String)" if name in _LOW_CARDINALITY else _EVENT_TYPES[logical])
          for name, logical in EVENT_COLUMNS),
    "MergeTree",
    # Reads are "one site, a time range"; a visit's events then sit together.
    "(site_id, toDate(timestamp), session_id, timestamp)",
    "cityHash64(session_id)",
    # A load retried after a failure part-way is recognised by its token and not stored twice
    # (replicated tables deduplicate inserts by default).
    "non_replicated_deduplication_window = 1000",
)
# Append-only: positions only grow, and a journal's largest is its checkpoint.
JOURNAL_CHECKPOINT = Table("journal_checkpoint", (("journal_id", "String"), ("segment", "UInt64"),
                                                  ("byte_offset", "UInt64")),
                           "MergeTree", "journal_id", "cityHash64(journal_id)")
# `record_payments` inserts a row when its key is absent; the newest version of a key wins.
PAYMENTS = Table("payments", tuple(PAYMENT_STORED_TYPES.items()), "ReplacingMergeTree(version)",
                 "(site_id, provider, transaction_id, kind = 'refund')", "cityHash64(site_id, provider, transaction_id)")
# One row per identify event naming someone (store/identities.py), appended by every load.
IDENTITIES = Table("identities", (("site_id", "UInt32"), ("visitor_id", "UUID"),
                                  ("timestamp", "DateTime64(6, 'UTC')"), ("person", "String")),
                   "MergeTree", "(site_id, visitor_id)", "cityHash64(visitor_id)")
# Search Console rows (store/search.py): whole days of a site are deleted and inserted again.
_SEARCH_TYPES = {"uint32": "UInt32", "date": "Date", "string": "String", "uint64": "UInt64", "float64": "Float64"}
SEARCH_CONSOLE = Table("search_console",
                       tuple((name, "LowCardinality(String)" if name in ("country", "device") else _SEARCH_TYPES[logical])
                             for name, logical in SEARCH_COLUMNS),
                       "MergeTree", "(site_id, day, query)", "cityHash64(site_id, day)")

# The event-store migrations applied (store/event_migrations.py).
SCHEMA_MIGRATIONS = Table("schema_migrations", (("version", "UInt64"), ("description", "String"),
                                                ("applied_at", "DateTime64(6, 'UTC')")),
                          "MergeTree", "version", "version")


def sessions_table(columns: tuple[tuple[str, str], ...]) -> Table:
    """One row per visit (store/sessions.py SESSION_COLUMNS, typed as the server derives them), inserted
    again whenever a load brings events of that visit; the newest row of a visit wins (FINAL)."""
    return Table("sessions", columns, "ReplacingMergeTree", "(site_id, toDate(session_started_at), session_id)",
                 "cityHash64(session_id)")


def cluster_statements(cluster: str, session_columns: tuple[tuple[str, str], ...]) -> list[str]:
    """Every statement `postmetric store init --cluster` runs, in order."""
    if not _NAME.match(cluster):
        raise ValueError(f"cluster name {cluster!r}: letters, digits and underscores only")
    tables = (EVENTS, JOURNAL_CHECKPOINT, PAYMENTS, IDENTITIES, SEARCH_CONSOLE, sessions_table(session_columns))
    return [statement for table in tables for statement in table.cluster(cluster)]


def distributed_cluster(engine_full: str) -> str | None:
    """The cluster a Distributed table's engine clause names; None for any other engine."""
    match = re.match(r"Distributed\('([^']+)'", engine_full)
    return match.group(1) if match else None
