"""Retention: a site with `retention_days` loses its visits begun before that many days ago, whole, with
their events, sessions rows and identities; a site without keeps everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from event_stores import KINDS, open_store
from factories import Clock, stored_event
from postmetric.accounts.users import create_user
from postmetric.ingest.event import EventType
from postmetric.jobs import JobRunner
from postmetric.sites.retention import (
    RETENTION_INTERVAL_SECONDS,
    RetentionError,
    purge_expired_events,
    retention_job,
)
from postmetric.ingest.rows import event_row
from postmetric.sites.service import create_site, delete_site, update_site_settings
from postmetric.store.database import session_factory
from postmetric.store.events import encode_rows
from postmetric.store.metadata import Site

NOW = 1_780_000_000.0
DAY = 86_400.0
RETAINED, FOREVER = "00000000-0000-4000-8000-0000000000", "00000000-0000-4000-8000-0000000001"


@pytest.fixture
def Session(metadata_engine):
    return session_factory(metadata_engine)


@pytest.fixture
def sites(db_session) -> tuple[int, int]:
    """(id of a site keeping 30 days, id of a site keeping everything)."""
    owner = create_user(db_session, email="owner@example.com", password="long enough")
    retained = create_site(db_session, owner=owner, domain="retained.example")
    update_site_settings(db_session, retained, retention_days=30)
    forever = create_site(db_session, owner=owner, domain="forever.example")
    db_session.commit()
    return retained.id, forever.id


def visit(site_id: int, session_id: str, started: float, *offsets: float, identify: bool = False) -> list:
    """A visit's events, `offsets` seconds after its start; ends with an identify when asked."""
    events = [stored_event(timestamp=started + offset, session_id=session_id, session_started_at=started,
                           visitor_id=session_id) for offset in offsets]
    if identify:
        events.append(stored_event(timestamp=started + 60, session_id=session_id, session_started_at=started,
                                   visitor_id=session_id, type=EventType.IDENTIFY, name="identify",
                                   props={"user_id": session_id[-2:]}))
    for event in events:
        event.site_id = site_id
    return events


@pytest.fixture(params=KINDS)
def store(request, tmp_path, sites):
    retained, forever = sites
    cutoff = NOW - 30 * DAY
    store = open_store(request.param, tmp_path)
    store.load(encode_rows(event_row(e) for e in [
        *visit(retained, RETAINED + "01", cutoff - 5 * DAY, 0, 30, identify=True),  # old: goes (3 events)
        *visit(retained, RETAINED + "02", cutoff - 60, 0, 120),  # begun before the cutoff, ends after: goes whole
        *visit(retained, RETAINED + "03", cutoff + 60, 0, identify=True),  # just inside the retention: stays
        *visit(retained, RETAINED + "04", NOW - DAY, 0, 10, 20),  # recent: stays
        *visit(forever, FOREVER + "01", cutoff - 400 * DAY, 0, identify=True),  # no retention: stays
        *visit(forever, FOREVER + "02", NOW - DAY, 0),
    ]))
    yield store
    store.close()


def sessions_by_site(store) -> dict[int, list[str]]:
    rows = store.fetch("SELECT site_id, session_id FROM sessions ORDER BY session_id")
    return _by_site(rows, "session_id")


def event_sessions_by_site(store) -> dict[int, list[str]]:
    rows = store.fetch("SELECT DISTINCT site_id, session_id FROM events ORDER BY session_id")
    return _by_site(rows, "session_id")


def identities_by_site(store) -> dict[int, list[str]]:
    rows = store.fetch("SELECT site_id, visitor_id FROM identities ORDER BY visitor_id")
    return _by_site(rows, "visitor_id")


def _by_site(rows: list[dict], column: str) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for row in rows:
        grouped.setdefault(row["site_id"], []).append(str(row[column]))
    return grouped


