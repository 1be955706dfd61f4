"""`postmetric store init`: the single-server tables, and the DDL for a cluster. No cluster can run here
(no ClickHouse Keeper, no `remote_servers`), so the cluster statements are checked by ClickHouse's own
parser (EXPLAIN AST, on the chdb harness) and for the properties FINAL and the app depend on."""

from __future__ import annotations

import re

import clickhouse_connect
import pytest

from clickhouse_http import server_url
from event_stores import clickhouse_url
from postmetric.cli import main
from postmetric.store.clickhouse_events import connect
from postmetric.store.clickhouse_schema import cluster_statements, distributed_cluster

TABLES = ("events", "journal_checkpoint", "payments", "identities", "search_console", "sessions")


@pytest.fixture
def statements(tmp_path) -> list[str]:
    store = connect(clickhouse_url(tmp_path))
    try:
        columns = store.fetch("SELECT name, type FROM system.columns WHERE database = currentDatabase()"
                              " AND table = 'sessions' ORDER BY position")
    finally:
        store.close()
    return cluster_statements("analytics", tuple((c["name"], c["type"]) for c in columns))


def test_the_cluster_ddl_parses(statements):
    client = clickhouse_connect.get_client(dsn=server_url(), autogenerate_session_id=False)
    try:
        for statement in statements:
            assert client.raw_query(f"EXPLAIN AST {statement}").startswith(b"CreateQuery")
    finally:
        client.close()


def test_every_table_is_replicated_on_the_cluster_behind_a_distributed_one(statements):
    by_table = {re.match(r"CREATE TABLE IF NOT EXISTS (\w+)", s).group(1): s for s in statements}
    assert set(by_table) == {*TABLES, *(f"{t}_local" for t in TABLES)}
    for table in TABLES:
        local, front = by_table[f"{table}_local"], by_table[table]
        assert "ON CLUSTER `analytics`" in local and "ON CLUSTER `analytics`" in front
        assert re.search(rf"ENGINE = Replicated\w*MergeTree\('/clickhouse/tables/{{shard}}/{{database}}/{table}',"
                         r" '\{replica\}'", local)
        assert f"Distributed('analytics', currentDatabase(), '{table}_local'," in front
    # FINAL merges a key's rows only on one shard: the sharding key is part of the Replacing key.
    assert "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/payments', '{replica}', version)" \
        in by_table["payments_local"]
    assert by_table["payments"].endswith("cityHash64(site_id, provider, transaction_id))")
    assert by_table["sessions"].endswith("cityHash64(session_id))")


def test_a_cluster_is_recognised_by_its_distributed_events_table():
    engine = "Distributed('analytics', 'postmetric', 'events_local', cityHash64(session_id))"
    assert distributed_cluster(engine) == "analytics"
    assert distributed_cluster("MergeTree ORDER BY (site_id, toDate(timestamp))") is None


def test_a_cluster_name_is_an_identifier():
    with pytest.raises(ValueError, match="letters, digits and underscores"):
        cluster_statements("main`; DROP TABLE x", ())


def test_store_init_creates_the_single_server_tables(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POSTMETRIC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POSTMETRIC_CLICKHOUSE_URL", clickhouse_url(tmp_path))
    assert main(["store", "init"]) == 0
    assert '"store": "clickhouse"' in capsys.readouterr().out
    store = connect(clickhouse_url(tmp_path))
    try:
        tables = {row["name"] for row in store.fetch("SELECT name FROM system.tables WHERE database = currentDatabase()")}
        assert set(TABLES) <= tables
        assert store.cluster is None
    finally:
        store.close()


def test_store_init_cluster_needs_clickhouse(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POSTMETRIC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("POSTMETRIC_CLICKHOUSE_URL", raising=False)
    assert main(["store", "init", "--cluster", "analytics"]) == 2
    assert "set POSTMETRIC_CLICKHOUSE_URL" in capsys.readouterr().err
