"""A throwaway schema on the PostgreSQL server the tests use (POSTMETRIC_TEST_DATABASE_URL), and
the metadata migration replayed into one.

Migrating an empty schema takes about a second, and over two hundred tests start from a migrated
one. So `migrate_like_head` runs the real migration once per test process on a schema of its own,
records every statement it sent, and replays them into each test's schema in one transaction
(a few milliseconds): the same statements on the same empty schema, so the same result.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, make_url, text

from postmetric.store.database import create_engine, migrate

POSTGRES_URL_VARIABLE = "POSTMETRIC_TEST_DATABASE_URL"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a throwaway schema on the PostgreSQL server of POSTMETRIC_TEST_DATABASE_URL
    (the test is skipped without it), dropped afterwards."""
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


_recorded: list[tuple[str, Any, bool]] = []


def migrate_like_head(engine: Engine) -> None:
    """Bring the empty schema `engine` is on to the newest revision, as `migrate` would."""
    if not _recorded:
        _recorded.extend(_record_migration())
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            for statement, parameters, many in _recorded:
                if many:
                    cursor.executemany(statement, parameters)
                else:
                    cursor.execute(statement, parameters)
        connection.commit()
    finally:
        connection.close()


def _record_migration() -> list[tuple[str, Any, bool]]:
    """The statements a real migration of an empty schema sends, in order; the global advisory
    lock it takes (one node migrates at a time) is left out, the replay does not need it."""
    statements: list[tuple[str, Any, bool]] = []

    def record(connection, cursor, statement, parameters, context, executemany) -> None:
        if "pg_advisory_xact_lock" not in statement:
            statements.append((statement, parameters, executemany))

    with postgres_schema() as url:
        engine = create_engine(url)
        event.listen(engine, "before_cursor_execute", record)
        migrate(engine)
        engine.dispose()
        schema = make_url(url).query["options"].removeprefix("-csearch_path=")
    named = [statement for statement, parameters, _ in statements if schema in f"{statement} {parameters}"]
    if named:  # a replay into another schema would touch this one
        raise RuntimeError(f"the migration names its schema, it cannot be replayed: {named[:3]}")
    return statements
