"""Site deletion, beyond the metadata row: the event store forgets everything of the site.

1. `purge_site` runs right after the deletion commits (`sites.service.delete_site` leaves a
   `SiteDeletion` row): this node's journaled rows are loaded first, so none of them arrives after
   the purge, then the store deletes the site's events, visits, identities and payments.
2. Rows can still arrive afterwards: an event already past the site lookup, another node's unloaded
   journal, or this node's journal replayed after a crash between the deletion and the purge.
   `purge_deleted_sites` finds deleted sites the store holds rows of again and purges them; the app
   runs it at start-up (after the journal replay) and the hourly retention job runs it too. Site ids
   are never reused, so such rows are never shown meanwhile: no site has their id.
"""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from postmetric.store.events import EventStore
from postmetric.store.metadata import SiteDeletion

log = logging.getLogger(__name__)

# Every table a site's rows live in: the others (sessions) are derived from these.
_STORED_TABLES = ("events", "identities", "payments")


class Flushable(Protocol):
    def flush(self) -> None: ...


def purge_site(site_id: int, *, writer: Flushable, events: EventStore) -> int:
    """Load what this node journaled, then delete the site from the store; how many events went.
    Blocking: run it in a thread."""
    writer.flush()
    deleted = events.delete_site(site_id)
    log.info("site %d deleted: %d events purged from the event store", site_id, deleted)
    return deleted


def purge_deleted_sites(Session: sessionmaker[Session], events: EventStore) -> dict[int, int]:
    """Purge the deleted sites the event store holds rows of; site id → events deleted."""
    with Session() as session:
        deleted_ids = session.scalars(select(SiteDeletion.site_id).order_by(SiteDeletion.site_id)).all()
    if not deleted_ids:
        return {}
    # Integers from our own database, written into the SQL: the statement is the same in both dialects.
    ids = ", ".join(str(int(site_id)) for site_id in deleted_ids)
    stored = sorted({row["site_id"] for row in events.fetch(" UNION ALL ".join(
        f"SELECT DISTINCT site_id FROM {table} WHERE site_id IN ({ids})" for table in _STORED_TABLES))})
    purged = {site_id: events.delete_site(site_id) for site_id in stored}
    if purged:
        log.info("purged rows that arrived after their site was deleted: %s", purged)
    return purged
