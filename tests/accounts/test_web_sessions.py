"""Web sessions: only a hash is stored, expiry slides with use, and sessions end on demand."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from postmetric.accounts.keys import hash_secret
from postmetric.accounts.users import create_user
from postmetric.accounts.web_sessions import (
    REFRESH_RESOLUTION,
    SESSION_LIFETIME,
    end_session,
    end_user_sessions,
    find_session,
    start_session,
)
from postmetric.store.metadata import WebSession

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_a_session_stores_the_token_hash_and_a_csrf_token(db_session):
    user = create_user(db_session, email="ada@example.com", password="long enough!")
    web_session, raw = start_session(db_session, user=user, now=NOW)
    db_session.commit()
    stored = db_session.scalar(select(WebSession))
    assert stored.token_hash == hash_secret(raw) and raw not in (stored.token_hash, stored.csrf_token)
    assert len(stored.csrf_token) >= 32 and stored.expires_at == NOW + SESSION_LIFETIME
    assert find_session(db_session, raw, now=NOW) == (web_session, False)
    assert find_session(db_session, "made-up", now=NOW) is None


def test_expiry_slides_at_most_once_per_resolution_and_a_dead_session_is_deleted(db_session):
    user = create_user(db_session, email="ada@example.com", password="long enough!")
    _, raw = start_session(db_session, user=user, now=NOW)
    assert find_session(db_session, raw, now=NOW + REFRESH_RESOLUTION / 2)[1] is False
    later = NOW + timedelta(days=29)
    web_session, refreshed = find_session(db_session, raw, now=later)
    assert refreshed and web_session.expires_at == later + SESSION_LIFETIME
    assert find_session(db_session, raw, now=later + SESSION_LIFETIME) is None
    db_session.commit()
    assert db_session.scalar(select(WebSession)) is None


def test_ending_one_session_or_all_but_one(db_session):
    user = create_user(db_session, email="ada@example.com", password="long enough!")
    first, raw_first = start_session(db_session, user=user, now=NOW)
    _, raw_second = start_session(db_session, user=user, now=NOW)
    _, raw_third = start_session(db_session, user=user, now=NOW)
    end_session(db_session, raw_second)
    assert find_session(db_session, raw_second, now=NOW) is None
    end_user_sessions(db_session, user_id=user.id, keep_id=first.id)
    assert find_session(db_session, raw_first, now=NOW) is not None
    assert find_session(db_session, raw_third, now=NOW) is None


def test_a_new_login_deletes_the_users_expired_sessions(db_session):
    user = create_user(db_session, email="ada@example.com", password="long enough!")
    start_session(db_session, user=user, now=NOW)
    start_session(db_session, user=user, now=NOW + SESSION_LIFETIME)
    assert db_session.query(WebSession).count() == 1
