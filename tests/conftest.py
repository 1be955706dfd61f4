"""Shared fixtures.

Metadata database: `metadata_url` runs each test once on SQLite and once on PostgreSQL (the server
named by POSTMETRIC_TEST_DATABASE_URL, in a throwaway schema); `metadata_engine` is an engine on
that database, migrated; `db_session` is a session on it. A migration takes about a second, so it
runs once per test process: SQLite tests get a copy of a migrated file (`migrated_sqlite`),
PostgreSQL tests the migration's statements replayed (postgres.py).

Hypothesis: the `default` profile for `make test`, `full` for `make test-full` (hypothesis_profiles.py).

Redis: `redis_namespace` is a client on the Redis server of this machine and a key prefix of the
test's own.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from hypothesis_profiles import load_profile
from postgres import migrate_like_head, postgres_schema
from postmetric.store.database import create_engine, migrate, session_factory

load_profile()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty metadata database, private to the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'metadata.sqlite'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite metadata file migrated to the newest revision, for tests to copy."""
    path = tmp_path_factory.mktemp("migrated") / "metadata.sqlite"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def metadata_engine(metadata_url: str, migrated_sqlite: Path) -> Iterator[Engine]:
    engine = create_engine(metadata_url)
    if engine.dialect.name == "postgresql":
        migrate_like_head(engine)
    elif not Path(engine.url.database).exists():
        shutil.copyfile(migrated_sqlite, engine.url.database)
    migrate(engine)  # finds the schema at the newest revision
    yield engine
    engine.dispose()  # before the schema is dropped: open connections would block DROP SCHEMA


@pytest.fixture
def db_session(metadata_engine: Engine) -> Iterator[Session]:
    with session_factory(metadata_engine)() as session:
        yield session


@pytest.fixture(scope="session")
def derived_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the geolocation database is unpacked, shared by every test (unpacking takes ~0.5 s)."""
    return tmp_path_factory.mktemp("derived")


@pytest.fixture
def redis_namespace() -> Iterator[tuple[redis.Redis, str]]:
    """A client on the test Redis server and a key prefix of the test's own, whose keys are deleted after."""
    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError as error:
        pytest.skip(f"no Redis server on 127.0.0.1:6379 ({error})")
    prefix = f"pmtest:{secrets.token_hex(6)}:"
    try:
        yield client, prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1_000))
        if keys:
            client.delete(*keys)
        client.close()

