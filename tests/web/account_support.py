"""Helpers for the account and sites API tests: a real SMTP server, logging in, reading mails."""

from __future__ import annotations

import email
import re
import socket
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller
from starlette.testclient import TestClient

PASSWORD = "correct horse battery"


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001 - aiosmtpd's objects
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"

    def link(self, pattern: str) -> str:
        """The first URL matching `pattern` in the newest message."""
        body = self.messages[-1].get_content()
        return re.search(pattern, body).group(0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_smtp() -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, inbox


def signup(client: TestClient, email_address: str, password: str = PASSWORD) -> str:
    """Sign up (the client keeps the cookie); the session's CSRF token."""
    response = client.post("/api/v1/auth/signup", json={"email": email_address, "password": password})
    assert response.status_code == 201, response.text
    return response.json()["csrf_token"]


def browser(client: TestClient) -> TestClient:
    """Another browser on the same running app: its own cookie jar, over https (so Secure cookies come back)."""
    return TestClient(client.app, base_url="https://testserver", headers={"user-agent": client.headers["user-agent"]})
