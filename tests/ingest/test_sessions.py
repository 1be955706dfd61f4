"""Visitor and session identity, with cookies and without.

The behavioural tests run on both trackers: `SessionTracker` (in process) and
`RedisSessionTracker` (on the Redis server at 127.0.0.1:6379, under a key prefix private to
the test). Visits from Redis are fresh objects per event, so "the same visit" compares ids.
Eviction (`max_visits`, `expire`) and `warm` of the in-process cache are tested on it alone;
`test_redis_sessions.py` has what only Redis does.
"""

import asyncio
import uuid
from collections.abc import Callable
from datetime import date

import pytest

from postmetric.ingest.event import Event, EventType
from postmetric.ingest.redis_sessions import RedisSessionTracker
from postmetric.ingest.sessions import SESSION_TIMEOUT_SECONDS, SessionTracker
from postmetric.store.columns import ActiveSession

from factories import Clock

DAY = 86_400
MIDNIGHT = 1_780_012_800.0  # 2026-05-29T00:00:00Z


class DailySalts:
    """The real salt rotation keeps today's and yesterday's salt; this mirrors it in memory."""

    def __init__(self) -> None:
        self.created: dict[date, bytes] = {}

    def __call__(self, day: date) -> tuple[bytes, bytes | None]:
        today = self.created.setdefault(day, uuid.uuid4().bytes * 2)
        yesterday = self.created.get(date.fromordinal(day.toordinal() - 1))
        return today, yesterday


def event(ts: float, *, visitor=None, session=None, ip="1.2.3.4", ua="UA", path="/", source="") -> Event:
    e = Event(site_public_id="pm_x", type=EventType.PAGEVIEW, name="pageview", href="https://e.com" + path,
              timestamp=ts, ip=ip, user_agent=ua, client_visitor_id=visitor and str(visitor),
              client_session_id=session and str(session))
    e.site_id, e.pathname, e.source = 1, path, source
    return e


Tracker = SessionTracker | RedisSessionTracker


@pytest.fixture(params=["memory", "redis"])
def tracker(request: pytest.FixtureRequest) -> Callable[[Clock], Tracker]:
    """Builds the tracker under test, on fresh salts."""
    if request.param == "memory":
        return lambda clock: SessionTracker(salts=DailySalts(), clock=clock)
    client, prefix = request.getfixturevalue("redis_namespace")
    return lambda clock: RedisSessionTracker(client, salts=DailySalts(), clock=clock, key_prefix=prefix)


def memory_tracker(clock: Clock) -> SessionTracker:
    return SessionTracker(salts=DailySalts(), clock=clock)


def same_visit(a: Event, b: Event) -> bool:
    return (a.visit.visitor_id, a.visit.session_id, a.visit.started_at) == (
        b.visit.visitor_id, b.visit.session_id, b.visit.started_at)


