"""Site keys and account tokens: issue them, recognise them, revoke them.

Only the sha256 of a key is stored, so the raw key is shown once, at creation. A slow hash is not
needed: keys carry 256 random bits, there is nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from postmetric.errors import NotFound, ValidationError
from postmetric.store.metadata import AccountToken, ApiKey, Site, User

SITE_KEY_PREFIX = "pmk_"
ACCOUNT_TOKEN_PREFIX = "pmt_"
DISPLAY_PREFIX_LENGTH = 8
# last_used_at is for humans ("used 3 minutes ago"): refreshing it more often would turn every
# authenticated API request into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def _validate_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 255:
        raise ValidationError("name", "must be 1 to 255 characters, e.g. 'backend' or 'CI'")
    return name


def _mark_used(credential: ApiKey | AccountToken, now: datetime) -> None:
    if credential.last_used_at is None or now - credential.last_used_at >= LAST_USED_RESOLUTION:
        credential.last_used_at = now


def create_site_key(session: Session, *, site: Site, name: str) -> tuple[ApiKey, str]:
    """A new key for `site` and its raw value, which is not stored and cannot be shown again."""
    raw = _new_secret(SITE_KEY_PREFIX)
    key = ApiKey(
        site=site, name=_validate_name(name), prefix=raw[:DISPLAY_PREFIX_LENGTH], key_hash=hash_secret(raw)
    )
    session.add(key)
    session.flush()
    return key, raw


def authenticate_site_key(
    session: Session, raw: str, *, now: datetime, site_id: int | None = None
) -> ApiKey | None:
    """The live key `raw` stands for, or None; with `site_id`, also None for another site's key."""
    if not raw.startswith(SITE_KEY_PREFIX):
        return None
    # Looking up the hash rather than comparing raw keys: the database's comparison timing can leak
    # at most a prefix of a sha256, which says nothing about the key.
    key = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_secret(raw), ApiKey.revoked_at.is_(None))
    )
    if key is None or (site_id is not None and key.site_id != site_id):
        return None
    _mark_used(key, now)
    return key


def list_site_keys(session: Session, *, site: Site) -> list[ApiKey]:
    """`site`'s keys, oldest first, revoked ones included."""
    return list(session.scalars(select(ApiKey).where(ApiKey.site_id == site.id).order_by(ApiKey.id)))


def revoke_site_key(session: Session, *, site: Site, key_id: int, now: datetime) -> ApiKey:
    """Revoke one of `site`'s keys; revoking twice keeps the first revocation time."""
    key = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.site_id == site.id))
    if key is None:
        raise NotFound("site key", key_id)
    if key.revoked_at is None:
        key.revoked_at = now
    session.flush()
    return key


def create_account_token(session: Session, *, user: User, name: str) -> tuple[AccountToken, str]:
    """A new token for `user` and its raw value, which is not stored and cannot be shown again."""
    raw = _new_secret(ACCOUNT_TOKEN_PREFIX)
    token = AccountToken(
        user=user, name=_validate_name(name), prefix=raw[:DISPLAY_PREFIX_LENGTH], token_hash=hash_secret(raw)
    )
    session.add(token)
    session.flush()
    return token, raw


def authenticate_account_token(session: Session, raw: str, *, now: datetime) -> AccountToken | None:
    """The live token `raw` stands for, or None; `token.user` is who is acting."""
    if not raw.startswith(ACCOUNT_TOKEN_PREFIX):
        return None
    token = session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == hash_secret(raw), AccountToken.revoked_at.is_(None)
        )
    )
    if token is None:
        return None
    _mark_used(token, now)
    return token


def list_account_tokens(session: Session, *, user: User) -> list[AccountToken]:
    """`user`'s tokens, oldest first, revoked ones included (a listing says when each stopped)."""
    return list(session.scalars(
        select(AccountToken).where(AccountToken.user_id == user.id).order_by(AccountToken.id)
    ))


def revoke_account_token(session: Session, *, user: User, token_id: int, now: datetime) -> AccountToken:
    """Revoke one of `user`'s tokens; revoking twice keeps the first revocation time."""
    token = session.scalar(
        select(AccountToken).where(AccountToken.id == token_id, AccountToken.user_id == user.id)
    )
    if token is None:
        raise NotFound("account token", token_id)
    if token.revoked_at is None:
        token.revoked_at = now
    session.flush()
    return token


def revoke_all_account_tokens(session: Session, *, user_id: int, now: datetime) -> int:
    """Revoke every live token of the user (after a password reset: a token made by whoever knew the
    old password must not outlive it); how many were live."""
    revoked = session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user_id, AccountToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return revoked.rowcount
