"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic import command
from sqlalchemy import Column, Engine, Integer, MetaData, Table, inspect, text

from postmetric.store.database import alembic_config, create_engine, migrate
from postmetric.store.metadata import Base

TABLES = {
    "alembic_version", "users", "sites", "api_keys", "account_tokens", "cookieless_salts",
    "web_sessions", "password_resets", "site_members", "site_invitations", "site_shares", "revenue_providers",
    "goals", "funnels", "job_leases", "site_deletions", "erasures", "annotations", "integrations",
}


def schema_diff(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), metadata)


def test_upgrade_head_creates_every_table_on_an_empty_database(metadata_url):
    engine = create_engine(metadata_url)
    assert inspect(engine).get_table_names() == []
    migrate(metadata_url)
    assert set(inspect(engine).get_table_names()) == TABLES
    engine.dispose()


def test_migrated_schema_equals_the_models(metadata_engine):
    assert schema_diff(metadata_engine, Base.metadata) == []


def test_the_comparison_notices_a_model_the_migrations_lack(metadata_engine):
    metadata = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    Table("not_migrated", metadata, Column("id", Integer, primary_key=True))
    assert [diff[0] for diff in schema_diff(metadata_engine, metadata)] == ["add_table"]


def test_migrating_twice_changes_nothing(metadata_engine):
    with metadata_engine.connect() as connection:
        head = MigrationContext.configure(connection).get_current_revision()
    migrate(metadata_engine)
    with metadata_engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head == "0010"
    assert schema_diff(metadata_engine, Base.metadata) == []


def test_postgres_urls_use_psycopg_3():
    assert create_engine("postgres://u@localhost/db").dialect.driver == "psycopg"
    assert create_engine("postgresql://u@localhost/db").dialect.driver == "psycopg"


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_upgrading_makes_every_existing_owner_a_member_of_their_site(metadata_url):
    engine = create_engine(metadata_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.execute(text("INSERT INTO users (id, email, password_hash, created_at) "
                                "VALUES (7, 'ada@example.com', 'x', CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO sites (id, public_id, domain, name, timezone, currency, owner_id, allowed_hostnames, "
            "excluded_ips, excluded_countries, excluded_hostnames, excluded_paths, cookieless, created_at, "
            "updated_at) VALUES (3, 'pm_AAAAAAAAAAAA', 'example.com', 'example.com', 'UTC', 'USD', 7, '[]', "
            "'[]', '[]', '[]', '[]', false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
    migrate(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT site_id, user_id, role FROM site_members")).all()
    assert [tuple(row) for row in rows] == [(3, 7, "owner")]
    engine.dispose()
