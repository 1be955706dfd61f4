"""`visitor_profile`: one visitor's sessions, pages, goals and identity, on DuckDB and ClickHouse SQL.

  visitor A, site 1   visit s1 on 10 Mar 2026 09:00 UTC from Google, DE, desktop:
                        "/" · engagement · "/pricing" · goal signup {plan: pro}
                      visit s2 on 12 Mar 10:00 from X, FR, mobile: "/blog" · identify {user_id, email}
  visitor B, site 1   one pageview (must not leak into A's profile)
  visitor A, site 2   one pageview (another site's data about the same id)
  visitor C, site 1   a phone, 14 Mar: "/" · identify {user_id: u_42}: the same person as A
  visitor D, site 2   identify {user_id: u_42} on another site: not A's person here
  visitors E, F       identify {email: "Eve@Example.com"}, then (F, later) {email: "eve@example.com "}
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from factories import stored_event
from postmetric.ingest.event import EventType
from postmetric.ingest.rows import event_row
from postmetric.revenue.ledger import merged_delivery, parse_payment
from postmetric.stats import visitors
from postmetric.stats.visitors import parse_visitor_id, visitor_profile
from postmetric.store.events import encode_rows

A = "00000000-0000-4000-8000-00000000000a"
B = "00000000-0000-4000-8000-00000000000b"
S1 = "00000000-0000-4000-8000-000000000001"
S2 = "00000000-0000-4000-8000-000000000002"
C, D, E, F = (f"00000000-0000-4000-8000-00000000000{label}" for label in "cdef")
S3, S4, S5, S6 = (f"00000000-0000-4000-8000-00000000000{number}" for number in range(3, 7))


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def event(moment, kind, path, *, visitor=A, session=S1, started, site_id=1, name=None, props=None, **visit):
    return stored_event(site_id=site_id, visitor_id=visitor, session_id=session, session_started_at=at(started),
                        timestamp=at(moment), type=EventType(kind), name=name or kind, pathname=path,
                        props=props or {}, **visit)


FIRST = {"started": "2026-03-10 09:00:00", "entry_page": "/", "source": "Google", "channel": "Organic Search",
         "referrer": "https://www.google.com/", "referrer_host": "google.com", "utm_campaign": "spring",
         "country": "DE", "city": "Berlin", "device": "desktop", "browser": "Chrome", "os": "Windows"}
SECOND = {"started": "2026-03-12 10:00:00", "session": S2, "entry_page": "/blog", "source": "X",
          "channel": "Organic Social", "country": "FR", "city": "Paris", "device": "mobile", "browser": "Safari",
          "os": "iOS"}
EVENTS = [
    event("2026-03-10 09:00:00", "pageview", "/", viewport_width=1280, viewport_height=800, **FIRST),
    event("2026-03-10 09:00:30", "engagement", "/", **FIRST),
    event("2026-03-10 09:02:00", "pageview", "/pricing", title="Pricing", **FIRST),
    event("2026-03-10 09:05:00", "goal", "/pricing", name="signup", props={"plan": "pro"}, **FIRST),
    event("2026-03-12 10:00:00", "pageview", "/blog", viewport_width=390, viewport_height=844, **SECOND),
    event("2026-03-12 10:01:00", "identify", "/blog", props={"user_id": "u_42", "email": "ada@example.com"}, **SECOND),
    event("2026-03-12 10:00:00", "pageview", "/", visitor=B, session=S2, started="2026-03-12 10:00:00"),
    event("2026-03-12 11:00:00", "pageview", "/other-site", site_id=2, started="2026-03-12 11:00:00"),
    event("2026-03-14 08:00:00", "pageview", "/", visitor=C, session=S3, started="2026-03-14 08:00:00"),
    event("2026-03-14 08:01:00", "identify", "/", visitor=C, session=S3, started="2026-03-14 08:00:00",
          props={"user_id": "u_42"}),
    event("2026-03-09 08:00:00", "identify", "/", visitor=D, session=S4, started="2026-03-09 08:00:00", site_id=2,
          props={"user_id": "u_42"}),
    event("2026-03-01 08:00:00", "identify", "/", visitor=E, session=S5, started="2026-03-01 08:00:00",
          props={"email": "Eve@Example.com"}),
    event("2026-03-02 08:00:00", "identify", "/", visitor=F, session=S6, started="2026-03-02 08:00:00",
          props={"email": "eve@example.com "}),
]


@pytest.fixture
def store(event_store):
    event_store.load(encode_rows(event_row(e) for e in EVENTS))
    return event_store


def test_the_profile_tells_the_visitors_story_in_time_order(store):
    profile = visitor_profile(store, site_id=1, visitor_id=A)
    assert profile["visitor_id"] == A
    assert (profile["first_seen"], profile["last_seen"]) == ("2026-03-10T09:00:00Z", "2026-03-12T10:01:00Z")
    assert profile["totals"] == {"visits": 2, "pageviews": 3, "goals": 1}
    assert [(p["page"], p["timestamp"]) for p in profile["pages"]] == [
        ("/", "2026-03-10T09:00:00Z"), ("/pricing", "2026-03-10T09:02:00Z"), ("/blog", "2026-03-12T10:00:00Z")]
    assert profile["pages"][1]["title"] == "Pricing"
    assert profile["goals"] == [{"name": "signup", "timestamp": "2026-03-10T09:05:00Z", "page": "/pricing",
                                 "props": {"plan": "pro"}}]
    assert profile["payments"] == [] and profile["truncated"] is False


def test_sessions_have_their_span_pages_and_source(store):
    first, second = visitor_profile(store, site_id=1, visitor_id=A)["sessions"]
    assert first == {"session_id": S1, "started_at": "2026-03-10T09:00:00Z", "ended_at": "2026-03-10T09:05:00Z",
                     "duration": 300, "entry_page": "/", "exit_page": "/pricing", "pageviews": 2,
                     "source": "Google", "channel": "Organic Search", "country": "DE", "device": "desktop"}
    assert (second["session_id"], second["duration"], second["exit_page"], second["source"]) == (S2, 60, "/blog", "X")


def test_geo_and_device_are_the_latest_visits_and_first_touch_the_first(store):
    profile = visitor_profile(store, site_id=1, visitor_id=A)
    assert profile["geo"] == {"country": "FR", "region": "", "city": "Paris"}
    assert profile["device"] == {"type": "mobile", "browser": "Safari", "browser_version": "", "os": "iOS",
                                 "os_version": "", "viewport": {"width": 390, "height": 844}}
    touch = profile["first_touch"]
    assert (touch["source"], touch["channel"], touch["referrer_host"], touch["utm_campaign"], touch["entry_page"]) == (
        "Google", "Organic Search", "google.com", "spring", "/")


def test_identity_comes_from_identify_events(store):
    assert visitor_profile(store, site_id=1, visitor_id=A)["identity"] == {
        "user_id": "u_42", "email": "ada@example.com", "name": None,
        "props": {"user_id": "u_42", "email": "ada@example.com"}, "identified_at": "2026-03-12T10:01:00Z"}
    assert visitor_profile(store, site_id=1, visitor_id=B)["identity"] is None


def pay(store, transaction_id: str, visitor: str, moment: str, *, site_id: int = 1, **fields) -> None:
    raw = {"transaction_id": transaction_id, "amount": "49", "currency": "USD", "visitor_id": visitor,
           "timestamp": moment + "Z", **fields}
    assert all(store.record_payments([parse_payment(raw, site_id=site_id, site_currency="USD",
                                                    now=datetime(2026, 3, 31, tzinfo=timezone.utc))],
                                     merge=merged_delivery))


def test_the_person_gathers_a_users_visitors_and_their_payments(store):
    pay(store, "ch_phone", C, "2026-03-14T08:05:00")
    pay(store, "ch_laptop", A, "2026-03-12T10:05:00", renewal=True)
    pay(store, "ch_other_site", D, "2026-03-09T08:05:00", site_id=2)
    for visitor in (A, C):
        profile = visitor_profile(store, site_id=1, visitor_id=visitor)
        assert profile["person"] == {"key": "user:u_42", "visitor_ids": [A, C]}  # A first seen on 10 Mar
        assert [(p["transaction_id"], p["visitor_id"], p["kind"]) for p in profile["payments"]] == [
            ("ch_laptop", A, "renewal"), ("ch_phone", C, "new")]
    # The rest stays the visitor's own: C's first touch and pages are C's.
    phone = visitor_profile(store, site_id=1, visitor_id=C)
    assert ([p["page"] for p in phone["pages"]], phone["first_seen"]) == (["/"], "2026-03-14T08:00:00Z")
    assert visitor_profile(store, site_id=2, visitor_id=D)["person"] == {"key": "user:u_42", "visitor_ids": [D]}


def test_one_email_in_any_case_is_one_person_and_the_unidentified_are_alone(store):
    assert visitor_profile(store, site_id=1, visitor_id=F)["person"] == {
        "key": "email:eve@example.com", "visitor_ids": [E, F]}
    assert visitor_profile(store, site_id=1, visitor_id=B)["person"] == {"key": None, "visitor_ids": [B]}


def test_a_visitor_is_only_seen_on_the_site_asked_about(store):
    assert visitor_profile(store, site_id=2, visitor_id=A)["totals"]["pageviews"] == 1
    assert visitor_profile(store, site_id=3, visitor_id=A) is None
    assert visitor_profile(store, site_id=1, visitor_id="00000000-0000-4000-8000-0000000000ff") is None


def test_a_long_history_keeps_the_newest_events_and_the_true_first_touch(store, monkeypatch):
    monkeypatch.setattr(visitors, "MAX_EVENTS", 2)
    profile = visitor_profile(store, site_id=1, visitor_id=A)
    assert profile["truncated"] is True
    assert [p["page"] for p in profile["pages"]] == ["/blog"]
    assert profile["first_seen"] == "2026-03-10T09:00:00Z"
    assert profile["first_touch"]["source"] == "Google"


@pytest.mark.parametrize("text, expected", [
    ("00000000-0000-4000-8000-00000000000A", A),
    ("{00000000-0000-4000-8000-00000000000a}", A),
    ("not-a-uuid", None),
    ("", None),
])
def test_visitor_ids_are_uuids(text, expected):
    assert parse_visitor_id(text) == expected
