"""SiteDirectory: answers "which site is pm_…?" for the ingestion hot path from memory.

Secondary responsibilities:
1. Cache misses too, so a flood of events for an unknown site costs one query per TTL.
2. Bound the cache (least recently used entries go first), so random ids cannot grow it forever.
3. Reject malformed ids without asking the database at all.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from postmetric.sites.service import PUBLIC_ID
from postmetric.sites.settings import SiteSettings
from postmetric.store.metadata import Site


class SiteDirectory:
    """Site settings by public id, at most `ttl_seconds` old; safe to share between threads.

    `clock` returns seconds on a monotonic scale (default `time.monotonic`). Changes made on this
    node can be seen at once by calling `invalidate`; changes made elsewhere show within the TTL.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Callable[[], float] = time.monotonic,
        ttl_seconds: float = 5,
        max_entries: int = 10_000,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._ttl = ttl_seconds
        self._max_entries = max_entries
        self._lock = threading.Lock()
        # public id -> (loaded at, settings or None for "no such site"), least recently used first
        self._entries: OrderedDict[str, tuple[float, SiteSettings | None]] = OrderedDict()
        # Bumped by `invalidate`, so a load that started before it cannot put stale settings back.
        self._generation = 0

    def get(self, public_id: str) -> SiteSettings | None:
        if not PUBLIC_ID.fullmatch(public_id):
            return None
        now = self._clock()
        with self._lock:
            entry = self._entries.get(public_id)
            if entry is not None and now - entry[0] < self._ttl:
                self._entries.move_to_end(public_id)
                return entry[1]
            generation = self._generation
        # Query outside the lock so one slow query does not stall every other site's events.
        settings = self._load(public_id)
        with self._lock:
            if generation != self._generation:
                return settings
            self._entries[public_id] = (now, settings)
            self._entries.move_to_end(public_id)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return settings

    def invalidate(self, public_id: str | None = None) -> None:
        """Forget one site (after changing or deleting it), or every site when `public_id` is None."""
        with self._lock:
            self._generation += 1
            if public_id is None:
                self._entries.clear()
            else:
                self._entries.pop(public_id, None)

    def _load(self, public_id: str) -> SiteSettings | None:
        with self._sessions() as session:
            site = session.scalar(select(Site).where(Site.public_id == public_id))
            return None if site is None else SiteSettings.from_model(site)