def test_cookie_ids_are_kept_and_the_visit_attributes_come_from_its_first_event(tracker):
    clock = Clock(MIDNIGHT)
    sessions = tracker(clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    first = event(MIDNIGHT, visitor=vid, session=sid, path="/landing", source="Google")
    sessions.assign(first)
    second = event(MIDNIGHT + 60, visitor=vid, session=sid, path="/pricing", source="")
    sessions.assign(second)
    assert (first.visit.visitor_id, first.visit.session_id) == (vid, sid)
    assert same_visit(second, first) and second.pathname == "/pricing"
    assert (second.visit.attribute("entry_page"), second.visit.attribute("source")) == ("/landing", "Google")
    assert second.visit.started_at == MIDNIGHT


def test_a_session_idle_past_30_minutes_is_replaced_even_if_the_client_keeps_its_id(tracker):
    clock = Clock(MIDNIGHT)
    sessions = tracker(clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    sessions.assign(first := event(MIDNIGHT, visitor=vid, session=sid))
    sessions.assign(within := event(MIDNIGHT + SESSION_TIMEOUT_SECONDS, visitor=vid, session=sid))
    later = MIDNIGHT + 2 * SESSION_TIMEOUT_SECONDS + 1
    sessions.assign(after := event(later, visitor=vid, session=sid, path="/back"))
    sessions.assign(next_one := event(later + 5, visitor=vid, session=sid))
    assert first.visit.session_id == within.visit.session_id == sid
    assert after.visit.session_id != sid and after.visit.visitor_id == vid
    assert same_visit(next_one, after) and next_one.visit.attribute("entry_page") == "/back"


def test_cookieless_visitors_are_a_keyed_hash_of_site_ip_and_user_agent(tracker):
    clock = Clock(MIDNIGHT + 3600)
    sessions = tracker(clock)
    a1, a2 = event(clock.now), event(clock.now + 10)
    other_ip, other_ua = event(clock.now, ip="5.6.7.8"), event(clock.now, ua="Other")
    for e in (a1, a2, other_ip, other_ua):
        sessions.assign(e)
    assert same_visit(a1, a2)
    assert len({a1.visit.visitor_id, other_ip.visit.visitor_id, other_ua.visit.visitor_id}) == 3
    other_site = event(clock.now)
    other_site.site_id = 2
    sessions.assign(other_site)
    assert other_site.visit.visitor_id != a1.visit.visitor_id


def test_cookieless_visit_survives_midnight_but_a_new_day_gives_a_new_visitor(tracker):
    clock = Clock(MIDNIGHT - 60)
    sessions = tracker(clock)
    sessions.assign(before := event(clock.now))
    clock.now = MIDNIGHT + 60
    sessions.assign(after := event(clock.now))
    assert same_visit(after, before)
    clock.now = MIDNIGHT + 4 * 3600
    sessions.assign(later := event(clock.now))
    assert later.visit.visitor_id != before.visit.visitor_id


def test_expire_forgets_idle_visits_and_caps_memory():
    clock = Clock(MIDNIGHT)
    sessions = SessionTracker(salts=DailySalts(), clock=clock, max_visits=3)
    for i in range(5):
        sessions.assign(event(MIDNIGHT + i, visitor=uuid.uuid4(), session=uuid.uuid4()))
    assert len(sessions) == 3
    sessions.expire(MIDNIGHT + SESSION_TIMEOUT_SECONDS + 10)
    assert len(sessions) == 0


def test_warm_restores_visits_active_before_a_restart():
    clock = Clock(MIDNIGHT + 100)
    sessions = memory_tracker(clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    attributes = ("/landing", "", "news.ycombinator.com", "Hacker News", "Organic Social") + ("",) * 6 + (
        "{}", "DE", "Berlin", "Berlin", "Chrome", "120.0", "Windows", "10", "desktop")
    sessions.warm([ActiveSession(1, vid, sid, MIDNIGHT, MIDNIGHT + 50, attributes)])
    sessions.assign(e := event(clock.now, visitor=vid, session=sid, path="/docs"))
    assert (e.visit.session_id, e.visit.started_at, e.visit.attributes) == (sid, MIDNIGHT, attributes)


def server_event(ts: float, *, visitor, name="signup") -> Event:
    """A server-side goal as `parse_server_goal` builds it and `put_url_parts` leaves it: no page
    of its own, the site's home page in case it starts a visit."""
    e = Event(site_public_id="pm_x", type=EventType.GOAL, name=name, href="", timestamp=ts, ip="", user_agent="",
              client_visitor_id=str(visitor), check_bots=False)
    e.site_id, e.hostname, e.pathname = 1, "e.com", "/"
    return e


def test_a_visitor_id_alone_joins_the_visit_begun_with_a_session_id_on_its_latest_page(tracker):
    clock = Clock(MIDNIGHT)
    sessions = tracker(clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    sessions.assign(landing := event(MIDNIGHT, visitor=vid, session=sid, path="/landing", source="Google"))
    pricing = event(MIDNIGHT + 60, visitor=vid, session=sid, path="/pricing")
    pricing.hostname = "shop.e.com"
    sessions.assign(pricing)
    sessions.assign(goal := server_event(MIDNIGHT + 120, visitor=vid))
    assert same_visit(goal, landing) and goal.visit.last_seen == MIDNIGHT + 120
    assert (goal.hostname, goal.pathname) == ("shop.e.com", "/pricing")
    sessions.assign(later := event(MIDNIGHT + 180, visitor=vid, session=sid, path="/docs"))
    assert same_visit(later, landing)


def test_a_visitor_id_alone_without_an_active_visit_starts_one_on_the_home_page(tracker):
    clock = Clock(MIDNIGHT)
    sessions = tracker(clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    sessions.assign(first := event(MIDNIGHT, visitor=vid, session=sid, path="/landing"))
    sessions.assign(goal := server_event(MIDNIGHT + SESSION_TIMEOUT_SECONDS + 1, visitor=vid))
    assert not same_visit(goal, first) and goal.visit.visitor_id == vid
    assert goal.pathname == "/" and goal.visit.attribute("entry_page") == "/"
    sessions.assign(again := server_event(MIDNIGHT + SESSION_TIMEOUT_SECONDS + 60, visitor=vid))
    assert same_visit(again, goal)


def test_a_backfilled_visit_does_not_hide_the_visitors_live_one(tracker):
    clock = Clock(MIDNIGHT)
    sessions = tracker(clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    sessions.assign(live := event(MIDNIGHT, visitor=vid, session=sid, path="/app"))
    sessions.assign(old := server_event(MIDNIGHT - DAY, visitor=vid, name="imported"))
    sessions.assign(old_too := server_event(MIDNIGHT - DAY + 60, visitor=vid, name="imported"))
    sessions.assign(now := server_event(MIDNIGHT + 60, visitor=vid))
    assert same_visit(old, old_too) and not same_visit(old, live)
    assert same_visit(now, live) and now.pathname == "/app"


def test_after_a_restart_a_visitor_id_alone_joins_the_warmed_visit_on_its_entry_page():
    clock = Clock(MIDNIGHT + 100)
    sessions = memory_tracker(clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    attributes = ("/landing",) + ("",) * 10 + ("{}",) + ("",) * 8
    sessions.warm([ActiveSession(1, vid, sid, MIDNIGHT, MIDNIGHT + 50, attributes)])
    sessions.assign(goal := server_event(clock.now, visitor=vid))
    assert goal.visit.session_id == sid and goal.pathname == "/landing"


def test_expired_visits_are_forgotten_by_visitor_too():
    clock = Clock(MIDNIGHT)
    sessions = memory_tracker(clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    sessions.assign(first := event(MIDNIGHT, visitor=vid, session=sid))
    sessions.expire(MIDNIGHT + SESSION_TIMEOUT_SECONDS + 1)
    assert len(sessions) == 0
    sessions.assign(goal := server_event(MIDNIGHT + 10, visitor=vid))  # would have joined, had it been kept
    assert goal.visit is not first.visit


def test_forgetting_a_deleted_site_drops_its_visits_and_no_other_sites(tracker):
    clock = Clock(MIDNIGHT + 3600)
    t = tracker(clock)
    first = {}
    for site_id in (1, 11):  # 11: a site whose id starts like the deleted one's
        for cookie in (True, False):
            e = event(clock(), visitor=uuid.UUID(int=site_id) if cookie else None,
                      session=uuid.UUID(int=100 + site_id) if cookie else None)
            e.site_id = site_id
            t.assign(e)
            first[site_id, cookie] = e
    clock.advance(60)

    asyncio.run(t.forget_site(1))

    for (site_id, cookie), earlier in first.items():
        e = event(clock(), visitor=uuid.UUID(int=site_id) if cookie else None,
                  session=uuid.UUID(int=100 + site_id) if cookie else None)
        e.site_id = site_id
        t.assign(e)
        assert same_visit(e, earlier) == (site_id == 11), (site_id, cookie)
