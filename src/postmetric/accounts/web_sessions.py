"""Dashboard logins: start, recognise, slide and end web sessions.

The `pm_session` cookie carries a random token; the database keeps only its sha256, so a leaked
database cannot be replayed as cookies. Each session has its own CSRF token, which the dashboard
echoes in `X-CSRF-Token` on every state-changing request.

Secondary responsibility: sliding expiry. A session lives SESSION_LIFETIME past its last use; the
row is rewritten at most once per REFRESH_RESOLUTION, not on every request.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from postmetric.accounts.keys import hash_secret
from postmetric.store.metadata import User, WebSession

SESSION_LIFETIME = timedelta(days=30)
REFRESH_RESOLUTION = timedelta(minutes=1)


def start_session(session: Session, *, user: User, now: datetime) -> tuple[WebSession, str]:
    """A new web session for `user` and the raw token for its cookie (not stored).

    Also deletes the user's expired sessions: rows of browsers that never came back.
    """
    session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now))
    raw = secrets.token_urlsafe(32)
    web_session = WebSession(
        token_hash=hash_secret(raw),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
    )
    session.add(web_session)
    session.flush()
    return web_session, raw


def find_session(session: Session, raw: str, *, now: datetime) -> tuple[WebSession, bool] | None:
    """The live session of cookie value `raw`, and whether its expiry just moved; None if dead."""
    web_session = session.scalar(select(WebSession).where(WebSession.token_hash == hash_secret(raw)))
    if web_session is None:
        return None
    if web_session.expires_at <= now:
        session.delete(web_session)
        return None
    refreshed = now - web_session.last_seen_at >= REFRESH_RESOLUTION
    if refreshed:
        web_session.last_seen_at = now
        web_session.expires_at = now + SESSION_LIFETIME
    return web_session, refreshed


def end_session(session: Session, raw: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == hash_secret(raw)))


def end_user_sessions(session: Session, *, user_id: int, keep_id: int | None = None) -> None:
    """End every session of the user, except `keep_id` (the one making the change)."""
    statement = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_id is not None:
        statement = statement.where(WebSession.id != keep_id)
    session.execute(statement)
