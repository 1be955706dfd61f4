"""Settings → Integrations → Search Console in Chromium: "Connect with Google" through the OAuth round
trip (the local Google auto-approves), the property chosen from Google's list, "Sync now", and the
synced rows in the event store. The app's clock stands still, so the background job (which ran once
at start) never races the button."""

from __future__ import annotations

import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from playwright.sync_api import expect

from factories import Clock, hold_integrations_job
from live_app import add_site, free_port, serving, sign_up, watched_page
from postmetric.app import create_app
from postmetric.config import Settings

sys.path.insert(0, str(Path(__file__).parent.parent / "integrations"))  # the local Google lives there
from google_server import GoogleServer, daily_rows, recorded_rows  # noqa: E402

SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="module")
def google():
    server = GoogleServer()
    with serving(server.app) as base_url:
        server.base_url = base_url
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory, derived_data_dir, google):
    """(base URL, app) with Google pointing at the local server; the base URL must be known before the
    app starts, since it makes the OAuth redirect URI."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=tmp_path_factory.mktemp("search-console-e2e"), cache_dir=derived_data_dir,
                        ingest_rate_limit="", signup="open", base_url=url, google_api_url=google.base_url,
                        google_oauth_url=google.base_url, google_token_url=google.token_url,
                        google_client_id=google.client_id, google_client_secret=google.client_secret)
    hold_integrations_job(settings)
    app = create_app(settings, clock=Clock(time.time()))
    uvicorn_server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not uvicorn_server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the app did not start"
        time.sleep(0.05)
    yield url, app
    uvicorn_server.should_exit = True
    thread.join(timeout=30)


def test_connect_with_google_choose_a_property_and_sync(server, browser, google):
    url, app = server
    today = datetime.now(timezone.utc).astimezone(ZoneInfo("America/Los_Angeles")).date()
    google.rows["sc-domain:example.com"] = daily_rows(today - timedelta(days=2), today)
    with watched_page(browser) as page:
        sign_up(page, url, "owner@example.com")
        public_id, _ = add_site(page, "example.com")
        page.goto(f"{url}/sites/{public_id}/settings/integrations")
        card = page.locator("[data-integration=search_console]")
        expect(card.get_by_test_id("connect-google")).to_have_text("Connect with Google")

        card.get_by_test_id("connect-google").click()  # → Google → the callback → back here
        page.wait_for_url(f"{url}/sites/{public_id}/settings/integrations")
        card = page.locator("[data-integration=search_console]")
        expect(card).to_contain_text("Connected with a Google account")
        expect(card.get_by_test_id("integration-message")).to_have_text("choose a Search Console property")
        chooser = card.get_by_test_id("search-console-property")
        expect(chooser.locator("option")).to_have_count(4)  # the placeholder and three readable properties
        chooser.select_option("sc-domain:example.com")
        card.get_by_role("button", name="Use this property").click()
        expect(card.get_by_role("button", name="Change property")).to_be_disabled()

        card.get_by_role("button", name="Sync now").click()
        expect(card.get_by_test_id("integration-status")).to_contain_text("Synced just now")
        expect(card.get_by_test_id("integration-status")).to_contain_text(f"{3 * len(recorded_rows())} search rows")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "integrations_search_console.png"), full_page=True)

    stored = app.state.services.events.fetch("SELECT count(*) AS n, sum(clicks) AS clicks FROM search_console")
    assert stored == [{"n": 3 * len(recorded_rows()), "clicks": 3 * sum(r["clicks"] for r in recorded_rows())}]
    [authorize] = [r.query for r in google.requests if r.path == "/o/oauth2/v2/auth"]
    assert authorize["redirect_uri"] == f"{url}/integrations/google/callback"
