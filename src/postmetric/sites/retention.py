"""Data retention: forget each site's visits older than its `retention_days` (30 days to 10 years, or
forever).

Secondary responsibilities:
1. `retention_job` wraps the purge as a background `Job` (postmetric/jobs.py), run hourly on one node.
2. The job also purges deleted sites' rows that reached the event store after their deletion
   (`sites.purge.purge_deleted_sites`).
3. One site's failed purge does not stop the others': it is logged, the rest go on, and the run then
   raises so that the job is retried on the next tick (a purge is idempotent).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from postmetric.jobs import Job
from postmetric.sites.purge import purge_deleted_sites
from postmetric.store.events import EventStore
from postmetric.store.metadata import Site

log = logging.getLogger(__name__)

# Hourly, not daily: each run deletes about an hour of visits per site, so the delete holds the event
# store's single writer (and stalls ingestion loads) briefly rather than for a day's worth at once; and a
# site's data outlives its retention by at most an hour. A run with nothing to delete costs one DELETE
# per site with retention, which the stores answer from their time-ordered layout.
RETENTION_INTERVAL_SECONDS = 3600.0


class RetentionError(Exception):
    """The purge failed for some sites (logged each); the others were purged."""

    def __init__(self, failed_site_ids: list[int]) -> None:
        super().__init__(f"retention purge failed for sites {failed_site_ids}")
        self.failed_site_ids = failed_site_ids


def purge_expired_events(Session: sessionmaker[Session], events: EventStore, now: datetime) -> dict[int, int]:
    """Delete, for every site with `retention_days` set, its visits begun more than that many days before
    `now`; site id → events deleted. Sites without retention are not touched."""
    with Session() as session:
        retained = session.execute(
            select(Site.id, Site.retention_days).where(Site.retention_days.is_not(None)).order_by(Site.id)
        ).all()
    deleted: dict[int, int] = {}
    failed: list[int] = []
    for site_id, retention_days in retained:
        try:
            deleted[site_id] = events.delete_before(site_id, now - timedelta(days=retention_days))
        except Exception:
            log.exception("retention: purging site %d failed", site_id)
            failed.append(site_id)
    if failed:
        raise RetentionError(failed)
    return deleted


def retention_job(
    Session: sessionmaker[Session], events: EventStore, *, interval_seconds: float = RETENTION_INTERVAL_SECONDS
) -> Job:
    """The purge as a background job named "retention"."""

    def run(now: datetime) -> str:
        deleted = purge_expired_events(Session, events, now)
        purged = purge_deleted_sites(Session, events)
        return (f"deleted {sum(deleted.values())} events of {sum(1 for n in deleted.values() if n)} sites;"
                f" purged {len(purged)} deleted sites again")

    return Job(name="retention", interval_seconds=interval_seconds, run=run)
