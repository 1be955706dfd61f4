"""Password reset by email: a single-use token valid for RESET_LIFETIME, stored as its sha256.

`request_reset` answers the same way (None) whether or not the email has an account, so the HTTP
layer cannot leak which addresses are registered.

A confirmed reset assumes the old password may be known to someone else, so it takes back
everything that password could have handed out: every web session ends, every account token is
revoked, and every other reset link of the user stops working. Only the newest link works at all:
asking for a new one retires the older ones, which may sit in a mailbox for the rest of the hour.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from postmetric.accounts.keys import hash_secret, revoke_all_account_tokens
from postmetric.accounts.users import get_user_by_email, hash_password
from postmetric.accounts.web_sessions import end_user_sessions
from postmetric.errors import ValidationError
from postmetric.store.metadata import PasswordReset, User

RESET_LIFETIME = timedelta(hours=1)


def request_reset(session: Session, *, email: str, now: datetime) -> tuple[User, str] | None:
    """The user with `email` and a new raw reset token to mail them (their older links stop
    working); None for an unknown email."""
    user = get_user_by_email(session, email) if isinstance(email, str) else None
    if user is None:
        return None
    _forget_resets(session, user_id=user.id)
    raw = secrets.token_urlsafe(32)
    session.add(PasswordReset(token_hash=hash_secret(raw), user_id=user.id, created_at=now,
                              expires_at=now + RESET_LIFETIME))
    session.flush()
    return user, raw


def confirm_reset(session: Session, *, token: object, password: object, now: datetime) -> User:
    """Set the new password of the token's user; end the user's sessions, revoke their account
    tokens and use up every reset link they have."""
    reset = None
    if isinstance(token, str) and token:
        reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == hash_secret(token)))
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise ValidationError("token", "this reset link is unknown, used or expired; ask for a new one")
    password_hash = hash_password(password)
    user = session.get_one(User, reset.user_id)
    user.password_hash = password_hash
    _forget_resets(session, user_id=user.id)
    end_user_sessions(session, user_id=user.id)
    revoke_all_account_tokens(session, user_id=user.id, now=now)
    session.flush()
    return user


def _forget_resets(session: Session, *, user_id: int) -> None:
    # Deleted rather than marked used: a forgotten link and a used one get the same answer.
    session.execute(delete(PasswordReset).where(PasswordReset.user_id == user_id))
