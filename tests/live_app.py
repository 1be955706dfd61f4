"""Real servers in the test process, for browser tests: the Postmetric app under uvicorn in
a thread, and a tiny server for test pages; and how Chromium is launched for them.

Secondary: what the dashboard tests do through the UI and the API more than once (open a page
watched for errors, sign up, add a site, accept an invitation, log in an API client with the CSRF
header)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# Every `*.test` hostname is this machine inside Chromium, so test pages can live on many sites.
MAP_TEST_HOSTS = "--host-resolver-rules=MAP *.test 127.0.0.1"
# As a person's browser: `navigator.webdriver` is false (with the automation switch left out), so
# the tracking script tracks; test pages can be on any `*.test` host.
AS_A_PERSON_ARGS = [*CHROMIUM_ARGS, "--disable-quic", MAP_TEST_HOSTS, "--disable-blink-features=AutomationControlled"]
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app) -> Iterator[str]:
    """Runs `app` (lifespan included) on a free port until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class Pages:
    """Serves the HTML registered with `add`, whatever the Host header says."""

    def __init__(self) -> None:
        self.documents: dict[str, str] = {}
        documents = self.documents

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = documents.get(self.path.split("?", 1)[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, path: str, html: str) -> None:
        self.documents[path] = html

    def close(self) -> None:
        self.server.shutdown()


@contextmanager
def chromium(*, as_a_person: bool = False) -> Iterator[Browser]:
    """Headless Chromium until the block ends; `as_a_person` launches it with `AS_A_PERSON_ARGS`
    and without `--enable-automation`."""
    with sync_playwright() as playwright:
        if as_a_person:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=AS_A_PERSON_ARGS,
                                                 ignore_default_args=["--enable-automation"])
        else:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def page_errors(page: Page) -> list[str]:
    """The page's uncaught errors from now on, filled in as they happen; anything the
    Content-Security-Policy blocked counts too (Chromium reports it only on the console)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    return errors


@contextmanager
def watched_page(browser: Browser, **context_options) -> Iterator[Page]:
    """A page in a new browser context; when the block ends, the page had no uncaught error and
    the context is closed."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    errors = page_errors(page)
    yield page
    assert not errors, errors
    context.close()


def sign_up(page: Page, url: str, email: str) -> None:
    """Submits the dashboard's sign-up form; the page's context keeps the session."""
    page.goto(f"{url}/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()


def add_site(page: Page, domain: str) -> tuple[str, str]:
    """Adds `domain` (timezone UTC) from the sites list; its public id and the snippet shown."""
    page.get_by_role("link", name="Add a site").click()
    page.get_by_label("Domain").fill(domain)
    page.get_by_label("Timezone").fill("UTC")
    page.get_by_role("button", name="Add site").click()
    snippet = page.locator("pre code")
    expect(snippet).to_contain_text('data-website-id="pm_')
    snippet_html = snippet.inner_text()
    return re.search(r'data-website-id="([^"]+)"', snippet_html).group(1), snippet_html


def api_client(url: str, email: str) -> httpx.Client:
    """An API client logged in as `email`, sending the session's CSRF token on every request."""
    client = httpx.Client(base_url=url)
    answer = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def invite(owner: httpx.Client, site: str, email: str, role: str) -> str:
    """Invites `email` to the site through the API; the invitation's token."""
    invited = owner.post(f"/api/v1/sites/{site}/members", json={"email": email, "role": role})
    assert invited.status_code in (200, 201), invited.text
    return invited.json()["url"].rsplit("/invitations/", 1)[1]


def accept_invitation_signing_up(page: Page, url: str, token: str, email: str) -> None:
    """Opens the invitation, signs up as `email` from it and accepts it."""
    page.goto(f"{url}/invitations/{token}")
    page.get_by_role("link", name="sign up").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("button", name="Accept").click()


def wait_for(condition, what: str, timeout: float = 20.0):
    """Polls `condition` until it returns something truthy: the tracker sends asynchronously and
    the writer commits about a second after acknowledging."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
