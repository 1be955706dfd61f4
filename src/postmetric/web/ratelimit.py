"""Per-key request limits (per client IP for ingestion): a fixed window counted in process.

The rate is written in the `limits` library's syntax ("6000/minute"). Its in-memory
storage is not used: it scans every key from a timer thread a hundred times a second,
which at ten thousand client addresses cost ingestion a third of its throughput. Here a
window's counts are dropped all at once when the next window starts.

Secondary responsibility: `check` also says how much of the window is left, for the
`X-RateLimit-*` headers of the stats API (`RateLimitStatus.headers`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from limits import parse


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


class RateLimiter:
    def __init__(self, rate: str, *, clock: Callable[[], float]) -> None:
        item = parse(rate)
        self.limit = item.amount
        self.window_seconds = item.get_expiry()
        self._clock = clock
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, key: str) -> bool:
        """Count one request for `key`; False when it is over the limit."""
        window = int(self._clock() // self.window_seconds)
        if window != self._window:
            self._window = window
            self._counts = {}
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        return count <= self.limit

    def check(self, key: str) -> RateLimitStatus:
        """`hit(key)`, and what is left of the window (a little slower: for API calls, not ingestion)."""
        allowed = self.hit(key)
        reset = (self._window + 1) * self.window_seconds
        return RateLimitStatus(
            allowed=allowed,
            limit=self.limit,
            remaining=max(self.limit - self._counts[key], 0),
            reset=reset,
            retry_after=max(math.ceil(reset - self._clock()), 1),
        )
