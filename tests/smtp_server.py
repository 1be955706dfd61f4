"""A real SMTP server (aiosmtpd) in a thread, keeping what it receives, for the mail tests."""

from __future__ import annotations

import email
import re
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller

from live_app import free_port


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


def start_smtp() -> tuple[Controller, Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, inbox
