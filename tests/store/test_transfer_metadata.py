"""`postmetric store migrate --to postgresql`: an embedded install's metadata (SQLite in the data dir),
copied into PostgreSQL, keeps its accounts, sites, keys and tokens working, and new rows get new ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from postgres import postgres_schema
from postmetric.accounts.keys import authenticate_account_token, authenticate_site_key
from postmetric.accounts.users import authenticate
from postmetric.cli import main
from postmetric.sites.goals import create_goal
from postmetric.sites.salts import cookieless_salts
from postmetric.sites.service import delete_site, get_site
from postmetric.store.database import create_engine, session_factory
from postmetric.store.metadata import Base, Site

pytestmark = pytest.mark.postgres
PASSWORD = "correct horse battery"


def cli(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        result = {t.name: connection.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
    engine.dispose()
    return result


@pytest.fixture
def embedded(tmp_path, monkeypatch, capsys):
    """A data dir with SQLite metadata: an account, two sites, a goal, a site key, a token, salts."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("POSTMETRIC_DATA_DIR", str(data_dir))
    monkeypatch.delenv("POSTMETRIC_DATABASE_URL", raising=False)
    cli(capsys, "users", "create", "--email", "ada@example.com", "--password", PASSWORD)
    site = cli(capsys, "sites", "create", "--owner", "ada@example.com", "--domain", "example.com")
    cli(capsys, "sites", "create", "--owner", "ada@example.com", "--domain", "shop.example.org")
    key = cli(capsys, "keys", "create", "--site", "example.com")["key"]
    token = cli(capsys, "tokens", "create", "--user", "ada@example.com")["token"]
    sqlite_url = f"sqlite:///{data_dir.resolve() / 'postmetric.sqlite'}"
    engine = create_engine(sqlite_url)
    with session_factory(engine)() as session:
        create_goal(session, session.get(Site, site["id"]), {"kind": "event", "event_name": "signup"})
        cookieless_salts(session, today=datetime(2026, 11, 26).date())
        session.commit()
    engine.dispose()
    return sqlite_url, site, key, token


def test_the_copy_keeps_every_row_and_what_depends_on_it(embedded, monkeypatch, capsys):
    sqlite_url, site, key, token = embedded
    with postgres_schema() as postgres_url:
        monkeypatch.setenv("POSTMETRIC_DATABASE_URL", postgres_url)
        copied = cli(capsys, "store", "migrate", "--to", "postgresql")["rows"]
        assert copied["users"] == 1 and copied["sites"] == 2 and copied["goals"] == 1
        assert counts(postgres_url) == counts(sqlite_url) == copied

        engine = create_engine(postgres_url)
        with session_factory(engine)() as session:
            now = datetime.now(UTC)
            assert authenticate(session, email="ada@example.com", password=PASSWORD) is not None
            assert authenticate_site_key(session, key, now=now).site_id == site["id"]
            assert authenticate_account_token(session, token, now=now) is not None
            assert session.scalar(select(Site.public_id).where(Site.id == site["id"])) == site["public_id"]
            session.commit()
        engine.dispose()
        # The sequences moved past the copied ids: new rows get new ones.
        third = cli(capsys, "sites", "create", "--owner", "ada@example.com", "--domain", "third.example")
        assert third["id"] == 3

        assert main(["store", "migrate", "--to", "postgresql"]) == 2
        assert "already holds" in capsys.readouterr().err


def test_postgresql_must_be_named(embedded, capsys):
    assert main(["store", "migrate", "--to", "postgresql"]) == 2
    assert "set POSTMETRIC_DATABASE_URL to the PostgreSQL database" in capsys.readouterr().err


def test_ids_issued_before_the_copy_are_not_issued_again(embedded, monkeypatch, capsys):
    """The last site was deleted on SQLite: PostgreSQL's sequence starts past its id, not past the rows left."""
    sqlite_url, site, _, _ = embedded
    engine = create_engine(sqlite_url)
    with session_factory(engine)() as session:
        deleted = get_site(session, "shop.example.org")
        deleted_id = deleted.id
        delete_site(session, deleted)
        session.commit()
    engine.dispose()
    with postgres_schema() as postgres_url:
        monkeypatch.setenv("POSTMETRIC_DATABASE_URL", postgres_url)
        assert cli(capsys, "store", "migrate", "--to", "postgresql")["rows"]["site_deletions"] == 1
        new = cli(capsys, "sites", "create", "--owner", "ada@example.com", "--domain", "new.example")
        assert new["id"] > deleted_id > site["id"]
