"""Outgoing mail over SMTP (stdlib `smtplib`), configured by one URL.

`POSTMETRIC_SMTP_URL` forms: `smtp://user:pass@host:25` (plain, port 25 by default),
`smtp+starttls://user:pass@host:587` (upgrades with STARTTLS, port 587) and
`smtps://user:pass@host:465` (TLS from the start, port 465). The sender is `?from=addr`, or
`postmetric@<host of the base URL>`.

`Mailer.send` blocks: the routes call it in the thread pool.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class Mailer:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def from_url(cls, url: str, *, default_sender: str) -> Mailer:
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"POSTMETRIC_SMTP_URL must look like smtp://user:pass@host:port, "
                             f"smtps://… or smtp+starttls://…; got scheme {parts.scheme!r}")
        sender = parse_qs(parts.query).get("from", [default_sender])[0]
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=parts.port or _DEFAULT_PORTS[parts.scheme],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=sender,
        )

    def send(self, *, to: str, subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(text)
        if self.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT_SECONDS,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)
        with client:
            if self.scheme == "smtp+starttls":
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)
