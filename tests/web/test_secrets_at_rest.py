"""Webhook signing secrets at rest: sealed in the metadata database, opened only with the instance's key.

The secret is set the way an owner sets it (the Revenue settings API) or left in plaintext the way an
earlier version stored it; then every file of the data dir is read for it. Deliveries signed the way
Paddle signs them show the sealed secret still verifies, across a key rotation, and that a key that
cannot open it makes the provider unconfigured (a 400 and a log line), never a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from postmetric import cli
from postmetric.app import create_app
from postmetric.revenue.providers.settings import set_webhook_secret
from postmetric.secrets_box import SecretBox
from postmetric.store.database import create_engine, session_factory
from postmetric.store.metadata import RevenueProvider

from stats_api_support import bearer, create_tenant

SECRET = "pdl_ntfset_01jnq0a1b2c3d4e5f6g7h8j9k0_5Xy7Zq1Rk3Mn8Pw2Lv6Tc4Bd9Hf0Js"
PAYLOAD = Path(__file__).resolve().parents[1] / "revenue" / "payloads" / "paddle" / "transaction.completed.json"


@pytest.fixture
def settings(settings, metadata_url):
    """Each test on SQLite in the data dir, and on PostgreSQL when POSTMETRIC_TEST_DATABASE_URL is set."""
    return settings.model_copy(update={"database_url": metadata_url})


def stored_under(settings) -> Path:
    """The test's directory: the data dir and (on SQLite) the metadata file beside it."""
    return settings.data_dir.parent


def files_holding(data_dir: Path, needle: bytes) -> list[str]:
    return sorted(str(path.relative_to(data_dir)) for path in data_dir.rglob("*")
                  if path.is_file() and needle in path.read_bytes())


def deliver(client: TestClient, public_id: str) -> int:
    body = PAYLOAD.read_bytes()
    at = int(client.app.state.services.clock())
    signature = hmac.new(SECRET.encode(), f"{at}:".encode() + body, hashlib.sha256).hexdigest()
    response = client.post(f"/api/webhooks/paddle/{public_id}", content=body,
                           headers={"Content-Type": "application/json", "Paddle-Signature": f"ts={at};h1={signature}"})
    return response.status_code


def store_secret(settings, site_id: int, secret_box: SecretBox | None) -> None:
    """Set the secret directly: sealed with `secret_box`, or as plaintext like versions before sealing."""
    engine = create_engine(settings.metadata_url)
    with session_factory(engine).begin() as session:
        if secret_box is None:
            session.add(RevenueProvider(site_id=site_id, provider="paddle", webhook_secret=SECRET))
        else:
            set_webhook_secret(session, site_id=site_id, provider="paddle", secret=SECRET, secret_box=secret_box)
    engine.dispose()


def stored_value(settings, site_id: int) -> str:
    engine = create_engine(settings.metadata_url)
    with session_factory(engine)() as session:
        value = session.get(RevenueProvider, (site_id, "paddle")).webhook_secret
    engine.dispose()
    return value


def test_a_secret_set_through_the_api_is_in_no_file_of_the_data_dir(client, settings, site):
    tenant = create_tenant(settings, email="owner@example.com", domain="example.com")
    response = client.put(f"/api/v1/sites/{site.public_id}/revenue/paddle", json={"webhook_secret": SECRET},
                          headers=bearer(tenant.token))
    assert response.status_code == 200 and response.json()["secret_set"] is True
    assert deliver(client, site.public_id) == 200  # sealed, and still the key that verifies signatures
    assert files_holding(stored_under(settings), SECRET.encode()) == []
    assert files_holding(stored_under(settings), SECRET[-20:].encode()) == []
    assert stored_value(settings, site.id).startswith("pmenc:v1:")


def test_a_secret_stored_in_plaintext_by_an_earlier_version_is_sealed_at_start(settings, site, clock):
    store_secret(settings, site.id, None)
    if settings.metadata_url.startswith("sqlite"):  # what an upgraded install starts with
        assert files_holding(stored_under(settings), SECRET.encode())
    with TestClient(create_app(settings, clock=clock)) as client:
        assert files_holding(stored_under(settings), SECRET.encode()) == []
        assert deliver(client, site.public_id) == 200
    assert stored_value(settings, site.id).startswith("pmenc:v1:")


def rotate(monkeypatch, capsys, settings, key: str, previous: str = "") -> tuple[int, dict, str]:
    monkeypatch.setenv("POSTMETRIC_SECRET_KEY", key)
    monkeypatch.setenv("POSTMETRIC_SECRET_KEY_PREVIOUS", previous)
    monkeypatch.setenv("POSTMETRIC_DATABASE_URL", settings.metadata_url)
    status = cli.main(["secrets", "rotate", "--data-dir", str(settings.data_dir)])
    out, err = capsys.readouterr()
    return status, json.loads(out), err


def test_rotation_reseals_under_the_new_key_and_a_wrong_key_is_a_clear_refusal(
        settings, site, clock, monkeypatch, capsys, caplog):
    store_secret(settings, site.id, SecretBox("key A"))

    def status_with(secret_key: str, *previous: str) -> int:
        rotated = settings.model_copy(update={"secret_key": secret_key, "secret_key_previous": previous})
        with TestClient(create_app(rotated, clock=clock)) as client:
            return deliver(client, site.public_id)

    with caplog.at_level(logging.ERROR, logger="postmetric.revenue.providers.settings"):
        assert status_with("key B") == 400  # as if no secret were set: not a 500, not a forged 200
    assert "paddle webhook secret of site" in caplog.text and "POSTMETRIC_SECRET_KEY_PREVIOUS" in caplog.text
    assert status_with("key B", "key A") == 200

    assert rotate(monkeypatch, capsys, settings, "key C")[:2] == (2, {"resealed": 0, "already_current": 0,
                                                                     "unreadable": 1})
    assert rotate(monkeypatch, capsys, settings, "key B", "key A")[:2] == (0, {"resealed": 1, "already_current": 0,
                                                                              "unreadable": 0})
    assert status_with("key B") == 200  # the previous key is no longer needed
    assert status_with("key A") == 400
    assert rotate(monkeypatch, capsys, settings, "key B")[:2] == (0, {"resealed": 0, "already_current": 1,
                                                                     "unreadable": 0})
    status, _, err = rotate(monkeypatch, capsys, settings, "key D", "key A")
    assert status == 2 and "POSTMETRIC_SECRET_KEY_PREVIOUS" in err
