"""User accounts: create them and check their passwords (argon2 via pwdlib)."""

from __future__ import annotations

import re
from functools import cache

from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.orm import Session

from postmetric.errors import AlreadyExists, ValidationError
from postmetric.store.metadata import User

MIN_PASSWORD_LENGTH = 10
# Deliberately simple: one "@", no spaces, a dot in the domain. Delivery is the real test.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

_hasher = PasswordHash.recommended()


@cache
def _dummy_hash() -> str:
    # Made on first use, not at import: hashing takes ~150 ms and the CLI imports this module.
    return _hasher.hash("postmetric-dummy-password")


def normalize_email(email: str) -> str:
    normalized = email.strip().lower()
    if len(normalized) > 320 or not _EMAIL.fullmatch(normalized):
        raise ValidationError("email", f"{email!r} is not an email address like name@example.com")
    return normalized


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def hash_password(password: object) -> str:
    """The argon2 hash of a new password; ValidationError if it is too short."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


def create_user(session: Session, *, email: str, password: str) -> User:
    email = normalize_email(email)
    password_hash = hash_password(password)
    if get_user_by_email(session, email) is not None:
        raise AlreadyExists("user", "email", email)
    user = User(email=email, password_hash=password_hash)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The user with this email and password, or None.

    Takes as long for an unknown email as for a wrong password.
    """
    user = get_user_by_email(session, email)
    if user is None:
        # Without this, a fast "no" would tell an attacker which emails have accounts.
        _hasher.verify(password, _dummy_hash())
        return None
    valid, updated_hash = _hasher.verify_and_update(password, user.password_hash)
    if not valid:
        return None
    if updated_hash is not None:  # hashed with older parameters: upgrade while we know the password
        user.password_hash = updated_hash
    return user
