"""Fixed-window limits per key, driven by the clock.

Every test runs on both limiters: `RateLimiter` (in process) and `RedisRateLimiter` (on the
Redis server at 127.0.0.1:6379, under a key prefix private to the test). What only Redis
does is in `test_ratelimit_redis.py`.
"""

from collections.abc import Callable

import pytest

from postmetric.web.ratelimit import RateLimiter, RedisRateLimiter

from factories import Clock


Limiter = RateLimiter | RedisRateLimiter


@pytest.fixture(params=["memory", "redis"])
def make_limiter(request: pytest.FixtureRequest) -> Callable[..., Limiter]:
    """Builds the limiter under test: `make_limiter(rate, clock=...)`."""
    if request.param == "memory":
        return RateLimiter
    client, prefix = request.getfixturevalue("redis_namespace")
    return lambda rate, *, clock: RedisRateLimiter(client, rate, clock=clock, name="test", key_secret=b"test",
                                                   key_prefix=prefix)


def test_each_key_gets_its_own_budget_per_window(make_limiter):
    clock = Clock(120.0)
    limiter = make_limiter("3/minute", clock=clock)
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("b")
    clock.advance(59.9)
    assert not limiter.hit("a")
    clock.advance(0.1)  # 180 s: a new minute
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.window_seconds == 60 and limiter.limit == 3


def test_per_second_and_per_hour_rates(make_limiter):
    clock = Clock(0.0)
    assert make_limiter("10/second", clock=clock).window_seconds == 1
    assert make_limiter("100/hour", clock=clock).window_seconds == 3600


def test_check_counts_like_hit_and_tells_what_is_left_of_the_window(make_limiter):
    clock = Clock(120.5)
    limiter = make_limiter("2/minute", clock=clock)
    first = limiter.check("key")
    assert (first.allowed, first.limit, first.remaining, first.reset) == (True, 2, 1, 180)
    assert first.headers() == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "180"}
    assert limiter.hit("key")  # hit and check share one count
    clock.advance(10)
    over = limiter.check("key")
    assert (over.allowed, over.remaining, over.retry_after) == (False, 0, 50)
    assert over.headers()["Retry-After"] == "50"
    assert limiter.check("other").allowed
    clock.advance(49.5)  # 180 s: the next window
    assert limiter.check("key") == first.__class__(True, 2, 1, 240, 60)


def test_retry_after_is_never_zero(make_limiter):
    clock = Clock(179.9)
    limiter = make_limiter("1/minute", clock=clock)
    limiter.check("key")
    assert limiter.check("key").retry_after == 1
