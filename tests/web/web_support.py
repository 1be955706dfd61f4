"""Helpers for the web tests (importable, unlike conftest)."""

from starlette.testclient import TestClient


def stored_events(client: TestClient) -> list[dict]:
    """What the store holds once every acknowledged event is loaded."""
    client.app.state.services.writer.flush()
    return client.app.state.services.events.fetch("SELECT * FROM events ORDER BY timestamp, pathname")
