"""Helpers for the web tests (importable, unlike conftest)."""

from starlette.testclient import TestClient

# The in-process client's socket address: a first-party proxy (trusted by the `settings` fixture), so the
# tests' X-Postmetric-IP headers stand for visitors' addresses. TestClient's default peer, "testclient",
# is not an address, and no proxy setting could make it one.
PROXY_PEER = ("127.0.0.1", 50000)
TRUSTED_PROXIES = ("127.0.0.1",)


def stored_events(client: TestClient) -> list[dict]:
    """What the store holds once every acknowledged event is loaded."""
    client.app.state.services.writer.flush()
    return client.app.state.services.events.fetch("SELECT * FROM events ORDER BY timestamp, pathname")
