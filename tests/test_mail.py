"""Mail: the SMTP URL forms, and a message delivered to a real (aiosmtpd) server."""

import pytest

from postmetric.mail import Mailer

from smtp_server import start_smtp


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example.com", ("smtp", "mail.example.com", 25, None, None, "pm@example.com")),
    ("smtp+starttls://u%40x:p%3Ass@mail.example.com", ("smtp+starttls", "mail.example.com", 587, "u@x", "p:ss",
                                                        "pm@example.com")),
    ("smtps://u:p@mail.example.com:2465?from=stats@example.com",
     ("smtps", "mail.example.com", 2465, "u", "p", "stats@example.com")),
])
def test_smtp_urls(url, expected):
    mailer = Mailer.from_url(url, default_sender="pm@example.com")
    assert (mailer.scheme, mailer.host, mailer.port, mailer.username, mailer.password, mailer.sender) == expected


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="smtp://user:pass@host:port"):
        Mailer.from_url("http://mail.example.com", default_sender="pm@example.com")


def test_a_message_reaches_the_server():
    controller, inbox = start_smtp()
    try:
        mailer = Mailer.from_url(f"smtp://{controller.hostname}:{controller.port}", default_sender="pm@example.com")
        mailer.send(to="ada@example.com", subject="Hello", text="Line one\n")
    finally:
        controller.stop()
    [message] = inbox.messages
    assert (message["From"], message["To"], message["Subject"]) == ("pm@example.com", "ada@example.com", "Hello")
    assert message.get_content().strip() == "Line one"
