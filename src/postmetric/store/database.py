"""Opens the metadata database: engines for SQLite and PostgreSQL, sessions, and migrations.

Secondary responsibilities:
1. SQLite connections get WAL journaling and enforced foreign keys.
2. `migrate` applies the Alembic migrations shipped inside the package, without an alembic.ini.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Arbitrary constant naming the PostgreSQL advisory lock held while migrating.
_MIGRATION_LOCK_KEY = 0x706D6D67


def create_engine(url: str | URL) -> Engine:
    """An engine for a SQLite or PostgreSQL URL (`postgres://` and `postgresql://` use psycopg 3)."""
    url = make_url(url)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite":
        # Sessions are handed between the web server's threads.
        engine = sqlalchemy.create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    # pre_ping: a long-running server outlives database restarts.
    return sqlalchemy.create_engine(url, pool_pre_ping=True)


def _configure_sqlite(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API objects
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while a writer commits; SQLite ignores foreign keys unless asked.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def scrub_free_space(engine: Engine) -> None:
    """Rewrite a SQLite file without the free space that replaced values leave behind (SQLite reuses
    it, but does not clear it), and empty its WAL: for after values that must not stay on disk (a
    plaintext secret once sealed). PostgreSQL's own VACUUM reclaims dead rows; nothing to do here."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("VACUUM")
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # Objects stay readable after commit (the CLI and routes serialise them after committing).
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Connection) -> Config:
    """An Alembic config that runs the packaged migrations on `connection`.

    Also the way to write a new migration: `command.revision(alembic_config(conn),
    message=..., autogenerate=True)` against a database at the current head.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def migrate(target: str | URL | Engine) -> None:
    """Upgrade the metadata schema to the newest revision; does nothing when already there."""
    engine = target if isinstance(target, Engine) else create_engine(target)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # A batch migration rebuilds a table by copying it and dropping the original: with foreign
                # keys on, the drop would delete its children's rows (ON DELETE CASCADE). The pragma only
                # takes effect outside a transaction; the check below stands in for it.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            try:
                with connection.begin():
                    if connection.dialect.name == "postgresql":
                        # Nodes starting together: one migrates, the others wait, then find nothing to do.
                        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
                    before = MigrationContext.configure(connection).get_current_revision()
                    command.upgrade(alembic_config(connection), "head")
                    migrated = MigrationContext.configure(connection).get_current_revision() != before
                    if sqlite and migrated and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                        raise RuntimeError(f"migrating left rows whose parent is missing: {broken[:5]}")
            finally:
                if sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()
    finally:
        if engine is not target:
            engine.dispose()
