"""A throwaway schema on the PostgreSQL server the tests use (POSTMETRIC_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import make_url, text

from postmetric.store.database import create_engine

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
