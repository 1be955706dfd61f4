"""Per-key request limits (per client IP for ingestion), backed by the `limits` library so
the counters can move to Redis when several app nodes share the load."""

from __future__ import annotations

from limits import parse, storage, strategies


class RateLimiter:
    def __init__(self, rate: str, storage_uri: str = "memory://") -> None:
        self._item = parse(rate)
        self._limiter = strategies.FixedWindowRateLimiter(storage.storage_from_string(storage_uri))

    @property
    def window_seconds(self) -> int:
        return self._item.get_expiry()

    def hit(self, key: str) -> bool:
        """Count one request for `key`; False when it is over the limit."""
        return self._limiter.hit(self._item, key)
