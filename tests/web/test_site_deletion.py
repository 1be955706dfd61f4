"""Deleting a site purges it from the event store (DuckDB and ClickHouse): its events, visits, identities and
payments, including rows journaled but not yet loaded, and those a crash left in the journal. A site created
afterwards, in another account, gets a new id and shows none of it through the stats and customers APIs."""

from __future__ import annotations

import orjson
import pytest
from starlette.testclient import TestClient

from event_stores import KINDS, clickhouse_url
from factories import CHROME_UA
from postmetric.app import create_app
from postmetric.config import Settings
from postmetric.sites.service import delete_site, get_site
from postmetric.store.database import create_engine, session_factory
from postmetric.ingest.rows import event_row
from postmetric.store.events import encode_rows
from postmetric.store.journal import EventJournal
from stats_api_support import NOW, bearer, clock, create_tenant, owner, pageview, send  # noqa: F401 - fixtures

from factories import stored_event

A = "00000000-0000-4000-8000-00000000000a"
S1 = "00000000-0000-4000-8000-000000000101"
SITE_TABLES = ("events", "sessions", "identities", "payments")


@pytest.fixture(params=KINDS)
def settings(request, tmp_path, derived_data_dir) -> Settings:
    store = {"clickhouse_url": clickhouse_url(tmp_path)} if request.param == "clickhouse" else {}
    return Settings(data_dir=tmp_path / "data", cache_dir=derived_data_dir, ingest_rate_limit="", **store)


def rows_of(client, site_id: int) -> dict[str, int]:
    services = client.app.state.services
    services.writer.flush()
    return {table: services.events.fetch(f"SELECT count(*) AS n FROM {table} WHERE site_id = {site_id}")[0]["n"]
            for table in SITE_TABLES}


def report(client, tenant, name: str) -> list[dict]:
    response = client.get(f"/api/v1/analytics/{name}", params={"startAt": "2026-01-01", "endAt": "2026-03-11"},
                          headers=bearer(tenant.key))
    assert response.status_code == 200, response.text
    return response.json()["data"]


def customers(client, tenant) -> list[dict]:
    response = client.get("/api/v1/customers", params={"date_range": "all"}, headers=bearer(tenant.key))
    assert response.status_code == 200, response.text
    return response.json()["results"]


@pytest.fixture
def used(client, owner):
    """The site, with a visit, an identified person and their payment: in every table of the store."""
    send(client, owner, [
        pageview(owner, "/secret-a", visitor=A, session=S1, at=NOW.replace(day=10, hour=9)),
        pageview(owner, "/secret-a", visitor=A, session=S1, at=NOW.replace(day=10, hour=9, minute=1),
                 type="identify", props={"email": "ada@example.com"}),
    ])
    paid = client.post("/api/v1/payments", headers=bearer(owner.key), json={
        "transaction_id": "ch_1", "amount": "49.00", "currency": "USD", "timestamp": "2026-03-10T10:00:00Z",
        "email": "ada@example.com"})
    assert paid.status_code == 201, paid.text
    assert all(rows_of(client, owner.site_id).values())
    assert [row["path"] for row in report(client, owner, "pages")] == ["/secret-a"]
    return owner


def delete(client, tenant) -> None:
    response = client.delete(f"/api/v1/sites/{tenant.public_id}", headers=bearer(tenant.token))
    assert response.status_code == 204, response.text


def test_a_deleted_sites_data_is_purged_and_never_shows_in_a_new_site(client, settings, used):
    delete(client, used)

    other = create_tenant(settings, email="mallory@example.com", domain="mallory.example")
    assert report(client, other, "pages") == []
    assert customers(client, other) == []
    assert report(client, other, "overview")[0]["revenue"] == 0
    assert other.site_id > used.site_id
    assert rows_of(client, used.site_id) == dict.fromkeys(SITE_TABLES, 0)


def test_events_journaled_but_not_loaded_are_purged_too(client, used):
    # Acknowledged (journaled), not loaded yet: the loader runs once a second.
    response = client.post("/api/v1/events", headers=bearer(used.key), json=[
        pageview(used, "/late", visitor=A, session=S1, at=NOW.replace(day=10, hour=9, minute=2))])
    assert response.status_code == 202
    delete(client, used)
    assert rows_of(client, used.site_id) == dict.fromkeys(SITE_TABLES, 0)


def test_a_deleted_site_refuses_events_at_once(client, used):
    delete(client, used)
    client.post("/api/events", content=orjson.dumps(
        {"websiteId": used.public_id, "type": "pageview", "href": "https://example.com/after"}))
    assert rows_of(client, used.site_id) == dict.fromkeys(SITE_TABLES, 0)


def test_rows_a_crash_left_in_the_journal_do_not_bring_a_deleted_site_back(settings, site):
    """A node journaled events of two sites and died before loading them; meanwhile one site was deleted.
    At the next start the journal is replayed, and the deleted site's rows are purged again."""
    journal = EventJournal(settings.journal_dir)
    journal.open_for_append()
    rows = []
    for site_id in (site.id, site.id + 1000):
        event = stored_event(timestamp=NOW.timestamp() - 60, pathname=f"/from-{site_id}")
        event.site_id = site_id
        rows.append(event_row(event))
    journal.append(encode_rows(rows))
    journal.close()
    engine = create_engine(settings.metadata_url)
    with session_factory(engine)() as session:
        delete_site(session, get_site(session, site.id))
        session.commit()
    engine.dispose()

    with TestClient(create_app(settings), headers={"user-agent": CHROME_UA}) as client:
        services = client.app.state.services
        assert services.events.journal_position() is not None  # the journal was replayed
        stored = services.events.fetch("SELECT site_id, pathname FROM events ORDER BY site_id")
        assert [(row["site_id"], row["pathname"]) for row in stored] == [(site.id + 1000, f"/from-{site.id + 1000}")]


def test_rows_left_by_a_deletion_before_the_upgrade_keep_their_id_from_new_sites(settings, site):
    """A site deleted before ids were kept left rows in the store: at start-up the next id moves past them."""
    journal = EventJournal(settings.journal_dir)
    journal.open_for_append()
    event = stored_event(timestamp=NOW.timestamp() - 60, pathname="/left-behind")
    event.site_id = site.id + 4
    journal.append(encode_rows([event_row(event)]))
    journal.close()
    with TestClient(create_app(settings), headers={"user-agent": CHROME_UA}):
        other = create_tenant(settings, email="mallory@example.com", domain="mallory.example")
    assert other.site_id == site.id + 5
