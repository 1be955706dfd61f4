"""Objects for tests, built the way the product builds them."""

from __future__ import annotations

import uuid

from postmetric.ingest.event import Event, EventType, Visit
from postmetric.store.columns import VISIT_FIELDS

CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


class Clock:
    """A settable clock for code that takes `clock` as a parameter."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def stored_event(*, visitor_id=None, session_id=None, session_started_at=None, **fields) -> Event:
    """An event as the pipeline leaves it: enriched, in a visit. Visit attributes
    (VISIT_FIELDS) given as keywords become the visit's."""
    event = Event(
        site_public_id="pm_test", type=EventType.PAGEVIEW, name="pageview", href="https://example.com/",
        timestamp=fields.pop("timestamp", 1_780_000_000.0), ip="", user_agent=CHROME_UA,
    )
    event.site_id = 1
    event.hostname, event.pathname = "example.com", "/"
    visit_values = {"entry_page": "/", "click_ids": "{}", "browser": "Chrome", "os": "Windows", "device": "desktop"}
    for name, value in fields.items():
        if name in VISIT_FIELDS:
            visit_values[name] = value
        else:
            setattr(event, name, value)
    event.visit = Visit(
        visitor_id=visitor_id or str(uuid.uuid4()),
        session_id=session_id or str(uuid.uuid4()),
        started_at=event.timestamp if session_started_at is None else session_started_at,
        last_seen=event.timestamp,
        attributes=tuple(visit_values.get(name, "") for name in VISIT_FIELDS),
    )
    return event


def hold_integrations_job(settings) -> None:
    """Another node holds the "integrations" job's lease for good: an app started on this database never
    syncs on its own, so every sync in a test is the one the test asks for (the job's tick would otherwise
    race a "Sync now")."""
    from datetime import datetime, timezone

    from postmetric.store.database import create_engine, migrate, session_factory
    from postmetric.store.metadata import JobLease

    settings.ensure_data_dir()
    migrate(settings.metadata_url)
    engine = create_engine(settings.metadata_url)
    try:
        with session_factory(engine).begin() as session:
            session.merge(JobLease(name="integrations", holder="another node",
                                   expires_at=datetime(2999, 1, 1, tzinfo=timezone.utc)))
    finally:
        engine.dispose()
