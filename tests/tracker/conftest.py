"""Browser tests of the tracking script: real Chromium, the real server, pages on fake hostnames.

- The Postmetric app runs under uvicorn in a thread, on its own data dir, so tests can read
  what it stored (`stored_events`).
- Test pages are served by a small HTTP server; every `*.test` hostname resolves to
  127.0.0.1 inside Chromium (`--host-resolver-rules`), so pages can live on several sites.
- Chromium starts without the automation switch, so `navigator.webdriver` is false like in a
  person's browser; `automated_browser` keeps it, to prove such browsers are not tracked.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import pytest
from playwright.sync_api import sync_playwright

from postmetric.accounts.users import create_user
from postmetric.app import create_app
from postmetric.config import Settings
from postmetric.sites.service import create_site
from postmetric.store.database import create_engine, migrate, session_factory
from postmetric.web.routes.tracker import SCRIPT_DIR

from live_app import CHROMIUM, MAP_TEST_HOSTS, Pages, serving
from live_app import CHROMIUM_ARGS as BASE_CHROMIUM_ARGS
from tracker_pages import DESKTOP_CHROME

CHROMIUM_ARGS = [*BASE_CHROMIUM_ARGS, "--disable-quic", MAP_TEST_HOSTS]


@dataclass
class LiveServer:
    url: str
    app: object
    settings: Settings

    @property
    def services(self):
        return self.app.state.services

    def wait_for(self, site_id: int, done, timeout: float = 10.0) -> list[dict]:
        """The site's stored events once `done(events)` holds (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while True:
            rows = self.stored_events(site_id)
            if done(rows) or time.monotonic() >= deadline:
                return rows
            time.sleep(0.05)

    def stored_events(self, site_id: int, *, expect: int = 0, timeout: float = 10.0) -> list[dict]:
        """The site's stored events, once at least `expect` of them arrived (the tracker sends
        asynchronously). To show that nothing was sent, wait for the page's network to go
        idle first, then call with `expect=0`."""
        deadline = time.monotonic() + timeout
        while True:
            self.services.writer.flush()
            rows = self.services.events.fetch(
                "SELECT * FROM events WHERE site_id = $site ORDER BY timestamp", {"site": site_id}
            )
            if len(rows) >= expect or time.monotonic() >= deadline:
                return rows
            time.sleep(0.05)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, derived_data_dir):
    if not (SCRIPT_DIR / "script.js").exists():
        pytest.fail("the tracking script is not built: run `make install`")
    settings = Settings(data_dir=tmp_path_factory.mktemp("live"), cache_dir=derived_data_dir)
    app = create_app(settings)
    with serving(app) as url:
        yield LiveServer(url, app, settings)


@dataclass
class TestSite:
    id: int
    public_id: str
    domain: str


@pytest.fixture
def site(live_server) -> TestSite:
    """A new site on its own `*.test` domain, so tests never see each other's events."""
    domain = f"s{uuid.uuid4().hex[:10]}.test"
    engine = create_engine(live_server.settings.metadata_url)
    migrate(engine)
    with session_factory(engine).begin() as session:
        owner = create_user(session, email=f"owner-{domain}@example.com", password="correct horse")
        created = create_site(session, owner=owner, domain=domain)
        result = TestSite(created.id, created.public_id, created.domain)
    engine.dispose()
    return result


@pytest.fixture(scope="session")
def pages():
    served = Pages()
    yield served
    served.close()


@pytest.fixture
def page_url(pages):
    def url(site: TestSite, path: str, host: str | None = None) -> str:
        return f"http://{host or site.domain}:{pages.port}{path}"

    return url


@pytest.fixture
def snippet(live_server):
    """The `<script>` tag a site owner pastes, with extra data-* attributes."""

    def tag(site: TestSite, **attributes: str) -> str:
        extra = "".join(f' data-{name.replace("_", "-")}="{value}"' for name, value in attributes.items())
        return (f'<script defer data-website-id="{site.public_id}"{extra} '
                f'src="{live_server.url}/js/script.js"></script>')

    return tag


# Module scope, not session: sync Playwright keeps an event loop running in this thread
# until it stops, which would break later tests that call asyncio.run().
@pytest.fixture(scope="module")
def playwright_instance():
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, "--disable-blink-features=AutomationControlled"],
        ignore_default_args=["--enable-automation"],
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def automated_browser(playwright_instance):
    """Chromium as automation tools start it: `navigator.webdriver` is true."""
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(user_agent=DESKTOP_CHROME, viewport={"width": 1280, "height": 800})
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    page.console_messages = messages
    yield page
    assert not [m for m in messages if m.startswith("pageerror")], messages