def test_only_the_visits_older_than_the_sites_retention_go(Session, sites, store):
    retained, forever = sites
    deleted = purge_expired_events(Session, store, datetime.fromtimestamp(NOW, UTC))

    assert deleted == {retained: 5}  # sites without retention are not even asked
    kept = {retained: [RETAINED + "03", RETAINED + "04"], forever: [FOREVER + "01", FOREVER + "02"]}
    assert event_sessions_by_site(store) == kept
    assert sessions_by_site(store) == kept
    assert identities_by_site(store) == {retained: [RETAINED + "03"], forever: [FOREVER + "01"]}
    assert store.fetch("SELECT count(*) AS n FROM events")[0]["n"] == 2 + 3 + 2 + 1


def test_purging_again_deletes_nothing(Session, sites, store):
    now = datetime.fromtimestamp(NOW, UTC)
    purge_expired_events(Session, store, now)
    assert purge_expired_events(Session, store, now) == {sites[0]: 0}


def test_the_cutoff_moves_with_now(Session, sites, store):
    retained, _ = sites
    # A day later the visit begun a minute inside the retention is out too.
    assert purge_expired_events(Session, store, datetime.fromtimestamp(NOW + DAY, UTC)) == {retained: 5 + 2}


class RecordingStore:
    def __init__(self, failing_site: int | None = None) -> None:
        self.failing_site = failing_site
        self.calls: list[tuple[int, datetime]] = []

    def delete_before(self, site_id: int, cutoff: datetime) -> int:
        self.calls.append((site_id, cutoff))
        if site_id == self.failing_site:
            raise OSError("disk full")
        return 1


def test_each_site_is_purged_at_its_own_cutoff(Session, db_session, sites):
    retained, forever = sites
    update_site_settings(db_session, db_session.get(Site, forever), retention_days=400)
    db_session.commit()
    store = RecordingStore()
    now = datetime.fromtimestamp(NOW, UTC)
    assert purge_expired_events(Session, store, now) == {retained: 1, forever: 1}
    assert store.calls == [(retained, now - timedelta(days=30)), (forever, now - timedelta(days=400))]


def test_a_failing_site_does_not_spare_the_others_and_fails_the_run(Session, db_session, sites):
    retained, forever = sites
    update_site_settings(db_session, db_session.get(Site, forever), retention_days=400)
    db_session.commit()
    store = RecordingStore(failing_site=retained)
    with pytest.raises(RetentionError) as raised:
        purge_expired_events(Session, store, datetime.fromtimestamp(NOW, UTC))
    assert raised.value.failed_site_ids == [retained]
    assert [site_id for site_id, _ in store.calls] == [retained, forever]


async def test_the_retention_job_purges_hourly_on_one_node(Session, sites, store):
    retained, _ = sites
    job = retention_job(Session, store)
    assert (job.name, job.interval_seconds) == ("retention", RETENTION_INTERVAL_SECONDS) == ("retention", 3600.0)
    clock = Clock(NOW)
    runner = JobRunner(Session, [job], holder="node", clock=clock)
    assert await runner.run_due() == ["retention"]
    assert event_sessions_by_site(store)[retained] == [RETAINED + "03", RETAINED + "04"]
    assert job.run(datetime.fromtimestamp(NOW + DAY, UTC)) == "deleted 2 events of 1 sites; purged 0 deleted sites again"


def test_the_retention_job_purges_rows_that_reached_a_deleted_site(Session, db_session, sites, store):
    """Rows of a deleted site loaded after its purge (another node's journal, an event in flight): the
    next run removes them, from every table; the other sites keep theirs."""
    retained, forever = sites
    delete_site(db_session, db_session.get(Site, forever))
    db_session.commit()
    job = retention_job(Session, store)
    assert job.run(datetime.fromtimestamp(NOW, UTC)) == "deleted 5 events of 1 sites; purged 1 deleted sites again"
    assert forever not in event_sessions_by_site(store) and forever not in sessions_by_site(store)
    assert forever not in identities_by_site(store)
    assert event_sessions_by_site(store)[retained] == [RETAINED + "03", RETAINED + "04"]
    assert job.run(datetime.fromtimestamp(NOW, UTC)) == "deleted 0 events of 0 sites; purged 0 deleted sites again"
