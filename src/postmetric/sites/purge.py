"""Site deletion, beyond the metadata row: the event store forgets everything of the site.

1. `purge_site` runs right after the deletion commits (`sites.service.delete_site` leaves a
   `SiteDeletion` row): this node's journaled rows are loaded first, so none of them arrives after
   the purge, then the store deletes the site's events, visits, identities and payments.
2. Rows can still arrive afterwards: an event already past the site lookup, another node's unloaded
   journal, or this node's journal replayed after a crash between the deletion and the purge.
   `purge_deleted_sites` finds deleted sites the store holds rows of again and purges them; the app
   runs it at start-up (after the journal replay) and the hourly retention job runs it too. Site ids
   are never reused, so such rows are never shown meanwhile: no site has their id.
3. `reserve_stored_site_ids`, at start-up: the next site's id is past every site id the event store
   holds. A site deleted before ids were kept (migration 0006), or before `store migrate --to
   postgresql` from such a database, left rows whose id the metadata database forgot it issued.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from postmetric.store.events import EventStore
from postmetric.store.metadata import SiteDeletion

log = logging.getLogger(__name__)


class Flushable(Protocol):
    def flush(self) -> None: ...


def purge_site(site_id: int, *, writer: Flushable, events: EventStore) -> int:
    """Load what this node journaled, then delete the site from the store; how many events went.
    Blocking: run it in a thread."""
    writer.flush()
    deleted = events.delete_sites([site_id]).get(site_id, 0)
    log.info("site %d deleted: %d events purged from the event store", site_id, deleted)
    return deleted


def purge_deleted_sites(Session: sessionmaker[Session], events: EventStore) -> dict[int, int]:
    """Purge the deleted sites the event store holds rows of; site id → events deleted."""
    with Session() as session:
        deleted_ids = session.scalars(select(SiteDeletion.site_id).order_by(SiteDeletion.site_id)).all()
    purged = events.delete_sites(deleted_ids)
    if purged:
        log.info("purged rows that arrived after their site was deleted: %s", purged)
    return purged


def reserve_stored_site_ids(Session: sessionmaker[Session], events: EventStore) -> int:
    """Move the sites' id sequence past the largest site id in the event store, if it is behind; that id."""
    stored = [row["n"] for row in events.fetch(
        "SELECT max(site_id) AS n FROM events UNION ALL SELECT max(site_id) AS n FROM payments") if row["n"]]
    largest = int(max(stored, default=0))
    if not largest:
        return 0
    with Session() as session:
        if session.get_bind().dialect.name == "sqlite":
            # sites is AUTOINCREMENT (0006): the next id is past both max(id) and its sqlite_sequence row.
            session.execute(text("INSERT INTO sqlite_sequence (name, seq) SELECT 'sites', 0"
                                 " WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'sites')"))
            session.execute(text("UPDATE sqlite_sequence SET seq = :n WHERE name = 'sites' AND seq < :n"), {"n": largest})
        else:
            session.execute(text(
                "SELECT setval(pg_get_serial_sequence('sites', 'id'), :n) FROM pg_sequences"
                " WHERE format('%I.%I', schemaname, sequencename) = pg_get_serial_sequence('sites', 'id')"
                " AND coalesce(last_value, 0) < :n"), {"n": largest})
        session.commit()
    return largest
