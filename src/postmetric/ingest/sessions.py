"""Who is this visitor, and which visit (session) does this event belong to?

1. With cookies the client's `visitorId`/`sessionId` are used; a session idle for more
   than 30 minutes is replaced by a new one even if the client still sends its id.
2. Cookieless (or when the client sent no ids): the visitor is a keyed hash of the site,
   IP and user agent under a secret salt that rotates daily. Yesterday's salt is still
   tried, so a visit in progress at midnight keeps its visitor.
3. Every event of a visit carries the visit's attributes (entry page, source, channel,
   UTM, location, device) as they were at its first event, so `visit:*` dimensions are
   plain columns for the stats engine. The event keeps a reference to its `Visit`
   rather than copies: the row builder reads them from there.

Ids are lower-case UUID strings throughout.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from operator import attrgetter

import orjson

from postmetric.ingest.event import Event

SESSION_TIMEOUT_SECONDS = 30 * 60

# The attributes of a visit, taken from its first event (click_ids as JSON text).
VISIT_FIELDS = (
    "entry_page",
    "referrer",
    "referrer_host",
    "source",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "ref",
    "click_ids",
    "country",
    "region",
    "city",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "device",
)
_CLICK_IDS = VISIT_FIELDS.index("click_ids")
_visit_attributes = attrgetter(*VISIT_FIELDS)

SaltSource = Callable[[date], tuple[bytes, bytes | None]]


@dataclass(slots=True)
class Visit:
    visitor_id: str
    session_id: str
    started_at: float
    last_seen: float
    attributes: tuple
    encoded_attributes: str | None = None  # the visit's columns as CSV, cached by the row encoder

    def attribute(self, name: str):
        return self.attributes[VISIT_FIELDS.index(name)]


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A visit found in the event store, used to warm the cache after a restart."""

    site_id: int
    visitor_id: str
    session_id: str
    started_at: float
    last_seen: float
    attributes: tuple


class SessionTracker:
    """Assigns visitor and session ids. Used from one thread (the event loop)."""

    def __init__(self, *, salts: SaltSource, clock: Callable[[], float], max_visits: int = 200_000) -> None:
        self._salts = salts
        self._clock = clock
        self._max_visits = max_visits
        # Key: (site_id, "s", client session id) or (site_id, "v", visitor id); oldest first.
        self._visits: OrderedDict[tuple, Visit] = OrderedDict()
        self._salt_day: date | None = None
        self._salt_pair: tuple[bytes, bytes | None] = (b"", None)

    def __len__(self) -> int:
        return len(self._visits)

    def assign(self, event: Event) -> None:
        now = event.timestamp
        if event.client_visitor_id is not None:
            visitor_id = event.client_visitor_id
            key = (
                (event.site_id, "s", event.client_session_id)
                if event.client_session_id is not None
                else (event.site_id, "v", visitor_id)
            )
        else:
            visitor_id, key = self._derived_visitor(event)

        visit = self._visits.get(key)
        if visit is not None and abs(now - visit.last_seen) <= SESSION_TIMEOUT_SECONDS:
            if now > visit.last_seen:
                visit.last_seen = now
            self._visits.move_to_end(key)
        else:
            # A client's own session id is kept for its first visit; an expired one is replaced.
            if visit is None and key[1] == "s":
                session_id = event.client_session_id
            else:
                session_id = str(uuid.uuid4())
            if not event.entry_page:
                event.entry_page = event.pathname
            attributes = list(_visit_attributes(event))
            attributes[_CLICK_IDS] = orjson.dumps(event.click_ids).decode() if event.click_ids else "{}"
            visit = Visit(visitor_id, session_id, now, now, tuple(attributes))
            self._visits[key] = visit
            if len(self._visits) > self._max_visits:
                self.expire(self._clock())
        event.visit = visit

    def expire(self, now: float) -> None:
        """Forget visits idle past the timeout; past `max_visits`, forget the least recent."""
        visits = self._visits
        while visits:
            key, visit = next(iter(visits.items()))
            if now - visit.last_seen <= SESSION_TIMEOUT_SECONDS and len(visits) <= self._max_visits:
                break
            del visits[key]

    def warm(self, sessions: Iterable[ActiveSession]) -> None:
        """Reload visits still active when the process last stopped."""
        for s in sorted(sessions, key=lambda s: s.last_seen):
            visit = Visit(s.visitor_id, s.session_id, s.started_at, s.last_seen, s.attributes)
            self._visits[(s.site_id, "s", s.session_id)] = visit
            self._visits[(s.site_id, "v", s.visitor_id)] = visit

    def _derived_visitor(self, event: Event) -> tuple[str, tuple]:
        # Salts follow the processing day, not the event's: a backfill of last year's
        # events must not mint (and keep) salts for days long gone.
        today, yesterday = self._salts_for(self._clock())
        material = f"{event.site_id}\x00{event.ip}\x00{event.user_agent}".encode()
        if yesterday is not None:
            previous = _keyed_uuid(yesterday, material)
            key = (event.site_id, "v", previous)
            visit = self._visits.get(key)
            if visit is not None and event.timestamp - visit.last_seen <= SESSION_TIMEOUT_SECONDS:
                return previous, key
        visitor_id = _keyed_uuid(today, material)
        return visitor_id, (event.site_id, "v", visitor_id)

    def _salts_for(self, timestamp: float) -> tuple[bytes, bytes | None]:
        day = datetime.fromtimestamp(timestamp, timezone.utc).date()
        if day != self._salt_day:
            self._salt_pair = self._salts(day)
            self._salt_day = day
        return self._salt_pair


def _keyed_uuid(salt: bytes, material: bytes) -> str:
    return str(uuid.UUID(bytes=hashlib.blake2b(material, key=salt, digest_size=16).digest()))
