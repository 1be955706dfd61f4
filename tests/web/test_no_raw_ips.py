"""No raw client IP is kept anywhere: not in the data dir's files, not in Redis, not in the log.

Visitors at two distinctive addresses (IPv4 and IPv6) reach every path that sees an address:
the tracker endpoint and pixel, server-side events, goals and identify calls naming the visitor's
`ip`, a failed login and a share-password guess (the per-address limits); the site is cookieless,
so the address feeds the visitor hash too. Then every file under the data dir (DuckDB, SQLite and
its WAL, journal segments, caches), every Redis key and value, and every log record are searched
for the addresses, as text and as packed bytes, while the app runs and after it stopped.
"""

from __future__ import annotations

import ipaddress
import logging
import struct
import uuid
from pathlib import Path

import orjson
import pytest
import redis
from starlette.testclient import TestClient

from postmetric.app import create_app

from factories import CHROME_UA
from stats_api_support import bearer, create_tenant

ADDRESSES = ("81.2.69.173", "2a02:8010:6c8e:173::42")
REDIS_URL = "redis://127.0.0.1:6379/11"


def forms(address: str) -> list[bytes]:
    """How an address could be written down: as text (also the long IPv6 form), and packed."""
    ip = ipaddress.ip_address(address)
    found = [str(ip).encode(), ip.exploded.encode(), ip.packed]
    if ip.version == 4:
        found += [struct.pack("<I", int(ip)), str(int(ip)).encode()]
    return found


@pytest.fixture
def site_changes() -> dict:
    return {"cookieless": True}  # the address feeds the visitor hash


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"redis_url": REDIS_URL, "ingest_rate_limit": "6000/minute",
                                       "login_rate_limit": "10/15 minutes"})


def redis_leaks(client: redis.Redis, existing: set[bytes]) -> list[str]:
    """Leaks in the keys this test made (other runs' keys are not this run's doing)."""
    leaks = []
    for key in client.scan_iter(count=1000):
        if key in existing:
            continue
        value = client.dump(key) or b""
        for address in ADDRESSES:
            if any(form in key or form in value for form in forms(address)):
                leaks.append(f"{key!r} holds {address}")
    return leaks


def file_leaks(data_dir: Path) -> list[str]:
    leaks = []
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file():
            continue
        content = path.read_bytes()
        leaks += [f"{path.relative_to(data_dir)} holds {address}" for address in ADDRESSES
                  if any(form in content for form in forms(address))]
    return leaks


def visit_from(client: TestClient, address: str, site, tenant, share_unlock: str) -> None:
    """Everything a visitor (and a guesser) at `address` can send that the server sees the address of."""
    at = TestClient(client.app, base_url="https://testserver", client=(address, 50000),
                    headers={"user-agent": CHROME_UA})
    at.portal = client.portal  # the running app's event loop: ingestion awaits the writer there
    page = {"websiteId": site.public_id, "type": "pageview", "href": "https://example.com/pricing"}
    assert at.post("/api/events", content=orjson.dumps(page), headers={"Content-Type": "text/plain"}).status_code == 202
    assert at.get("/api/events.gif", params={**page, "href": "https://example.com/pixel"}).status_code == 200
    visitor = str(uuid.uuid4())
    server_event = {"websiteId": site.public_id, "type": "pageview", "href": "https://example.com/server",
                    "ip": address, "userAgent": CHROME_UA, "visitorId": visitor}
    response = client.post("/api/v1/events", content=orjson.dumps([server_event]), headers=bearer(site.key))
    assert response.status_code == 202, response.text
    for path, body in (("/api/v1/goals", {"name": "signup"}), ("/api/v1/identify", {"user_id": "u1"})):
        response = client.post(path, json={"visitor_id": visitor, "ip": address, **body}, headers=bearer(site.key))
        assert response.status_code == 202, response.text
    assert at.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "wrong guess"}
                   ).status_code == 401
    assert at.post(share_unlock, json={"password": "wrong guess"}).status_code == 401


def test_no_raw_client_ip_is_kept_in_files_redis_or_logs(settings, site, clock, caplog):
    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {REDIS_URL} is needed: {error}")
    existing = set(store.scan_iter(count=1000))
    tenant = create_tenant(settings, email="owner@example.com", domain="example.com")
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app(settings, clock=clock)) as client:
        sharing = client.put(f"/api/v1/sites/{site.public_id}/sharing", headers=bearer(tenant.token),
                             json={"enabled": True, "password": "open sesame!"})
        unlock = f"/api/v1/share/{sharing.json()['token']}/unlock"
        for address in ADDRESSES:
            visit_from(client, address, site, tenant, unlock)
        assert file_leaks(settings.data_dir) == []  # the journal still holds the rows
        client.app.state.services.writer.flush()
        stored = client.app.state.services.events.fetch(
            "SELECT count(*) AS n FROM events WHERE site_id = $site", {"site": site.id})
        assert stored[0]["n"] >= 8  # the events did arrive
        made = set(store.scan_iter(count=1000)) - existing
        assert any(b":ratelimit:ingest:" in key for key in made)  # the limits did count in Redis
        assert redis_leaks(store, existing) == []
    assert file_leaks(settings.data_dir) == []
    assert redis_leaks(store, existing) == []
    assert [address for address in ADDRESSES if address in caplog.text] == []
    store.close()
