"""Visitor and session identity, with cookies and without."""

import uuid
from datetime import date

from postmetric.ingest.event import Event, EventType
from postmetric.ingest.sessions import SESSION_TIMEOUT_SECONDS, ActiveSession, SessionTracker

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


def tracker(clock: Clock) -> SessionTracker:
    return SessionTracker(salts=DailySalts(), clock=clock)


def test_cookie_ids_are_kept_and_the_visit_attributes_come_from_its_first_event():
    clock = Clock(MIDNIGHT)
    sessions = tracker(clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    first = event(MIDNIGHT, visitor=vid, session=sid, path="/landing", source="Google")
    sessions.assign(first)
    second = event(MIDNIGHT + 60, visitor=vid, session=sid, path="/pricing", source="")
    sessions.assign(second)
    assert (first.visit.visitor_id, first.visit.session_id) == (vid, sid)
    assert second.visit is first.visit and second.pathname == "/pricing"
    assert (second.visit.attribute("entry_page"), second.visit.attribute("source")) == ("/landing", "Google")
    assert second.visit.started_at == MIDNIGHT


def test_a_session_idle_past_30_minutes_is_replaced_even_if_the_client_keeps_its_id():
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
    assert next_one.visit is after.visit and next_one.visit.attribute("entry_page") == "/back"


def test_cookieless_visitors_are_a_keyed_hash_of_site_ip_and_user_agent():
    clock = Clock(MIDNIGHT + 3600)
    sessions = tracker(clock)
    a1, a2 = event(clock.now), event(clock.now + 10)
    other_ip, other_ua = event(clock.now, ip="5.6.7.8"), event(clock.now, ua="Other")
    for e in (a1, a2, other_ip, other_ua):
        sessions.assign(e)
    assert a1.visit is a2.visit
    assert len({a1.visit.visitor_id, other_ip.visit.visitor_id, other_ua.visit.visitor_id}) == 3
    other_site = event(clock.now)
    other_site.site_id = 2
    sessions.assign(other_site)
    assert other_site.visit.visitor_id != a1.visit.visitor_id


def test_cookieless_visit_survives_midnight_but_a_new_day_gives_a_new_visitor():
    clock = Clock(MIDNIGHT - 60)
    sessions = tracker(clock)
    sessions.assign(before := event(clock.now))
    clock.now = MIDNIGHT + 60
    sessions.assign(after := event(clock.now))
    assert after.visit is before.visit
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
    sessions = tracker(clock)
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    attributes = ("/landing", "", "news.ycombinator.com", "Hacker News", "Organic Social") + ("",) * 6 + (
        "{}", "DE", "Berlin", "Berlin", "Chrome", "120.0", "Windows", "10", "desktop")
    sessions.warm([ActiveSession(1, vid, sid, MIDNIGHT, MIDNIGHT + 50, attributes)])
    sessions.assign(e := event(clock.now, visitor=vid, session=sid, path="/docs"))
    assert (e.visit.session_id, e.visit.started_at, e.visit.attributes) == (sid, MIDNIGHT, attributes)
