"""Settings → Integrations → GitHub in headless Chromium against the real server, whose GitHub API
(`POSTMETRIC_GITHUB_API_URL`) is the local one of tests/integrations/github_server.py: connecting a
repository with a token, "Sync now" and "Synced just now", then a rejected token's error state;
screenshots go to `tests/dashboard/screenshots/`."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from postmetric.app import create_app
from postmetric.config import Settings
from postmetric.web.routes.dashboard import DASHBOARD_DIR

from factories import hold_integrations_job
from live_app import add_site, serving, sign_up, watched_page

sys.path.insert(0, str(Path(__file__).parent.parent / "integrations"))
from github_server import GitHubFake  # noqa: E402 - the local GitHub API lives with the integration tests

SCREENSHOTS = Path(__file__).parent / "screenshots"
TOKEN = "github_pat_11AAAAAAA0_e2e_token_for_the_dashboard"

pytestmark = pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file(), reason="the dashboard is not built: run `make install`"
)


@pytest.fixture(scope="module")
def github():
    """GitHub with acme/shop: three commits of the last days and a release, readable with `TOKEN`."""
    fake = GitHubFake(time.time)  # the served app runs on the real clock
    fake.start()
    fake.tokens.add(TOKEN)
    shop = fake.repository("acme/shop", private=True)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    shop.commit("Checkout: one page instead of three", now - timedelta(days=2), additions=240, deletions=310)
    shop.commit("Pricing page: yearly plans first", now - timedelta(days=1))
    shop.commit("Fix the signup button on Safari", now - timedelta(hours=3), login="ada")
    shop.release("v2.4.0", now - timedelta(hours=2), name="Faster checkout")
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, derived_data_dir, github):
    """(base URL, app): the app under uvicorn, with its GitHub API pointed at the local one."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("github-e2e"), cache_dir=derived_data_dir,
                        ingest_rate_limit="", github_api_url=github.base_url)
    hold_integrations_job(settings)
    app = create_app(settings)
    with serving(app) as url:
        yield url, app


def test_connecting_github_syncs_commits_and_a_bad_token_shows_its_state(browser, server, github):
    url, _app = server
    with watched_page(browser, viewport={"width": 1280, "height": 900}) as page:
        sign_up(page, url, "owner@github-e2e.example")
        public_id, _snippet = add_site(page, "github-e2e.example")
        page.goto(f"{url}/sites/{public_id}/settings/integrations")
        card = page.locator('section[data-integration="github"]')
        expect(card.get_by_test_id("integration-status")).to_have_text("Not connected")
        expect(card).to_contain_text("Contents: Read-only")

        card.get_by_label("Repository", exact=True).fill("acme/shop")
        card.get_by_label("Token (optional, for private repositories)").fill(TOKEN)
        card.get_by_role("button", name="Connect").click()
        expect(card.get_by_role("button", name="Sync now")).to_be_visible()
        token_field = card.get_by_label("Token (optional, for private repositories)")
        expect(token_field).to_have_value("")
        expect(token_field).to_have_attribute("placeholder", "a token is stored — leave empty to keep it")

        card.get_by_role("button", name="Sync now").click()
        status = card.get_by_test_id("integration-status")
        expect(status).to_have_text("Synced just now · 3 new commits on main, 1 new release")
        assert any(request.headers.get("authorization") == f"Bearer {TOKEN}" for request in github.requests)
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "integrations-github-synced.png", full_page=True)

        token_field.fill("ghp_revokedRevokedRevoked0123456789")
        card.get_by_role("button", name="Save").click()
        expect(status).to_contain_text("Connected")
        card.get_by_role("button", name="Sync now").click()
        expect(status).to_have_text("Token rejected — reconnect")
        expect(card.get_by_test_id("integration-message")).to_have_text(
            "token rejected by GitHub (bad credentials) — create a new token and reconnect")
        page.screenshot(path=SCREENSHOTS / "integrations-github-token-rejected.png", full_page=True)
