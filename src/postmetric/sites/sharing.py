"""Public share links: read-only access to one site's stats, optionally behind a password.

A link is `{base_url}/share/{token}`. With a password, `unlock` hands out a proof (an HMAC of the
token and the password hash under the instance's secret key) for the share cookie: changing the
password changes the hash, so old proofs stop working; turning sharing off deletes the token, and
turning it on again makes a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from postmetric.accounts.users import hash_password, verify_password
from postmetric.errors import ValidationError
from postmetric.store.metadata import Site, SiteShare

_UNSET = object()


def get_share(session: Session, site: Site) -> SiteShare | None:
    return session.get(SiteShare, site.id)


def set_sharing(session: Session, site: Site, *, enabled: object, password: object = _UNSET) -> SiteShare | None:
    """Turn sharing on or off; `password`: a new one, None to remove it, left out to keep it."""
    if not isinstance(enabled, bool):
        raise ValidationError("enabled", "must be true or false")
    share = get_share(session, site)
    if not enabled:
        if share is not None:
            session.delete(share)
            session.flush()
        return None
    if share is None:
        share = SiteShare(site_id=site.id, token=secrets.token_urlsafe(24))
        session.add(share)
    if password is None or password == "":
        share.password_hash = None
    elif password is not _UNSET:
        share.password_hash = hash_password(password)
    session.flush()
    return share


def share_by_token(session: Session, token: str) -> SiteShare | None:
    return session.scalar(select(SiteShare).where(SiteShare.token == token)) if token else None


def unlock_proof(share: SiteShare, secret_key: str) -> str:
    material = f"{share.token}:{share.password_hash or ''}".encode()
    return hmac.new(secret_key.encode(), material, hashlib.sha256).hexdigest()


def unlock(share: SiteShare, password: object, secret_key: str) -> str | None:
    """The proof for the share cookie if `password` is right (or the link has none), else None."""
    if share.password_hash is not None:
        if not isinstance(password, str) or not verify_password(password, share.password_hash):
            return None
    return unlock_proof(share, secret_key)


def may_read(share: SiteShare, proof: str | None, secret_key: str) -> bool:
    """Whether a request holding `proof` (from the share cookie, or None) may read the shared site."""
    if share.password_hash is None:
        return True
    return proof is not None and hmac.compare_digest(proof, unlock_proof(share, secret_key))
