"""Helpers for the account and sites API tests: signing up, a second browser, the SMTP server."""

from __future__ import annotations

from starlette.testclient import TestClient


PASSWORD = "correct horse battery"


def signup(client: TestClient, email_address: str, password: str = PASSWORD) -> str:
    """Sign up (the client keeps the cookie); the session's CSRF token."""
    response = client.post("/api/v1/auth/signup", json={"email": email_address, "password": password})
    assert response.status_code == 201, response.text
    return response.json()["csrf_token"]


def browser(client: TestClient) -> TestClient:
    """Another browser on the same running app: its own cookie jar, over https (so Secure cookies come back)."""
    return TestClient(client.app, base_url="https://testserver", headers={"user-agent": client.headers["user-agent"]})
