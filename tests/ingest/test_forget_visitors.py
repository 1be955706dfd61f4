"""Erasure's side of the visit caches, on both trackers: a forgotten visitor's next event begins a
new visit, whichever way its visit was keyed (a client session id, a visitor id alone, cookieless),
and other visitors' visits are kept."""

from __future__ import annotations

import uuid

from factories import Clock
from test_sessions import MIDNIGHT, event, same_visit, server_event, tracker  # noqa: F401 - tracker: a fixture

NOON = MIDNIGHT + 12 * 3600


def test_a_forgotten_visitors_next_event_begins_a_new_visit(tracker):
    clock = Clock(NOON)
    visits = tracker(clock)
    ada, bob = str(uuid.uuid4()), str(uuid.uuid4())
    first = event(NOON, visitor=ada, session=str(uuid.uuid4()), path="/cart")
    alone = server_event(NOON + 5, visitor=ada)
    cookieless = event(NOON, ip="9.9.9.9", path="/docs")
    other = event(NOON, visitor=bob, session=str(uuid.uuid4()))
    for e in (first, alone, cookieless, other):
        visits.assign(e)
    assert same_visit(alone, first)

    visits.forget_visitors(1, [ada, cookieless.visit.visitor_id],
                           [first.visit.session_id, cookieless.visit.session_id])

    clock.advance(60)
    again = event(NOON + 60, visitor=ada, session=first.visit.session_id, path="/checkout")
    goal = server_event(NOON + 61, visitor=ada)
    cookieless_again = event(NOON + 60, ip="9.9.9.9", path="/docs/2")
    bob_again = event(NOON + 60, visitor=bob, session=other.visit.session_id)
    for e in (again, goal, cookieless_again, bob_again):
        visits.assign(e)
    assert again.visit.started_at == NOON + 60 and again.visit.attribute("entry_page") == "/checkout"
    assert same_visit(goal, again)
    assert cookieless_again.visit.started_at == NOON + 60
    assert cookieless_again.visit.attribute("entry_page") == "/docs/2"
    assert same_visit(bob_again, other)  # not erased: still the visit he began


def test_forgetting_nobody_changes_nothing(tracker):
    clock = Clock(NOON)
    visits = tracker(clock)
    first = event(NOON, visitor=str(uuid.uuid4()), session=str(uuid.uuid4()))
    visits.assign(first)
    visits.forget_visitors(1, [], [])
    visits.forget_visitors(2, [first.visit.visitor_id], [first.visit.session_id])  # another site's
    later = event(NOON + 60, visitor=first.visit.visitor_id, session=first.visit.session_id)
    visits.assign(later)
    assert same_visit(later, first)
