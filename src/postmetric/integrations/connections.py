"""Connecting a site to an integration, disconnecting it, and reading its state for Settings.

A connection stores the provider's validated config and its token sealed at rest; connecting (or
changing the connection) makes the integration due at once. Disconnecting always deletes the row,
token included, and on request what its syncs stored.

Blocking (SQLAlchemy sessions): call from a worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from postmetric.errors import NotFound, ValidationError
from postmetric.integrations.sync import Provider, token_context
from postmetric.secrets_box import SecretBox, SecretUnreadable
from postmetric.store.events import EventStore
from postmetric.store.metadata import Integration, Site


@dataclass(frozen=True, slots=True)
class IntegrationView:
    """An integration as Settings shows it; `integration` is None when the site has not connected it."""

    kind: str
    label: str
    integration: Integration | None

    @property
    def state(self) -> str:
        return "not_connected" if self.integration is None else self.integration.state


def provider_of(providers: Mapping[str, Provider], kind: str) -> Provider:
    provider = providers.get(kind)
    if provider is None:
        raise NotFound("integration", kind)
    return provider


def list_integrations(session: Session, site: Site, providers: Mapping[str, Provider]) -> list[IntegrationView]:
    rows = {row.kind: row for row in session.scalars(select(Integration).where(Integration.site_id == site.id))}
    return [IntegrationView(kind, provider.label, rows.get(kind)) for kind, provider in providers.items()]


def integration_of(session: Session, site: Site, providers: Mapping[str, Provider], kind: str) -> IntegrationView:
    provider = provider_of(providers, kind)
    row = session.scalar(select(Integration).where(Integration.site_id == site.id, Integration.kind == kind))
    return IntegrationView(kind, provider.label, row)


def connect(session: Session, site: Site, providers: Mapping[str, Provider], kind: str, body: dict[str, Any], *,
            box: SecretBox, now: datetime) -> IntegrationView:
    """Connect, or change the connection: the config replaced, the token replaced or kept, due now."""
    provider = provider_of(providers, kind)
    row = session.scalar(select(Integration).where(Integration.site_id == site.id, Integration.kind == kind))
    connection = provider.parse_config(body, site_domain=site.domain, current=None if row is None else row.config)
    if row is None:
        row = Integration(site_id=site.id, kind=kind, cursor={}, failures=0)
        session.add(row)
    elif row.config != connection.config:
        row.cursor = {}  # another repository, query or property: start over
    row.config = connection.config
    if not connection.keep_token:
        row.token = (None if connection.token is None
                     else box.seal(connection.token, context=token_context(site.id, kind)))
    row.state, row.message, row.failures = "pending", None, 0
    row.next_sync_at = now
    session.flush()
    return IntegrationView(kind, provider.label, row)


def disconnect(Session: sessionmaker[Session], events: EventStore, site_id: int, providers: Mapping[str, Provider],
               kind: str, *, delete_data: bool) -> None:
    """Forget the connection and its token; with `delete_data`, what its syncs stored too."""
    provider = provider_of(providers, kind)
    with Session.begin() as session:
        row = session.scalar(select(Integration).where(Integration.site_id == site_id, Integration.kind == kind))
        if row is None:
            raise NotFound("integration", kind)
        session.delete(row)
    if delete_data:
        provider.delete_data(Session, events, site_id)


def reseal_tokens(session: Session, box: SecretBox) -> tuple[int, int, int]:
    """`postmetric secrets rotate` for integration tokens: (re-sealed, already current, unreadable)."""
    resealed = current = unreadable = 0
    for row in session.scalars(select(Integration).where(Integration.token.is_not(None))):
        if not box.needs_sealing(row.token):
            current += 1
            continue
        context = token_context(row.site_id, row.kind)
        try:
            row.token = box.seal(box.open(row.token, context=context), context=context)
            resealed += 1
        except SecretUnreadable:
            unreadable += 1
    session.flush()
    return resealed, current, unreadable


def parse_delete_data(params: Mapping[str, str]) -> bool:
    value = params.get("delete_data", "false")
    if value not in ("true", "false"):
        raise ValidationError("delete_data", f"must be true or false, not {value[:40]!r}")
    return value == "true"
