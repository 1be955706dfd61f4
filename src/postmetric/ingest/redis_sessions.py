"""Visitor and visit assignment with the visits kept in Redis, shared by every app node.

The rules are `sessions.py`'s (its module docstring), and so is the interface of
`SessionTracker`: behind a load balancer, a visitor's events reach any node, and every node
must find the same visit. Each event costs one round trip: a Lua script finds the event's
visit, joins or replaces it and touches it, atomically, so two nodes receiving the first
events of a new visitor at once still make one visit.

Secondary responsibilities:
1. Keys expire by TTL, a few minutes past the visit timeout and refreshed on each touch:
   nothing has to be swept (`expire` is a no-op), and no key is left without an expiry.
2. `warm` loads visits from the event store only where Redis lacks them (a first start with
   Redis, or Redis restarted without persistence), never over a live node's newer state.

Keys, under `key_prefix`:
    visit:{site}:s:{session id}   a visit begun with the client's session id   (hash)
    visit:{site}:v:{visitor id}   a visit begun by a visitor id alone           (hash)
    latest:{site}:{visitor id}    the key of the visitor's latest visit         (string)
A visit hash holds v (visitor id), s (session id), t0 (start), t (last seen), a (attributes
as a JSON array), h and p (the hostname and path of its latest pageview). Timestamps are
stored as Python writes floats, so they come back exact.

The script reads the visit a `latest` key names, a key it could not declare up front: that
is fine on one Redis server (or a primary with replicas), not on Redis Cluster.
"""

from __future__ import annotations

import asyncio

import uuid
from collections.abc import Callable, Iterable

import orjson
import redis

from postmetric.ingest.event import Event, EventType, Visit
from postmetric.ingest.sessions import (
    SESSION_TIMEOUT_SECONDS,
    SaltCache,
    SaltSource,
    SessionCacheUnavailable,
    cookieless_visitor_ids,
    new_visit_attributes,
    put_visit_page,
)
from postmetric.store.columns import ActiveSession

# Long enough that a key outlives the timeout counted in event time, as nodes' clocks and
# queues differ a little; the script, not the TTL, decides whether a visit is still active.
KEY_TTL_SECONDS = SESSION_TIMEOUT_SECONDS + 5 * 60
_PAGEVIEW = EventType.PAGEVIEW
_WARM_BATCH = 1_000

# KEYS: the event's visit key (by session id, or by visitor id), the visitor's `latest` key,
#       and, for a cookieless event while yesterday's salt exists, the same two for the
#       visitor id under yesterday's salt.
# ARGV: now, timeout, ttl, mode ("s": the client sent a session id; "v": a visitor id alone),
#       visitor id, yesterday's visitor id or "", client session id or "", a fresh session id,
#       attributes (JSON) should the event begin a visit, hostname, path, "1" for a pageview.
# Returns the visit: visitor id, session id, started at, last seen, attributes, page hostname,
#       page path, and "1" if this event began it, else "0".
_ASSIGN = """
local now, timeout, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local visit_key, latest_key, visitor = KEYS[1], KEYS[2], ARGV[5]

local function last_seen(key)
  local t = redis.call('HGET', key, 't')
  if t then return tonumber(t) end
  return nil
end

local function latest_seen(index_key)
  local key = redis.call('GET', index_key)
  if key then return key, last_seen(key) end
  return nil, nil
end

-- Yesterday's visitor id is the visitor's while a visit begun under it is active.
if KEYS[3] then
  local _, t = latest_seen(KEYS[4])
  if t and now - t <= timeout then
    visit_key, latest_key, visitor = KEYS[3], KEYS[4], ARGV[6]
  end
end

local key, t = visit_key, nil
if ARGV[4] == 's' then
  t = last_seen(key)
else
  -- A visitor id alone joins the visitor's latest visit, however it began; failing that
  -- (a backfill, say), a visit begun by this visitor id alone.
  local latest
  latest, t = latest_seen(latest_key)
  if t and math.abs(now - t) <= timeout then
    key = latest
  else
    t = last_seen(visit_key)
  end
end

if t and math.abs(now - t) <= timeout then
  if now > t then redis.call('HSET', key, 't', ARGV[1]) end
  if ARGV[12] == '1' then redis.call('HSET', key, 'h', ARGV[10], 'p', ARGV[11]) end
  redis.call('EXPIRE', key, ttl)
  redis.call('EXPIRE', latest_key, ttl)
  local visit = redis.call('HMGET', key, 'v', 's', 't0', 't', 'a', 'h', 'p')
  visit[8] = '0'
  return visit
end

-- A new visit. A client's own session id is kept for its first visit; an expired one is replaced.
local session_id = ARGV[8]
if ARGV[4] == 's' and not t then session_id = ARGV[7] end
redis.call('HSET', key, 'v', visitor, 's', session_id, 't0', ARGV[1], 't', ARGV[1], 'a', ARGV[9],
           'h', ARGV[10], 'p', ARGV[11])
redis.call('EXPIRE', key, ttl)
local _, latest_t = latest_seen(latest_key)
if not latest_t or now >= latest_t then  -- a backfilled visit is not the visitor's latest
  redis.call('SET', latest_key, key, 'EX', ttl)
end
return {visitor, session_id, ARGV[1], ARGV[1], ARGV[9], ARGV[10], ARGV[11], '1'}
"""

