"""Per-key request limits (per client IP for ingestion): a fixed window counted in process or in Redis.

The rate is written in the `limits` library's syntax ("6000/minute"). Its in-memory
storage is not used: it scans every key from a timer thread a hundred times a second,
which at ten thousand client addresses cost ingestion a third of its throughput. Here a
window's counts are dropped all at once when the next window starts.

Secondary responsibilities:
1. `check` also says how much of the window is left, for the `X-RateLimit-*` headers of
   the stats API (`RateLimitStatus.headers`).
2. `RedisRateLimiter` counts the same windows in Redis, so that app nodes behind a load
   balancer share one budget per key: one round trip (INCR, EXPIRE) per request. Windows
   follow the injected clock on both: nodes agree on them as far as their clocks agree.
   While Redis is unreachable, requests are let through (and a warning logged).
3. No raw client address reaches Redis (which may persist it to disk): `RedisRateLimiter` names
   each count by a keyed hash of its key (BLAKE2b under a secret derived from the instance's
   secret key, so every node computes the same name). The in-process counts keep keys as they
   are: they live in memory for one window and are never written anywhere.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

import redis
from limits import parse

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RateLimitStatus:
    """One counted request: whether it is allowed, and the state of its key's window."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # unix seconds at which the window ends and the count starts again
    retry_after: int  # whole seconds until then, at least 1

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


class _FixedWindowLimiter:
    """The window arithmetic and the status of a count; subclasses count (`_count`)."""

    def __init__(self, rate: str, *, clock: Callable[[], float]) -> None:
        item = parse(rate)
        self.limit = item.amount
        self.window_seconds = item.get_expiry()
        self._clock = clock

    def hit(self, key: str) -> bool:
        """Count one request for `key`; False when it is over the limit."""
        return self._count(key, int(self._clock() // self.window_seconds)) <= self.limit

    def check(self, key: str) -> RateLimitStatus:
        """`hit(key)`, and what is left of the window (a little slower: for API calls, not ingestion)."""
        now = self._clock()
        window = int(now // self.window_seconds)
        count = self._count(key, window)
        reset = (window + 1) * self.window_seconds
        return RateLimitStatus(
            allowed=count <= self.limit,
            limit=self.limit,
            remaining=max(self.limit - count, 0),
            reset=reset,
            retry_after=max(math.ceil(reset - now), 1),
        )

    def _count(self, key: str, window: int) -> int:
        """Count one request for `key` in `window` (the number of windows since the epoch); the count so far."""
        raise NotImplementedError


class RateLimiter(_FixedWindowLimiter):
    """Counts in process: one node's requests only."""

    def __init__(self, rate: str, *, clock: Callable[[], float]) -> None:
        super().__init__(rate, clock=clock)
        self._window = -1
        self._counts: dict[str, int] = {}

    def _count(self, key: str, window: int) -> int:
        if window != self._window:
            self._window = window
            self._counts = {}
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return count


# INCR, and EXPIRE on a window's first request, atomically: a script rather than a MULTI
# pipeline, as it costs redis-py two thirds of the time (67 against 104 µs a request locally).
_INCR_WITH_EXPIRY = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


class RedisRateLimiter(_FixedWindowLimiter):
    """Counts in Redis, shared by every node using the same `name` and `key_prefix`.

    A window's count lives at `{key_prefix}ratelimit:{name}:{window}:{hash of key}` and
    expires a little after the window ends (in Redis time: the key names the window, so a
    late expiry is only memory, never a wrong count). `key_secret` keys the hash: without it,
    the hash of an IPv4 address could be reversed by trying all four billion.
    """

    def __init__(
        self, client: redis.Redis, rate: str, *, clock: Callable[[], float], name: str, key_secret: bytes,
        key_prefix: str = "postmetric:",
    ) -> None:
        super().__init__(rate, clock=clock)
        self._prefix = f"{key_prefix}ratelimit:{name}:"
        self._incr = client.register_script(_INCR_WITH_EXPIRY)
        self._key_secret = key_secret

    def _count(self, key: str, window: int) -> int:
        hashed = hashlib.blake2b(key.encode(), key=self._key_secret, digest_size=16).hexdigest()
        try:
            return self._incr(keys=[f"{self._prefix}{window}:{hashed}"], args=[self.window_seconds + 1])
        except redis.RedisError as error:
            # A limit protects the service; an unreachable Redis must not take the service down with it.
            log.warning("rate limit %s not counted, Redis is unreachable: %s", self._prefix, error)
            return 0
