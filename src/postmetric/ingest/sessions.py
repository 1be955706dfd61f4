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
4. An event naming a visitor but no session (a cookieless hit, a server-side goal or
   identify call) joins the visitor's latest visit if it is still active, however that
   visit began: a backend's `POST /api/v1/goals` lands in the browser's visit, with its
   session id and source. An event without a page of its own (`href` empty: the
   server-side calls) is recorded on the visit's current page, the page of its latest
   pageview (its entry page for a visit reloaded by `warm`).

Ids are lower-case UUID strings throughout. `SessionTracker` keeps visits in process;
`redis_sessions.RedisSessionTracker` keeps them in Redis, shared by several app nodes, under
the same rules: the helpers below (`SaltCache`, `cookieless_visitor_ids`, `new_visit_attributes`,
`put_visit_page`) are what both use.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from operator import attrgetter
from typing import Protocol

import orjson

from postmetric.ingest.event import Event, EventType, Visit
from postmetric.store.columns import VISIT_FIELDS, ActiveSession

SESSION_TIMEOUT_SECONDS = 30 * 60

_CLICK_IDS = VISIT_FIELDS.index("click_ids")
_ENTRY_PAGE = VISIT_FIELDS.index("entry_page")
_PAGEVIEW = EventType.PAGEVIEW  # a global: the enum's class attribute costs more on the hot path
_visit_attributes = attrgetter(*VISIT_FIELDS)

SaltSource = Callable[[date], tuple[bytes, bytes | None]]


class SessionCacheUnavailable(Exception):
    """The shared visit cache (Redis) did not answer: the event cannot be given its visit."""


class VisitTracker(Protocol):
    """What ingestion and the app use of a tracker: `SessionTracker` or `redis_sessions.RedisSessionTracker`."""

    def assign(self, event: Event) -> None: ...

    def expire(self, now: float) -> None: ...

    def warm(self, sessions: Iterable[ActiveSession]) -> None: ...

    def forget_visitors(self, site_id: int, visitor_ids: Iterable[str], session_ids: Iterable[str]) -> None:
        """Erasure: drop the visitors' cached visits, so a later event begins a new one."""
        ...

    async def forget_site(self, site_id: int) -> None:
        """Drop every visit of a deleted site (called on the event loop)."""
        ...


class SessionTracker:
    """Assigns visitor and session ids. Used from one thread (the event loop)."""

    def __init__(self, *, salts: SaltSource, clock: Callable[[], float], max_visits: int = 200_000) -> None:
        self._salts = salts
        self._clock = clock
        self._max_visits = max_visits
        # Key: (site_id, "s", client session id) or (site_id, "v", visitor id); oldest first.
        self._visits: OrderedDict[tuple, Visit] = OrderedDict()
        # (site_id, visitor id) -> the key in `_visits` of the visitor's latest visit, so an event
        # with a visitor id alone finds a visit keyed by its session id.
        self._latest: dict[tuple[int, str], tuple] = {}
        self._salts_for = SaltCache(salts)

    def __len__(self) -> int:
        return len(self._visits)

    def assign(self, event: Event) -> None:
        now = event.timestamp
        site_id = event.site_id
        session_id = event.client_session_id
        if event.client_visitor_id is not None:
            visitor_id = event.client_visitor_id
        else:
            visitor_id, session_id = self._derived_visitor(event), None
        if session_id is not None:
            key = (site_id, "s", session_id)
            visit = self._visits.get(key)
        else:
            key = self._latest.get((site_id, visitor_id))
            visit = self._visits.get(key) if key is not None else None
            if visit is None or abs(now - visit.last_seen) > SESSION_TIMEOUT_SECONDS:
                # The latest visit was not active at this event's time (a backfill, say); a visit
                # begun by this visitor id alone may have been.
                key = (site_id, "v", visitor_id)
                visit = self._visits.get(key)

        if visit is not None and abs(now - visit.last_seen) <= SESSION_TIMEOUT_SECONDS:
            if now > visit.last_seen:
                visit.last_seen = now
            self._visits.move_to_end(key)
            if event.type is _PAGEVIEW:
                visit.page_hostname, visit.page_path = event.hostname, event.pathname
            elif not event.href:
                put_visit_page(event, visit)
        else:
            # A client's own session id is kept for its first visit; an expired one is replaced.
            if session_id is not None:
                new_session_id = session_id if visit is None else str(uuid.uuid4())
            else:
                new_session_id, key = str(uuid.uuid4()), (site_id, "v", visitor_id)
            if not event.entry_page:
                event.entry_page = event.pathname
            if visit is not None:  # an expired visit's key, still in its old place
                self._visits.move_to_end(key)
            visit = Visit(visitor_id, new_session_id, now, now, new_visit_attributes(event), None, event.hostname,
                          event.pathname)
            self._visits[key] = visit
            visitor = (site_id, visitor_id)
            latest_key = self._latest.get(visitor)
            latest = self._visits.get(latest_key) if latest_key is not None else None
            if latest is None or now >= latest.last_seen:  # a backfilled visit is not the visitor's latest
                self._latest[visitor] = key
            if len(self._visits) > self._max_visits:
                self.expire(self._clock())
        event.visit = visit

    def expire(self, now: float) -> None:
        """Forget visits idle past the timeout; past `max_visits`, forget the least recent."""
        visits, latest = self._visits, self._latest
        while visits:
            key, visit = next(iter(visits.items()))
            if now - visit.last_seen <= SESSION_TIMEOUT_SECONDS and len(visits) <= self._max_visits:
                break
            del visits[key]
            visitor = (key[0], visit.visitor_id)
            if latest.get(visitor) == key:
                del latest[visitor]

    def warm(self, sessions: Iterable[ActiveSession]) -> None:
        """Reload visits still active when the process last stopped."""
        for s in sorted(sessions, key=lambda s: s.last_seen):
            visit = Visit(s.visitor_id, s.session_id, s.started_at, s.last_seen, s.attributes)
            # Cookieless visits were keyed by visitor: `_latest` finds those, and every other.
            key = (s.site_id, "s", s.session_id)
            self._visits[key] = visit
            self._latest[(s.site_id, s.visitor_id)] = key

    def forget_visitors(self, site_id: int, visitor_ids: Iterable[str], session_ids: Iterable[str]) -> None:
        """Erasure: drop the visitors' cached visits (one pass over the cache; erasures are rare)."""
        visitors = set(visitor_ids)
        for key in [key for key, visit in self._visits.items() if key[0] == site_id and visit.visitor_id in visitors]:
            del self._visits[key]
        for visitor in visitors:
            self._latest.pop((site_id, visitor), None)

    async def forget_site(self, site_id: int) -> None:
        """Drop every visit of a deleted site: one pass over the cache (bounded by `max_visits`), on the loop
        like every other use of it."""
        for key in [key for key in self._visits if key[0] == site_id]:
            del self._visits[key]
        for key in [key for key in self._latest if key[0] == site_id]:
            del self._latest[key]

    def _derived_visitor(self, event: Event) -> str:
        today, previous = cookieless_visitor_ids(event, self._salts_for(self._clock()))
        if previous is not None:
            key = self._latest.get((event.site_id, previous))
            visit = self._visits.get(key) if key is not None else None
            if visit is not None and event.timestamp - visit.last_seen <= SESSION_TIMEOUT_SECONDS:
                return previous
        return today


