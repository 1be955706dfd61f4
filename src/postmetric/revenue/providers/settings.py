"""Per-site provider settings: the webhook signing secret, and what the last delivery did.

Secrets are HMAC keys, so they cannot be hashed: they are sealed with the instance's `SecretBox`
(AES-GCM under a key derived from POSTMETRIC_SECRET_KEY) and never returned by `provider_status`:
it says only whether one is set.

Secondary responsibilities:
1. `seal_stored_secrets`: secrets stored in plaintext before encryption existed are sealed at
   start (the migration cannot: the key lives in the app's settings, not in the database), and
   `postmetric secrets rotate` re-seals every secret under the current key.
2. A secret no configured key opens (the secret key changed without rotation) makes its provider
   unconfigured for webhooks, with an error in the log, never a 500.

Blocking (SQLAlchemy sessions): call from a worker thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from postmetric.errors import NotFound, ValidationError
from postmetric.revenue.providers import PROVIDERS
from postmetric.secrets_box import SecretBox, SecretUnreadable, is_sealed
from postmetric.store.metadata import RevenueProvider, Site

log = logging.getLogger(__name__)
MAX_SECRET = 255
MAX_NOTE = 255


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    provider: str
    secret_set: bool
    last_delivery_at: datetime | None
    last_event_type: str | None
    last_result: str | None


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """The site a webhook URL names, and its secret for that provider (None when not set)."""

    site_id: int
    currency: str
    secret: str | None


@dataclass(frozen=True, slots=True)
class SealReport:
    """What `seal_stored_secrets` did: secrets sealed anew, already current, and none of the keys opens."""

    sealed: int
    current: int
    unreadable: int


def webhook_target(session: Session, *, public_id: str, provider: str, secret_box: SecretBox) -> WebhookTarget | None:
    """None when no site has `public_id` (the URL's last part)."""
    site = session.scalar(select(Site).where(Site.public_id == public_id.strip()))
    if site is None:
        return None
    return WebhookTarget(site.id, site.currency,
                         webhook_secret(session, site_id=site.id, provider=provider, secret_box=secret_box))


def require_provider(name: str) -> str:
    if name not in PROVIDERS:
        raise NotFound("provider", name)
    return name


def webhook_secret(session: Session, *, site_id: int, provider: str, secret_box: SecretBox) -> str | None:
    """The provider's signing secret; None when unset or when no configured key opens it (logged)."""
    row = session.get(RevenueProvider, (site_id, provider))
    if row is None or not row.webhook_secret:
        return None
    try:
        return secret_box.open(row.webhook_secret, context=_context(row))
    except SecretUnreadable as error:
        log.error("the %s webhook secret of site %s cannot be read: %s; set it again in Revenue settings, or "
                  "list the key it was sealed with in POSTMETRIC_SECRET_KEY_PREVIOUS", provider, site_id, error)
        return None


def provider_statuses(session: Session, *, site_id: int) -> list[ProviderStatus]:
    """Every provider, in `PROVIDERS` order, whether or not the site set it up."""
    rows = {row.provider: row for row in session.scalars(
        select(RevenueProvider).where(RevenueProvider.site_id == site_id))}
    return [_status(name, rows.get(name)) for name in PROVIDERS]


def set_webhook_secret(session: Session, *, site_id: int, provider: str, secret: object,
                       secret_box: SecretBox) -> ProviderStatus:
    """Set (or, with None or "", clear) the provider's signing secret; ValidationError for a bad one."""
    require_provider(provider)
    if secret is not None and not isinstance(secret, str):
        raise ValidationError("webhook_secret", "must be a string (or null or \"\" to clear it)")
    secret = (secret or "").strip() or None
    if secret is not None and len(secret) > MAX_SECRET:
        raise ValidationError("webhook_secret", f"is longer than {MAX_SECRET} characters")
    if secret is not None and any(ch.isspace() for ch in secret):
        raise ValidationError("webhook_secret", "must not contain spaces or line breaks")
    row = _row(session, site_id, provider)
    row.webhook_secret = secret_box.seal(secret, context=_context(row)) if secret is not None else None
    session.flush()
    return _status(provider, row)


def seal_stored_secrets(session: Session, secret_box: SecretBox, *, rotate: bool = False) -> SealReport:
    """Seal the secrets stored in plaintext; with `rotate`, also re-seal those under a previous key."""
    sealed = current = unreadable = 0
    for row in session.scalars(select(RevenueProvider).where(RevenueProvider.webhook_secret.is_not(None))):
        stored = row.webhook_secret
        if not secret_box.needs_sealing(stored) or (is_sealed(stored) and not rotate):
            current += 1
            continue
        try:
            secret = secret_box.open(stored, context=_context(row))
        except SecretUnreadable as error:
            log.error("the %s webhook secret of site %s cannot be read: %s", row.provider, row.site_id, error)
            unreadable += 1
            continue
        row.webhook_secret = secret_box.seal(secret, context=_context(row))
        sealed += 1
    session.flush()
    return SealReport(sealed, current, unreadable)


def record_delivery(session: Session, *, site_id: int, provider: str, at: datetime,
                    event_type: str | None, result: str) -> None:
    """Remember the latest delivery to this site's provider endpoint, whatever became of it."""
    row = _row(session, site_id, provider)
    row.last_delivery_at = at
    row.last_event_type = (event_type or "")[:MAX_NOTE] or None
    row.last_result = result[:MAX_NOTE]
    session.flush()


def _row(session: Session, site_id: int, provider: str) -> RevenueProvider:
    row = session.get(RevenueProvider, (site_id, provider))
    if row is None:
        row = RevenueProvider(site_id=site_id, provider=provider)
        session.add(row)
    return row


def _context(row: RevenueProvider) -> str:
    """Binds a sealed secret to its row: copied into another site's or provider's row, it does not open."""
    return f"revenue_providers.webhook_secret:{row.site_id}:{row.provider}"


def _status(provider: str, row: RevenueProvider | None) -> ProviderStatus:
    if row is None:
        return ProviderStatus(provider, False, None, None, None)
    return ProviderStatus(provider, bool(row.webhook_secret), row.last_delivery_at, row.last_event_type,
                          row.last_result)
