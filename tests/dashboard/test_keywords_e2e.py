"""The Sources panel's Keywords tab in headless Chromium against the real server (issue 17, item 4).

A user signs up and adds `keywords.example` in the dashboard. Search Console rows are written through the
event store, as the Search Console sync writes them (its own tests are the gsc helper's); the site's
integration row says it is connected. Without that row the tab explains how to connect Search Console and
shows the `utm_term` keywords of a visit sent with a site key. Screenshots go to
`tests/dashboard/screenshots/`.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from factories import CHROME_UA
from live_app import add_site, page_errors, sign_up, watched_page
from postmetric.store.metadata import Integration, Site
from postmetric.store.search import SearchRow
from postmetric.web.routes.dashboard import DASHBOARD_DIR

SCREENSHOTS = Path(__file__).parent / "screenshots"

pytestmark = pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file(), reason="the dashboard is not built: run `make install`"
)


def _rows(today) -> list[SearchRow]:
    """Three queries over the last days (Search Console lags two days), and one from the week before."""
    def row(days_ago: int, query: str, path: str, clicks: int, impressions: int, position: float, **more):
        return SearchRow(day=today - timedelta(days=days_ago), query=query, page=f"https://keywords.example{path}",
                         path=path, country=more.get("country", "DE"), device=more.get("device", "desktop"),
                         clicks=clicks, impressions=impressions, position=position)

    return [
        row(2, "keywords example", "/", 40, 80, 1.0),
        row(3, "keywords example", "/pricing", 8, 20, 2.5, device="mobile"),
        row(3, "self-hosted analytics", "/blog/self-hosted", 6, 300, 8.4, country="US"),
        row(4, "self-hosted analytics", "/pricing", 1, 100, 14.0),
        row(5, "analytics with revenue", "/pricing", 0, 50, 22.0, country="FR"),
        row(9, "keywords example", "/", 10, 40, 1.5),  # the previous 7 days
    ]


def _site_with_key(page, url: str, domain: str) -> tuple[str, str]:
    """A site added in the dashboard, and a site key made for it there."""
    page.goto(f"{url}/sites")
    public_id, _snippet = add_site(page, domain)
    page.goto(f"{url}/sites/{public_id}/settings/keys")
    page.get_by_label("New key name").fill("backend")
    page.get_by_role("button", name="Create").click()
    return public_id, page.get_by_test_id("new-key").inner_text()


@pytest.fixture(scope="module")
def sites(server, browser):
    """Two sites of one owner: `plain` has no Search Console, `connected` will."""
    url, app = server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = page_errors(page)
    sign_up(page, url, "owner@keywords.example")
    expect(page.get_by_role("link", name="Add a site")).to_be_visible()  # signed in
    made = {name: _site_with_key(page, url, domain)
            for name, domain in (("plain", "plain.example"), ("connected", "keywords.example"))}
    assert not errors, errors
    state = context.storage_state()
    context.close()
    with app.state.services.metadata() as session:
        ids = {name: session.scalar(select(Site.id).where(Site.public_id == public_id))
               for name, (public_id, _) in made.items()}
    return {name: {"url": url, "app": app, "public_id": public_id, "id": ids[name], "key": key, "storage_state": state}
            for name, (public_id, key) in made.items()}


def _connect_search_console(app, site_id: int, now: datetime) -> None:
    """The integration row a Search Console connection leaves (connected, synced)."""
    with app.state.services.metadata() as session, session.begin():
        session.add(Integration(site_id=site_id, kind="search_console", config={"property": "sc-domain:keywords.example"},
                                cursor={}, state="ok", failures=0, last_synced_at=now, last_attempt_at=now))


def _keywords_tab(page):
    sources = page.get_by_role("region", name="Sources")
    sources.get_by_role("tab", name="Keywords").click()
    return sources


def test_without_search_console_the_tab_says_how_to_connect_and_shows_utm_terms(browser, sites):
    site = sites["plain"]
    now = datetime.now(timezone.utc)
    visit = {"websiteId": site["public_id"], "type": "pageview", "visitorId": str(uuid.uuid4()), "ip": "8.8.8.8",
             "href": "https://plain.example/?utm_source=google&utm_medium=cpc&utm_term=privacy+analytics",
             "referrer": "", "userAgent": CHROME_UA, "timestamp": (now - timedelta(hours=2)).isoformat()}
    answer = httpx.post(f"{site['url']}/api/v1/events", json=[visit],
                        headers={"Authorization": f"Bearer {site['key']}"})
    assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text
    site["app"].state.services.writer.flush()
    with watched_page(browser, viewport={"width": 1280, "height": 800}, storage_state=site["storage_state"]) as page:
        page.goto(f"{site['url']}/sites/{site['public_id']}?period=7d")
        sources = _keywords_tab(page)
        hint = sources.get_by_test_id("keywords-not-connected")
        expect(hint).to_contain_text("Connect Google Search Console")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SCREENSHOTS / "keywords-not-connected.png", full_page=True)
        expect(hint.get_by_role("row", name=re.compile("privacy analytics"))).to_contain_text("1")
        hint.get_by_role("link", name="Settings → Integrations").click()
        expect(page).to_have_url(re.compile(rf"/sites/{site['public_id']}/settings/integrations$"))


def test_the_keywords_tab_shows_search_consoles_numbers(browser, sites):
    site = sites["connected"]
    app = site["app"]
    if "search_console" not in app.state.services.providers:
        pytest.skip("the Search Console provider is not registered (integrations/registry.py)")
    now = datetime.now(timezone.utc)
    today = now.astimezone(timezone.utc).date()
    rows = _rows(today)
    app.state.services.events.replace_search_rows(site["id"], today - timedelta(days=30), today, rows)
    _connect_search_console(app, site["id"], now)
    # What the query API answers, beside what the rows say.
    api = httpx.post(f"{site['url']}/api/v1/query", headers={"Authorization": f"Bearer {site['key']}"}, json={
        "site_id": site["public_id"], "date_range": "7d", "timezone": "UTC", "dimensions": ["search:query"],
        "metrics": ["search:clicks", "search:impressions", "search:ctr", "search:position"]})
    assert api.status_code == 200, api.text
    assert [[*r["dimensions"], *r["metrics"]] for r in api.json()["results"]] == [
        # 48 of 100, (80 × 1 + 20 × 2.5) / 100 = 1.3
        ["keywords example", 48, 100, 48.0, 1.3],
        # 7 of 400, (300 × 8.4 + 100 × 14) / 400 = 9.8
        ["self-hosted analytics", 7, 400, 1.75, 9.8],
        ["analytics with revenue", 0, 50, 0.0, 22.0],
    ]

    with watched_page(browser, viewport={"width": 1280, "height": 900}, storage_state=site["storage_state"]) as page:
        page.goto(f"{site['url']}/sites/{site['public_id']}?period=7d&compare=previous_period")
        sources = _keywords_tab(page)
        table = sources.get_by_test_id("search-keywords")
        expect(table.get_by_role("columnheader")).to_have_text(["Query", "Clicks ↓", "Impressions", "CTR", "Position"])
        brand = table.get_by_role("row", name=re.compile("keywords example"))
        expect(brand.get_by_role("cell")).to_have_text(["keywords example", "48+380%", "100+150%", "48%+23 pp", "1.3−0.2"])
        expect(table.get_by_role("row", name=re.compile("self-hosted analytics")).get_by_role("cell")).to_have_text(
            ["self-hosted analytics", "7", "400", "1.8%", "9.8"])  # new this week: no change to tell
        expect(table.get_by_role("row").nth(3)).to_contain_text("analytics with revenue")
        page.wait_for_load_state("networkidle")
        sources.screenshot(path=SCREENSHOTS / "keywords-tab.png")

        # The page filter narrows the searches to those that showed that page.
        page.goto(f"{site['url']}/sites/{site['public_id']}?period=7d&f=is,event:page,/pricing")
        table = _keywords_tab(page).get_by_test_id("search-keywords")
        expect(table.get_by_role("row", name=re.compile("keywords example")).get_by_role("cell")).to_have_text(
            ["keywords example", "8", "20", "40%", "2.5"])
        expect(table.get_by_role("row", name=re.compile("self-hosted analytics")).get_by_role("cell")).to_have_text(
            ["self-hosted analytics", "1", "100", "1%", "14"])

        # On a phone: the query, its clicks and CTR.
        page.set_viewport_size({"width": 360, "height": 800})
        expect(table.get_by_role("columnheader", name="Impressions")).to_be_hidden()
        expect(table.locator("[data-metric='search:ctr']").first).to_be_visible()
        page.emulate_media(color_scheme="dark")
        page.get_by_role("region", name="Sources").screenshot(path=SCREENSHOTS / "keywords-tab-360-dark.png")