# KEYS: the visit's key (by session id), the visitor's `latest` key.
# ARGV: visitor id, session id, started at, last seen, attributes (JSON), ttl.
_WARM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 's', ARGV[2], 't0', ARGV[3], 't', ARGV[4], 'a', ARGV[5], 'h', '', 'p', '')
redis.call('EXPIRE', KEYS[1], ARGV[6])
local latest = redis.call('GET', KEYS[2])
local t = latest and redis.call('HGET', latest, 't')
if not t or tonumber(ARGV[4]) >= tonumber(t) then
  redis.call('SET', KEYS[2], KEYS[1], 'EX', ARGV[6])
end
return 1
"""


class RedisSessionTracker:
    """Assigns visitor and session ids from the visits in Redis. Called on the event loop with a
    synchronous client: one round trip per event."""

    def __init__(
        self, client: redis.Redis, *, salts: SaltSource, clock: Callable[[], float], key_prefix: str = "postmetric:"
    ) -> None:
        self._client = client
        self._clock = clock
        self._salts_for = SaltCache(salts)
        self._visit_prefix = f"{key_prefix}visit:"
        self._latest_prefix = f"{key_prefix}latest:"
        self._assign = client.register_script(_ASSIGN)
        self._warm = client.register_script(_WARM)

    def assign(self, event: Event) -> None:
        site_id = event.site_id
        session_id = event.client_session_id
        previous = None
        if event.client_visitor_id is not None:
            visitor_id = event.client_visitor_id
        else:
            visitor_id, previous = cookieless_visitor_ids(event, self._salts_for(self._clock()))
            session_id = None
        visits, latest = self._visit_prefix, self._latest_prefix
        if session_id is not None:
            keys = [f"{visits}{site_id}:s:{session_id}", f"{latest}{site_id}:{visitor_id}"]
        else:
            keys = [f"{visits}{site_id}:v:{visitor_id}", f"{latest}{site_id}:{visitor_id}"]
            if previous is not None:
                keys += (f"{visits}{site_id}:v:{previous}", f"{latest}{site_id}:{previous}")
        is_pageview = event.type is _PAGEVIEW
        try:
            reply = self._assign(keys=keys, args=(
                event.timestamp, SESSION_TIMEOUT_SECONDS, KEY_TTL_SECONDS, "v" if session_id is None else "s",
                visitor_id, previous or "", session_id or "", str(uuid.uuid4()),
                orjson.dumps(new_visit_attributes(event)), event.hostname, event.pathname, "1" if is_pageview else "0",
            ))
        except redis.RedisError as error:
            raise SessionCacheUnavailable(str(error)) from error
        visitor, session, started_at, last_seen, attributes, page_hostname, page_path, began = (
            value.decode() if isinstance(value, bytes) else value for value in reply
        )
        visit = Visit(visitor, session, float(started_at), float(last_seen), tuple(orjson.loads(attributes)), None,
                      page_hostname, page_path)
        if began == "1":
            if not event.entry_page:
                event.entry_page = event.pathname
        elif not is_pageview and not event.href:
            put_visit_page(event, visit)
        event.visit = visit

    def expire(self, now: float) -> None:
        """Nothing to do: Redis drops a visit's keys when their TTL runs out."""

    async def forget_site(self, site_id: int) -> None:
        """Drop every visit of a deleted site: its keys, found by SCAN (which does not block Redis), in a
        thread, as the scan walks the whole keyspace."""
        await asyncio.to_thread(self._forget_site, site_id)

    def _forget_site(self, site_id: int) -> None:
        for prefix in (self._visit_prefix, self._latest_prefix):
            batch = []
            for key in self._client.scan_iter(match=f"{_glob_escaped(prefix)}{site_id}:*", count=1_000):
                batch.append(key)
                if len(batch) == 1_000:
                    self._client.unlink(*batch)
                    batch.clear()
            if batch:
                self._client.unlink(*batch)

    def warm(self, sessions: Iterable[ActiveSession]) -> None:
        """Load visits still active in the event store that Redis does not hold.

        Usually Redis already has them, and newer: it outlives an app node's restart. It does
        not when the app first runs with Redis, or when Redis restarted without persistence.
        A visit Redis holds is left as it is.
        """
        pipe = self._client.pipeline(transaction=False)
        for count, s in enumerate(sessions, 1):
            self._warm(
                keys=[f"{self._visit_prefix}{s.site_id}:s:{s.session_id}", f"{self._latest_prefix}{s.site_id}:{s.visitor_id}"],
                args=[s.visitor_id, s.session_id, s.started_at, s.last_seen, orjson.dumps(s.attributes), KEY_TTL_SECONDS],
                client=pipe,
            )
            if count % _WARM_BATCH == 0:
                pipe.execute()
        pipe.execute()

    def forget_visitors(self, site_id: int, visitor_ids: Iterable[str], session_ids: Iterable[str]) -> None:
        """Erasure: delete the visitors' visit keys (by visitor id, by each of their visits' session
        ids, and whatever their `latest` keys name) and the `latest` keys themselves."""
        visitor_ids = list(visitor_ids)
        latest = [f"{self._latest_prefix}{site_id}:{visitor}" for visitor in visitor_ids]
        keys = [*latest, *(f"{self._visit_prefix}{site_id}:v:{visitor}" for visitor in visitor_ids),
                *(f"{self._visit_prefix}{site_id}:s:{session}" for session in session_ids)]
        try:
            named = [key for key in self._client.mget(latest) if key is not None] if latest else []
            if keys or named:
                self._client.delete(*keys, *named)
        except redis.RedisError as error:
            raise SessionCacheUnavailable(str(error)) from error


def _glob_escaped(text: str) -> str:
    """`text` matched literally by a Redis glob pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)
