"""What only the Redis session cache does: several app nodes agree on visitors and visits.

Each "node" is a `RedisSessionTracker` of its own (and, for the concurrent test, a client of
its own) on the test Redis server; nodes share the salt source, as they share the metadata
database. The rules themselves are tested on both trackers in `test_sessions.py`.
"""

import threading
import uuid

import redis

from postmetric.ingest.redis_sessions import KEY_TTL_SECONDS, RedisSessionTracker
from postmetric.ingest.sessions import SESSION_TIMEOUT_SECONDS
from postmetric.store.columns import ActiveSession

from factories import Clock
from test_sessions import MIDNIGHT, DailySalts, event, same_visit, server_event

NOON = MIDNIGHT + 12 * 3600


def nodes(namespace, clock, count=2, salts=None) -> list[RedisSessionTracker]:
    client, prefix = namespace
    salts = salts or DailySalts()
    return [RedisSessionTracker(client, salts=salts, clock=clock, key_prefix=prefix) for _ in range(count)]


def test_events_interleaved_between_two_nodes_form_one_visitor_and_one_visit(redis_namespace):
    clock = Clock(NOON)
    a, b = nodes(redis_namespace, clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    cookie = [event(NOON + i * 60, visitor=vid, session=sid, path=f"/p{i}") for i in range(6)]
    cookieless = [event(NOON + i * 60, ip="9.9.9.9", path=f"/c{i}", source="Google" if i == 0 else "")
                  for i in range(6)]
    for i, (with_cookie, without) in enumerate(zip(cookie, cookieless)):
        node = (a, b)[i % 2]
        node.assign(with_cookie)
        (b, a)[i % 2].assign(without)
    assert all(same_visit(e, cookie[0]) for e in cookie) and cookie[0].visit.session_id == sid
    assert all(same_visit(e, cookieless[0]) for e in cookieless)
    assert cookieless[-1].visit.attribute("entry_page") == "/c0" and cookieless[-1].visit.attribute("source") == "Google"
    assert cookieless[-1].visit.last_seen == NOON + 300
    goal = server_event(NOON + 330, visitor=vid)
    a.assign(goal)  # the page of the visit's latest pageview, recorded by the other node
    assert same_visit(goal, cookie[0]) and goal.pathname == "/p5"


def test_two_nodes_given_a_new_visitors_first_events_at_once_make_one_visit(redis_namespace):
    client, prefix = redis_namespace
    clock = Clock(NOON)
    salts = DailySalts()
    visitors = [(str(uuid.uuid4()), str(uuid.uuid4())) for _ in range(200)]
    results: dict[int, list] = {0: [], 1: []}
    start = threading.Barrier(2)

    def node(index: int) -> None:
        own_client = redis.Redis(connection_pool=redis.ConnectionPool(**client.connection_pool.connection_kwargs))
        tracker = RedisSessionTracker(own_client, salts=salts, clock=clock, key_prefix=prefix)
        start.wait()
        for i, (vid, sid) in enumerate(visitors):
            with_ids = event(NOON + index, visitor=vid, session=sid)
            cookieless = event(NOON + index, ip=f"10.0.{i // 250}.{i % 250}")
            alone = server_event(NOON + index, visitor=sid)  # a visitor id alone, never seen before
            for e in (with_ids, cookieless, alone):
                tracker.assign(e)
            results[index].append((with_ids, cookieless, alone))
        own_client.close()

    threads = [threading.Thread(target=node, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for first, second in zip(results[0], results[1]):
        assert all(same_visit(x, y) for x, y in zip(first, second))


def test_a_visit_idle_past_30_minutes_starts_a_new_visit_on_the_other_node(redis_namespace):
    clock = Clock(NOON)
    a, b = nodes(redis_namespace, clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    a.assign(first := event(NOON, visitor=vid, session=sid))
    a.assign(cookieless := event(NOON, ip="8.8.8.8"))
    clock.now = later = NOON + SESSION_TIMEOUT_SECONDS + 1
    b.assign(after := event(later, visitor=vid, session=sid, path="/back"))
    b.assign(cookieless_after := event(later, ip="8.8.8.8"))
    assert after.visit.session_id != sid and after.visit.visitor_id == vid
    assert after.visit.attribute("entry_page") == "/back" and after.visit.started_at == later
    assert not same_visit(cookieless_after, cookieless)
    assert cookieless_after.visit.visitor_id == cookieless.visit.visitor_id  # the same day's salt
    a.assign(next_one := event(later + 5, visitor=vid, session=sid))
    assert same_visit(next_one, after)


def test_a_cookieless_visit_crosses_midnight_between_nodes(redis_namespace):
    clock = Clock(MIDNIGHT - 60)
    a, b = nodes(redis_namespace, clock)
    a.assign(before := event(clock.now))
    clock.now = MIDNIGHT + 60
    b.assign(after := event(clock.now))
    assert same_visit(after, before)
    clock.now = MIDNIGHT + 4 * 3600
    a.assign(later := event(clock.now))
    assert later.visit.visitor_id != before.visit.visitor_id


def test_warm_loads_only_the_visits_redis_lacks(redis_namespace):
    clock = Clock(NOON + 100)
    a, b = nodes(redis_namespace, clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    a.assign(live := event(NOON + 90, visitor=vid, session=sid, path="/live"))
    attributes = ("/landing",) + ("",) * 10 + ("{}",) + ("",) * 8
    other_vid, other_sid = str(uuid.uuid4()), str(uuid.uuid4())
    b.warm([ActiveSession(1, vid, sid, NOON, NOON + 50, attributes),  # Redis has it, newer: kept
            ActiveSession(1, other_vid, other_sid, NOON, NOON + 50, attributes)])
    b.assign(goal := server_event(clock.now, visitor=vid))
    assert same_visit(goal, live) and goal.pathname == "/live"
    a.assign(other := server_event(clock.now, visitor=other_vid))
    assert (other.visit.session_id, other.visit.started_at, other.visit.attributes) == (other_sid, NOON, attributes)
    assert other.pathname == "/landing"


def test_every_key_expires_a_little_after_the_visit_timeout(redis_namespace):
    client, prefix = redis_namespace
    clock = Clock(NOON)
    a, b = nodes(redis_namespace, clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    a.assign(event(NOON, visitor=vid, session=sid))
    b.assign(event(NOON, ip="7.7.7.7"))
    b.assign(server_event(NOON, visitor=uuid.uuid4()))
    a.assign(server_event(NOON - 86_400, visitor=vid))  # a backfill: its own visit, not the latest
    b.warm([ActiveSession(1, str(uuid.uuid4()), str(uuid.uuid4()), NOON, NOON, ("/",) + ("",) * 19)])
    keys = list(client.scan_iter(match=f"{prefix}*"))
    assert len(keys) == 9  # 5 visits, 4 visitors' latest
    ttls = [client.ttl(key) for key in keys]
    assert all(SESSION_TIMEOUT_SECONDS < ttl <= KEY_TTL_SECONDS for ttl in ttls), ttls
