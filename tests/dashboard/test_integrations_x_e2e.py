"""Settings → Integrations → X in headless Chromium, against the real server pointed at the local X API
(`POSTMETRIC_X_API_URL`, tests/integrations/x_server.py): connect with a bearer token (never shown back),
sync now, add a post by its URL without a token; screenshots go to `tests/dashboard/screenshots/`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from postmetric.app import create_app
from postmetric.config import Settings
from postmetric.web.routes.dashboard import DASHBOARD_DIR

from factories import hold_integrations_job
from live_app import add_site, serving, sign_up, watched_page

sys.path.insert(0, str(Path(__file__).parent.parent / "integrations"))
from x_server import XApi, fixture, x_api_server  # noqa: E402 - beside the X integration's tests

SCREENSHOTS = Path(__file__).parent / "screenshots"
TOKEN = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0w"
NEWEST = fixture("search_recent.json")["meta"]["newest_id"]

pytestmark = pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file(), reason="the dashboard is not built: run `make install`"
)


@pytest.fixture(scope="module")
def x_api():
    api = XApi()
    api.tokens.add(TOKEN)
    with x_api_server(api) as url:
        yield api, url


@pytest.fixture(scope="module")
def server(tmp_path_factory, derived_data_dir, x_api):
    """The app with POSTMETRIC_X_API_URL at the local X API; its background job is another node's, so the only
    sync is the one the test asks for."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("POSTMETRIC_X_API_URL", x_api[1])
        settings = Settings(data_dir=tmp_path_factory.mktemp("x-e2e"), cache_dir=derived_data_dir,
                            ingest_rate_limit="")
    assert settings.x_api_url == x_api[1]
    hold_integrations_job(settings)
    app = create_app(settings)
    with serving(app) as url:
        yield url, app


def test_connecting_x_syncing_and_adding_a_post_by_url(browser, server, x_api):
    url, _app = server
    api, _x_url = x_api
    with watched_page(browser, viewport={"width": 1100, "height": 1300}) as page:
        sign_up(page, url, "owner@mentions.example")
        public_id, _snippet = add_site(page, "mentions.example")
        page.goto(f"{url}/sites/{public_id}/settings/integrations")
        card = page.locator("[data-integration=x]")
        expect(card.get_by_test_id("integration-status")).to_have_text("Not connected")
        expect(card).to_contain_text('("mentions.example" OR url:"mentions.example") -is:retweet')

        card.get_by_label("Handle (optional)").fill("@mentionsapp")
        expect(card).to_contain_text('("mentions.example" OR url:"mentions.example" OR @mentionsapp) -is:retweet')
        card.get_by_label("Bearer token").fill(TOKEN)
        card.get_by_role("button", name="Connect X").click()
        expect(card.get_by_test_id("integration-status")).to_contain_text("Connected")
        expect(card.get_by_label("Bearer token")).to_have_value("")
        expect(card.get_by_label("Bearer token")).to_have_attribute("placeholder", "stored (leave empty to keep it)")

        card.get_by_role("button", name="Sync now").click()
        expect(card.get_by_test_id("integration-status")).to_contain_text("5 new posts")
        assert api.requests[-1].authorization == f"Bearer {TOKEN}"
        assert api.requests[-1].params["query"] == (
            '("mentions.example" OR url:"mentions.example" OR @mentionsapp) -is:retweet')
        assert TOKEN not in page.content()

        post_url = card.get_by_label("Post URL")
        post_url.fill("https://twitter.com/grace_ships")
        card.get_by_role("button", name="Add post").click()
        expect(card.get_by_role("alert")).to_contain_text("url: must be the URL of a post on X")
        post_url.fill("https://mobile.twitter.com/someone_new/status/2129300000000000000")
        card.get_by_role("button", name="Add post").click()
        expect(card.get_by_role("status")).to_contain_text("Added @someone_new's post of")
        expect(post_url).to_have_value("")

        SCREENSHOTS.mkdir(exist_ok=True)
        card.screenshot(path=SCREENSHOTS / "integrations-x.png")

        listed = page.evaluate(f"fetch('/api/v1/sites/{public_id}/annotations').then((r) => r.json())")
        by_id = {item["external_id"]: item for item in listed["annotations"]}
        assert len(by_id) == 6
        assert by_id[NEWEST]["author"] == "@adabuilds"
        assert by_id["2129300000000000000"]["time"] == "2026-12-05T19:40:55.137000Z"
