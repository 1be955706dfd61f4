"""Helpers for the API tests: tenants with keys and tokens, members of a site, events sent over HTTP, SSE frames.

Also the fixtures those tests share, imported by name into a test module (which then overrides the
conftest's): `clock` frozen at `NOW`, and `owner`, the `site` fixture's owner as a tenant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson
import pytest
from starlette.testclient import TestClient

from postmetric.accounts.keys import create_account_token, create_site_key, revoke_account_token, revoke_site_key
from postmetric.accounts.users import create_user
from postmetric.config import Settings
from postmetric.sites.members import accept_invitation, invite
from postmetric.sites.service import create_site, get_site
from postmetric.store.database import create_engine, session_factory
from postmetric.store.metadata import User

from factories import CHROME_UA, Clock

# A Wednesday; Berlin is UTC+1 then.
NOW = datetime(2026, 3, 11, 12, 0, tzinfo=timezone.utc)
SAFARI_IPHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


@dataclass
class Tenant:
    """A user with one site, a live and a revoked site key, a live and a revoked account token."""

    email: str
    site_id: int
    public_id: str
    domain: str
    key: str
    token: str
    revoked_key: str
    revoked_token: str


def create_tenant(settings: Settings, *, email: str, domain: str, timezone_name: str = "UTC",
                  currency: str = "USD") -> Tenant:
    """The tenant, or (when the user and site already exist, as for the `site` fixture) keys for it.
    The metadata database must exist (the `site` fixture creates it)."""
    engine = create_engine(settings.metadata_url)
    try:
        with session_factory(engine)() as session:
            site = get_site(session, domain)
            if site is None:
                user = create_user(session, email=email, password="correct horse")
                site = create_site(session, owner=user, domain=domain, timezone=timezone_name, currency=currency)
            user = session.get(User, site.owner_id)
            _, key = create_site_key(session, site=site, name="stats")
            dead_key, revoked_key = create_site_key(session, site=site, name="old")
            _, token = create_account_token(session, user=user, name="stats")
            dead_token, revoked_token = create_account_token(session, user=user, name="old")
            revoke_site_key(session, site=site, key_id=dead_key.id, now=NOW)
            revoke_account_token(session, user=user, token_id=dead_token.id, now=NOW)
            session.commit()
            return Tenant(user.email, site.id, site.public_id, site.domain, key, token, revoked_key, revoked_token)
    finally:
        engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW.timestamp())


@pytest.fixture
def owner(settings, site) -> Tenant:
    """The `site` fixture's owner and site (example.com), with keys and tokens."""
    return create_tenant(settings, email="owner@example.com", domain="example.com")


def member_token(client: TestClient, site, email: str, role: str, *, now: datetime | None = None) -> str:
    """An account token of a new user who joined the site with `role` by accepting an invitation."""
    now = now or datetime.now(timezone.utc)
    with client.app.state.services.metadata() as session:
        user = create_user(session, email=email, password="correct horse battery")
        _, token = invite(session, get_site(session, site.public_id), email=email, role=role, acting_role="owner",
                          now=now)
        accept_invitation(session, token=token, user=user, now=now)
        _, raw = create_account_token(session, user=user, name="api")
        session.commit()
    return raw


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def pageview(tenant: Tenant, path: str = "/", *, visitor: str | None = None, session: str | None = None,
             at: datetime | None = None, ip: str = "81.2.69.142", user_agent: str = CHROME_UA,
             referrer: str = "", query: str = "", **fields) -> dict:
    """An event for `POST /api/v1/events`; `at` None means now (the app's clock)."""
    event = {"websiteId": tenant.public_id, "type": "pageview", "href": f"https://{tenant.domain}{path}{query}",
             "referrer": referrer, "ip": ip, "userAgent": user_agent,
             "visitorId": visitor or str(uuid.uuid4()), "sessionId": session or str(uuid.uuid4())} | fields
    if at is not None:
        event["timestamp"] = at.isoformat()
    return event


def send(client: TestClient, tenant: Tenant, events: list[dict]) -> None:
    """Ingest `events` with the tenant's site key and wait until they are queryable."""
    response = client.post("/api/v1/events", content=orjson.dumps(events), headers=bearer(tenant.key))
    assert response.status_code == 202, response.text
    assert response.json()["dropped"] == [], response.json()
    client.app.state.services.writer.flush()


def read_frame(chunks: Iterator[bytes], buffer: bytearray) -> tuple[str, dict] | None:
    """The next Server-Sent Events frame as (event, data), None when the stream ended."""
    while b"\n\n" not in buffer:
        chunk = next(chunks, None)
        if chunk is None:
            return None
        buffer.extend(chunk)
    end = buffer.index(b"\n\n")
    frame, buffer[:] = bytes(buffer[:end]).decode(), buffer[end + 2:]
    fields = dict(line.split(": ", 1) for line in frame.splitlines())
    return fields["event"], orjson.loads(fields["data"])
