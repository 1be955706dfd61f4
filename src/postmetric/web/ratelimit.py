"""Per-key request limits (per client IP for ingestion): a fixed window counted in process.

The rate is written in the `limits` library's syntax ("6000/minute"). Its in-memory
storage is not used: it scans every key from a timer thread a hundred times a second,
which at ten thousand client addresses cost ingestion a third of its throughput. Here a
window's counts are dropped all at once when the next window starts.
"""

from __future__ import annotations

from collections.abc import Callable

from limits import parse


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
