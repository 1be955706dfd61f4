"""What only the Redis rate limiter does: app nodes share one budget per key.

Each "node" is a `RedisRateLimiter` of its own on the test Redis server. The window rules
themselves are tested on both limiters in `test_ratelimit.py`.
"""

from postmetric.web.ratelimit import RedisRateLimiter

from factories import Clock


def nodes(namespace, rate, clock, *, name="ingest", count=2) -> list[RedisRateLimiter]:
    client, prefix = namespace
    return [RedisRateLimiter(client, rate, clock=clock, name=name, key_secret=b"test", key_prefix=prefix)
            for _ in range(count)]


def test_the_limit_holds_across_nodes(redis_namespace):
    clock = Clock(120.0)
    a, b = nodes(redis_namespace, "4/minute", clock)
    assert [a.hit("1.2.3.4"), b.hit("1.2.3.4"), a.hit("1.2.3.4"), b.hit("1.2.3.4")] == [True] * 4
    assert not a.hit("1.2.3.4") and not b.hit("1.2.3.4")
    assert a.hit("5.6.7.8") and b.hit("5.6.7.8")


def test_a_new_window_resets_the_count_on_every_node(redis_namespace):
    clock = Clock(179.0)
    a, b = nodes(redis_namespace, "1/minute", clock)
    assert a.hit("key") and not b.hit("key")
    clock.advance(1)  # 180 s: the next minute
    assert b.hit("key") and not a.hit("key")


def test_check_tells_what_is_left_of_the_shared_window(redis_namespace):
    clock = Clock(120.5)
    a, b = nodes(redis_namespace, "3/minute", clock, name="api")
    assert a.check("token").headers() == {
        "X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "2", "X-RateLimit-Reset": "180"}
    assert b.check("token").remaining == 1
    clock.advance(20)
    assert a.check("token").remaining == 0
    over = b.check("token")
    assert (over.allowed, over.remaining, over.reset, over.retry_after) == (False, 0, 180, 40)
    assert over.headers()["Retry-After"] == "40"


def test_limiters_of_different_names_count_apart(redis_namespace):
    clock = Clock(120.0)
    (ingest,) = nodes(redis_namespace, "1/minute", clock, name="ingest", count=1)
    (login,) = nodes(redis_namespace, "1/minute", clock, name="login", count=1)
    assert ingest.hit("1.2.3.4") and login.hit("1.2.3.4")
    assert not ingest.hit("1.2.3.4") and not login.hit("1.2.3.4")


def test_a_windows_count_expires_after_the_window(redis_namespace):
    client, prefix = redis_namespace
    (limiter,) = nodes(redis_namespace, "5/minute", Clock(120.0), count=1)
    limiter.hit("key")
    (key,) = client.scan_iter(match=f"{prefix}*")
    assert 0 < client.ttl(key) <= 61
