"""Fixed-window limits per key, driven by the clock."""

from postmetric.web.ratelimit import RateLimiter

from factories import Clock


def test_each_key_gets_its_own_budget_per_window():
    clock = Clock(120.0)
    limiter = RateLimiter("3/minute", clock=clock)
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("b")
    clock.advance(59.9)
    assert not limiter.hit("a")
    clock.advance(0.1)  # 180 s: a new minute
    assert [limiter.hit("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.window_seconds == 60 and limiter.limit == 3


def test_per_second_and_per_hour_rates():
    clock = Clock(0.0)
    assert RateLimiter("10/second", clock=clock).window_seconds == 1
    assert RateLimiter("100/hour", clock=clock).window_seconds == 3600
