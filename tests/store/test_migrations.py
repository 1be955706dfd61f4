"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, Table, inspect

from postmetric.store.database import create_engine, migrate
from postmetric.store.metadata import Base

TABLES = {"alembic_version", "users", "sites", "api_keys", "account_tokens", "cookieless_salts"}


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
    Table("goals", metadata, Column("id", Integer, primary_key=True))
    assert [diff[0] for diff in schema_diff(metadata_engine, metadata)] == ["add_table"]


def test_migrating_twice_changes_nothing(metadata_engine):
    with metadata_engine.connect() as connection:
        head = MigrationContext.configure(connection).get_current_revision()
    migrate(metadata_engine)
    with metadata_engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head == "0001"
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