class SaltCache:
    """Today's and yesterday's cookieless salt, asked of the `SaltSource` once a day.

    Salts follow the processing day, not the event's: a backfill of last year's events must
    not mint (and keep) salts for days long gone. Call it with the clock's time.
    """

    __slots__ = ("_salts", "_day", "_pair")

    def __init__(self, salts: SaltSource) -> None:
        self._salts = salts
        self._day: date | None = None
        self._pair: tuple[bytes, bytes | None] = (b"", None)

    def __call__(self, timestamp: float) -> tuple[bytes, bytes | None]:
        day = datetime.fromtimestamp(timestamp, timezone.utc).date()
        if day != self._day:
            self._pair = self._salts(day)
            self._day = day
        return self._pair


def cookieless_visitor_ids(event: Event, salts: tuple[bytes, bytes | None]) -> tuple[str, str | None]:
    """The visitor id of a cookieless event under today's salt, and under yesterday's if there is one.

    Yesterday's id is the visitor's while a visit begun under it is still active (rule 2);
    the caller decides, as only it knows its visits.
    """
    today, yesterday = salts
    material = f"{event.site_id}\x00{event.ip}\x00{event.user_agent}".encode()
    return _keyed_uuid(today, material), _keyed_uuid(yesterday, material) if yesterday is not None else None


def new_visit_attributes(event: Event) -> tuple:
    """The attributes (`VISIT_FIELDS`) of a visit that `event` begins; its entry page is the event's page
    unless the client named one."""
    attributes = list(_visit_attributes(event))
    if not attributes[_ENTRY_PAGE]:
        attributes[_ENTRY_PAGE] = event.pathname
    attributes[_CLICK_IDS] = orjson.dumps(event.click_ids).decode() if event.click_ids else "{}"
    return tuple(attributes)


def put_visit_page(event: Event, visit: Visit) -> None:
    """Record an event without a page of its own (rule 4) on its visit's current page."""
    if visit.page_path:
        event.hostname, event.pathname = visit.page_hostname, visit.page_path
    else:  # the visit was reloaded: its entry page is the best guess (on the site's domain)
        event.pathname = visit.attributes[_ENTRY_PAGE]


def _keyed_uuid(salt: bytes, material: bytes) -> str:
    return str(uuid.UUID(bytes=hashlib.blake2b(material, key=salt, digest_size=16).digest()))
