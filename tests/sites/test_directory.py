"""SiteDirectory: ingestion's cached view of sites, refreshed after a TTL read from an injected clock."""

import threading

import pytest
from sqlalchemy import event

from postmetric.accounts.users import create_user
from postmetric.sites.directory import SiteDirectory
from postmetric.sites.service import create_site, delete_site, update_site_settings
from postmetric.sites.settings import SiteSettings
from postmetric.store.database import session_factory

UNKNOWN = "pm_000000000000"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sessions(metadata_engine):
    return session_factory(metadata_engine)


@pytest.fixture
def queries(metadata_engine):
    """Statements the directory sends to the database, to prove which lookups were cached."""
    statements = []
    event.listen(metadata_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


@pytest.fixture
def site(sessions):
    with sessions.begin() as session:
        owner = create_user(session, email="owner@example.com", password="long enough")
        return create_site(
            session, owner=owner, domain="example.com", timezone="Europe/Berlin", currency="EUR"
        )


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def directory(sessions, clock):
    return SiteDirectory(sessions, clock=clock, ttl_seconds=5)


def change(sessions, site, **changes):
    with sessions.begin() as session:
        update_site_settings(session, session.merge(site), **changes)


def test_get_returns_the_sites_settings(directory, site):
    settings = directory.get(site.public_id)
    assert settings == SiteSettings(
        id=site.id,
        public_id=site.public_id,
        domain="example.com",
        timezone="Europe/Berlin",
        currency="EUR",
        allowed_hostnames=(),
        excluded_ips=(),
        excluded_countries=frozenset(),
        excluded_hostnames=(),
        excluded_paths=(),
        cookieless=False,
        retention_days=None,
    )


def test_settings_are_immutable_and_carry_every_exclusion(directory, sessions, site):
    change(
        sessions, site, excluded_countries=["DE"], excluded_ips=["10.0.0.0/8"], excluded_paths=["/admin/*"]
    )
    settings = directory.get(site.public_id)
    assert settings.excluded_countries == frozenset({"DE"})
    assert settings.excluded_ips == ("10.0.0.0/8",)
    assert settings.excluded_paths == ("/admin/*",)
    with pytest.raises(AttributeError):
        settings.cookieless = True


def test_a_second_get_within_the_ttl_does_not_query(directory, site, queries, clock):
    directory.get(site.public_id)
    asked = len(queries)
    clock.now += 4.9
    directory.get(site.public_id)
    assert len(queries) == asked


def test_changes_show_once_the_ttl_has_passed(directory, sessions, site, clock):
    directory.get(site.public_id)
    change(sessions, site, cookieless=True)
    clock.now += 4.9
    assert directory.get(site.public_id).cookieless is False
    clock.now += 0.1
    assert directory.get(site.public_id).cookieless is True


def test_unknown_sites_are_cached_too(directory, queries, clock):
    assert directory.get(UNKNOWN) is None
    asked = len(queries)
    for _ in range(100):
        assert directory.get(UNKNOWN) is None
    assert len(queries) == asked
    clock.now += 5
    directory.get(UNKNOWN)
    assert len(queries) > asked


def test_a_site_created_after_a_miss_appears_after_the_ttl(directory, sessions, clock):
    assert directory.get(UNKNOWN) is None
    with sessions.begin() as session:
        owner = create_user(session, email="owner@example.com", password="long enough")
        site = create_site(session, owner=owner, domain="example.com")
        site.public_id = UNKNOWN
    clock.now += 5
    assert directory.get(UNKNOWN).domain == "example.com"


@pytest.mark.parametrize("public_id", ["", "example.com", "pm_short", "pm_000000000000x", "pm_00000000000!"])
def test_malformed_ids_never_reach_the_database(directory, queries, public_id):
    assert directory.get(public_id) is None
    assert queries == []


def test_invalidate_one_site_reloads_it_at_once(directory, sessions, site):
    directory.get(site.public_id)
    change(sessions, site, currency="USD")
    directory.invalidate(site.public_id)
    assert directory.get(site.public_id).currency == "USD"


def test_invalidate_everything(directory, sessions, site):
    directory.get(site.public_id)
    with sessions.begin() as session:
        delete_site(session, session.merge(site))
    directory.invalidate()
    assert directory.get(site.public_id) is None


def test_the_least_recently_used_entry_is_evicted_first(sessions, site, queries, clock):
    directory = SiteDirectory(sessions, clock=clock, max_entries=2)
    directory.get(site.public_id)
    directory.get("pm_000000000001")
    directory.get(site.public_id)  # now the most recently used
    directory.get("pm_000000000002")  # evicts pm_000000000001
    asked = len(queries)
    directory.get(site.public_id)
    assert len(queries) == asked
    directory.get("pm_000000000001")
    assert len(queries) > asked


def test_concurrent_readers_all_get_the_site(directory, site):
    results = []

    def read():
        for _ in range(50):
            results.append(directory.get(site.public_id))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 400 and {r.domain for r in results} == {"example.com"}
