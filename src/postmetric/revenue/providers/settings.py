"""Per-site provider settings: the webhook signing secret, and what the last delivery did.

Secrets are HMAC keys, so they are kept as given (not hashed) and never returned by
`provider_status`: it says only whether one is set.

Blocking (SQLAlchemy sessions): call from a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from postmetric.errors import NotFound, ValidationError
from postmetric.revenue.providers import PROVIDERS
from postmetric.store.metadata import RevenueProvider, Site

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


def webhook_target(session: Session, *, public_id: str, provider: str) -> WebhookTarget | None:
    """None when no site has `public_id` (the URL's last part)."""
    site = session.scalar(select(Site).where(Site.public_id == public_id.strip()))
    if site is None:
        return None
    return WebhookTarget(site.id, site.currency, webhook_secret(session, site_id=site.id, provider=provider))


def require_provider(name: str) -> str:
    if name not in PROVIDERS:
        raise NotFound("provider", name)
    return name


def webhook_secret(session: Session, *, site_id: int, provider: str) -> str | None:
    row = session.get(RevenueProvider, (site_id, provider))
    return row.webhook_secret if row is not None else None


def provider_statuses(session: Session, *, site_id: int) -> list[ProviderStatus]:
    """Every provider, in `PROVIDERS` order, whether or not the site set it up."""
    rows = {row.provider: row for row in session.scalars(
        select(RevenueProvider).where(RevenueProvider.site_id == site_id))}
    return [_status(name, rows.get(name)) for name in PROVIDERS]


def set_webhook_secret(session: Session, *, site_id: int, provider: str, secret: object) -> ProviderStatus:
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
    row.webhook_secret = secret
    session.flush()
    return _status(provider, row)


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


def _status(provider: str, row: RevenueProvider | None) -> ProviderStatus:
    if row is None:
        return ProviderStatus(provider, False, None, None, None)
    return ProviderStatus(provider, bool(row.webhook_secret), row.last_delivery_at, row.last_event_type,
                          row.last_result)
