"""Shared fixtures.

Metadata database: `metadata_url` runs each test once on SQLite and once on PostgreSQL (the server
named by POSTMETRIC_TEST_DATABASE_URL, in a throwaway schema); `metadata_engine` is an engine on
that database, migrated; `db_session` is a session on it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from postmetric.store.database import create_engine, migrate, session_factory

POSTGRES_URL_VARIABLE = "POSTMETRIC_TEST_DATABASE_URL"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty metadata database, private to the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'metadata.sqlite'}"
        return
    server_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server_url:
        pytest.skip(
            f"{POSTGRES_URL_VARIABLE} is unset (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    schema = f"test_{secrets.token_hex(8)}"
    admin = create_engine(server_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        # The URL's query becomes psycopg connect arguments: every connection starts in the schema.
        url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def metadata_engine(metadata_url: str) -> Iterator[Engine]:
    engine = create_engine(metadata_url)
    migrate(engine)
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
