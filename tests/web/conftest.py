"""A real app on temp stores, driven in-process; a site to send events to."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from postmetric.accounts.keys import create_site_key
from postmetric.accounts.users import create_user
from postmetric.app import create_app
from postmetric.config import Settings
from postmetric.sites.service import create_site, get_site, update_site_settings
from postmetric.store.database import create_engine, migrate, session_factory

from factories import CHROME_UA, Clock
from smtp_server import start_smtp
from web_support import PROXY_PEER, TRUSTED_PROXIES


@dataclass
class SiteUnderTest:
    id: int
    public_id: str
    key: str


@pytest.fixture
def smtp():
    """A real SMTP server in-process: (controller, inbox)."""
    controller, inbox = start_smtp()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock(time.time())


@pytest.fixture
def settings(tmp_path, derived_data_dir) -> Settings:
    return Settings(data_dir=tmp_path / "data", cache_dir=derived_data_dir, ingest_rate_limit="",
                    trusted_proxies=TRUSTED_PROXIES)


@pytest.fixture
def site_changes() -> dict:
    """Override in a test module (or parametrize) to create the site with other settings."""
    return {}


def _create_site(metadata_url: str, site_changes: dict) -> SiteUnderTest:
    """The owner, their site (timezone Europe/Berlin) with `site_changes`, and a server key."""
    engine = create_engine(metadata_url)
    with session_factory(engine)() as session:
        owner = create_user(session, email="owner@example.com", password="correct horse")
        created = create_site(session, owner=owner, domain="example.com", timezone="Europe/Berlin")
        if site_changes:
            update_site_settings(session, created, **site_changes)
        _, key = create_site_key(session, site=created, name="server")
        session.commit()
        result = SiteUnderTest(created.id, created.public_id, key)
    engine.dispose()
    return result


@pytest.fixture(scope="session")
def site_metadata(tmp_path_factory, migrated_sqlite) -> tuple[Path, SiteUnderTest]:
    """A SQLite metadata file holding the `site` fixture's owner, site and key, made once per test
    process and copied per test: creating the owner hashes a password with argon2, which takes
    about a second on a loaded machine."""
    path = tmp_path_factory.mktemp("site-metadata") / "metadata.sqlite"
    shutil.copyfile(migrated_sqlite, path)
    return path, _create_site(f"sqlite:///{path}", {})


@pytest.fixture
def site(settings, site_changes, site_metadata) -> SiteUnderTest:
    settings.ensure_data_dir()
    if settings.database_url is not None or settings.embedded_metadata_path.exists():
        migrate(settings.metadata_url)
        return _create_site(settings.metadata_url, site_changes)
    template, created = site_metadata
    shutil.copyfile(template, settings.embedded_metadata_path)
    if site_changes:
        engine = create_engine(settings.metadata_url)
        with session_factory(engine)() as session:
            update_site_settings(session, get_site(session, created.public_id), **site_changes)
            session.commit()
        engine.dispose()
    return created


@pytest.fixture
def client(settings, clock, site):
    with TestClient(create_app(settings, clock=clock), headers={"user-agent": CHROME_UA},
                    client=PROXY_PEER) as test_client:
        yield test_client
