"""Objects for tests, built the way the product builds them."""

from __future__ import annotations

import uuid

from postmetric.ingest.event import Event, EventType

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


def stored_event(**fields) -> Event:
    """An event as the pipeline leaves it: enriched and with identity."""
    event = Event(
        site_public_id="pm_test", type=EventType.PAGEVIEW, name="pageview", href="https://example.com/",
        timestamp=1_780_000_000.0, ip="", user_agent=CHROME_UA,
    )
    event.site_id = 1
    event.hostname, event.pathname, event.entry_page = "example.com", "/", "/"
    event.visitor_id, event.session_id = uuid.uuid4(), uuid.uuid4()
    event.session_started_at = event.timestamp
    event.browser, event.os, event.device = "Chrome", "Windows", "desktop"
    for name, value in fields.items():
        setattr(event, name, value)
    return event
