"""The dashboard in headless Chromium against the real server: sign up, add a site, see its traffic.

The app runs under uvicorn in a thread on its own data dir (as in `tests/tracker/conftest.py`);
events arrive through `POST /api/v1/events` with a site key created in the dashboard, backfilled
with `timestamp`. Screenshots (desktop, 360 px, dark) go to `tests/dashboard/screenshots/`.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from postmetric.web.routes.dashboard import DASHBOARD_DIR

from factories import CHROME_UA
from live_app import PASSWORD, add_site, page_errors

SCREENSHOTS = Path(__file__).parent / "screenshots"

pytestmark = pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file(), reason="the dashboard is not built: run `make install`"
)


def _events(public_id: str) -> list[dict]:
    """Four visitors over the last days: two from Google, one from Hacker News, one direct (now)."""
    now = datetime.now(timezone.utc)

    def event(visitor: str, minutes_ago: float, path: str, referrer: str = "") -> dict:
        return {"websiteId": public_id, "type": "pageview", "href": f"https://shop.example{path}",
                "referrer": referrer, "visitorId": visitor, "ip": "8.8.8.8", "userAgent": CHROME_UA,
                "timestamp": (now - timedelta(minutes=minutes_ago)).isoformat()}

    google, hn = "https://www.google.com/", "https://news.ycombinator.com/"
    v1, v2, v3, v4 = (str(uuid.uuid4()) for _ in range(4))
    return [
        event(v1, 2 * 24 * 60, "/", google), event(v1, 2 * 24 * 60 - 1, "/pricing"),
        event(v2, 3 * 60, "/pricing", google),
        event(v3, 24 * 60 + 5, "/blog", hn),
        event(v4, 1, "/"),
    ]


@pytest.fixture(scope="module")
def account(server, browser):
    """A user who signed up, added `shop.example` and created a site key, all in the dashboard;
    then the site's events were sent with that key."""
    url, app = server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = page_errors(page)
    page.goto(f"{url}/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Sites")).to_be_visible()
    expect(page.get_by_text("No site yet")).to_be_visible()

    public_id, snippet = add_site(page, "shop.example")
    assert f'src="{url}/js/script.js"' in snippet
    expect(page.get_by_text("Waiting for the first event")).to_be_visible()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "add-site.png")

    page.goto(f"{url}/sites/{public_id}/settings/keys")
    page.get_by_label("New key name").fill("backend")
    page.get_by_role("button", name="Create").click()
    key = page.get_by_test_id("new-key").inner_text()

    answer = httpx.post(f"{url}/api/v1/events", json=_events(public_id), headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 202 and answer.json()["accepted"] == 5, answer.text
    app.state.services.writer.flush()

    page.goto(f"{url}/sites/{public_id}/settings/snippet")
    expect(page.get_by_text("First event received")).to_be_visible(timeout=15_000)
    assert not errors, errors
    state = context.storage_state()
    context.close()
    return {"url": url, "site": public_id, "storage_state": state}


def _stat(page, label: str):
    return page.get_by_test_id(f"stat-{label}")


def _panel(page, title: str):
    return page.get_by_role("region", name=title)


def test_the_dashboard_shows_the_traffic_and_filters_every_panel_by_a_clicked_row(browser, account):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=account["storage_state"])
    page = context.new_page()
    errors = page_errors(page)
    page.goto(f"{account['url']}/sites")
    card = page.get_by_role("link", name=re.compile("shop.example"))
    expect(card).to_contain_text("4 visitors, last 30 days")
    card.click()

    expect(page).to_have_url(f"{account['url']}/sites/{account['site']}")
    expect(_stat(page, "Visitors")).to_contain_text("4")
    expect(_stat(page, "Pageviews")).to_contain_text("5")
    expect(_stat(page, "Visitors now")).to_contain_text("1")
    sources = _panel(page, "Sources")
    sources.get_by_role("tab", name="Sources").click()
    expect(sources.get_by_role("row", name=re.compile("Google"))).to_contain_text("2")
    expect(sources.get_by_role("row", name=re.compile("Hacker News"))).to_be_visible()
    expect(sources.get_by_role("row", name="Direct / None")).to_be_visible()
    pages = _panel(page, "Pages")
    expect(pages.get_by_role("row", name="/blog")).to_be_visible()
    locations = _panel(page, "Locations")
    expect(locations.get_by_role("link", name="IP geolocation by DB-IP")).to_have_attribute("href", "https://db-ip.com")
    locations.get_by_role("tab", name="Map").click()
    expect(page.get_by_test_id("world-map").locator("path[fill^='rgba']")).to_have_count(1)  # the one country seen
    locations.get_by_role("tab", name="Countries").click()
    expect(page.get_by_test_id("main-chart").locator(".recharts-line-curve").first).to_be_visible()

    with page.expect_download() as download:
        sources.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename == f"{account['site']}-sources.csv"
    csv_rows = Path(download.value.path()).read_text().splitlines()
    # With the revenue column once the stats engine has it (nobody here paid: 0).
    assert csv_rows[0] in ("Source,visitors", "Source,visitors,revenue"), csv_rows
    suffix = ",0" if csv_rows[0].endswith(",revenue") else ""
    assert f"Google,2{suffix}" in csv_rows and f",1{suffix}" in csv_rows, csv_rows  # "" is direct

    sources.get_by_role("row", name=re.compile("Google")).click()
    expect(page).to_have_url(re.compile(r"\?f=is,visit:source,Google$"))
    expect(page.get_by_label("Filters")).to_contain_text("Source is Google")
    expect(_stat(page, "Visitors")).to_contain_text("2")
    expect(_stat(page, "Pageviews")).to_contain_text("3")
    expect(pages.get_by_role("row", name="/pricing")).to_be_visible()
    expect(pages.get_by_role("row", name="/blog")).to_have_count(0)
    expect(sources.get_by_role("row", name=re.compile("Hacker News"))).to_have_count(0)

    page.get_by_label("Date range").select_option("day")
    expect(page).to_have_url(re.compile(r"\?period=day&f=is,visit:source,Google$"))
    page.get_by_role("button", name="Remove filter Source").click()
    expect(page).to_have_url(re.compile(r"\?period=day$"))
    expect(_stat(page, "Visitors")).not_to_contain_text("…")
    compare = page.get_by_label("Compare to previous period")
    compare.click()  # not check(): the box follows the URL, which changes a moment after the click
    expect(page).to_have_url(re.compile(r"compare=previous_period"))
    expect(compare).to_be_checked()
    expect(_stat(page, "Visitors")).to_contain_text(re.compile(r"[−+]\d|new|0%"))
    assert not errors, errors
    context.close()


def test_screenshots_desktop_phone_and_dark(browser, account):
    SCREENSHOTS.mkdir(exist_ok=True)
    target = f"{account['url']}/sites/{account['site']}?period=7d"
    shots = [
        ("desktop.png", {"viewport": {"width": 1280, "height": 800}}),
        ("phone-360.png", {"viewport": {"width": 360, "height": 780}, "device_scale_factor": 2, "is_mobile": True}),
        ("dark.png", {"viewport": {"width": 1280, "height": 800}, "color_scheme": "dark"}),
    ]
    for name, options in shots:
        context = browser.new_context(storage_state=account["storage_state"], **options)
        page = context.new_page()
        errors = page_errors(page)
        page.goto(target)
        expect(_stat(page, "Visitors")).to_contain_text("4")
        expect(_panel(page, "Devices").get_by_role("row").nth(1)).to_be_visible()
        page.wait_for_load_state("networkidle")
        if options.get("color_scheme") == "dark":
            assert page.evaluate("document.documentElement.classList.contains('dark')")
        # Nothing wider than the screen: the page never scrolls sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= options["viewport"]["width"], name
        page.screenshot(path=SCREENSHOTS / name, full_page=True)
        if name == "dark.png":
            _panel(page, "Locations").get_by_role("tab", name="Map").click()
            expect(page.get_by_test_id("world-map").locator("path").first).to_be_visible()
            _panel(page, "Locations").screenshot(path=SCREENSHOTS / "dark-map.png")
        if options.get("is_mobile"):  # the long phone page, one screen at a time, to look at
            height = page.evaluate("document.documentElement.scrollHeight")
            for n, top in enumerate(range(0, height, 780), start=1):
                page.screenshot(path=SCREENSHOTS / f"phone-360-screen{n}.png", full_page=True,
                                clip={"x": 0, "y": top, "width": 360, "height": min(780, height - top)})
        assert not errors, errors
        context.close()


def test_the_realtime_view_is_fed_by_the_stream(browser, account):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=account["storage_state"])
    page = context.new_page()
    page.goto(f"{account['url']}/sites/{account['site']}/realtime")
    expect(page.get_by_test_id("realtime-visitors")).to_have_text("1")
    context.close()


def test_logged_out_visitors_go_to_login(browser, account):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{account['url']}/sites/{account['site']}?period=7d")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fsites%2F"))
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{account['url']}/sites/{account['site']}?period=7d")
    context.close()


def test_a_shared_link_shows_the_dashboard_read_only_to_anyone(browser, account):
    owner = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=account["storage_state"])
    page = owner.new_page()
    page.goto(f"{account['url']}/sites/{account['site']}/settings/sharing")
    sharing = page.get_by_label("Anyone with the link can see this dashboard")
    expect(page.get_by_text("Anyone with the link")).to_be_visible()
    if not sharing.is_checked():
        sharing.click()  # not check(): the box is checked once the server says so
    link = page.get_by_role("link", name="/share/")
    expect(link).to_be_visible()
    shared_url = link.get_attribute("href")
    page.screenshot(path=SCREENSHOTS / "settings-sharing.png")
    owner.close()

    stranger = browser.new_context(viewport={"width": 1280, "height": 800})
    page = stranger.new_page()
    errors = page_errors(page)
    page.goto(shared_url.replace("http://127.0.0.1:8000", account["url"]) + "?period=7d")
    expect(_stat(page, "Visitors")).to_contain_text("4")
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    _panel(page, "Sources").get_by_role("row", name=re.compile("Organic Search")).click()
    expect(_stat(page, "Visitors")).to_contain_text("2")
    page.screenshot(path=SCREENSHOTS / "shared.png", full_page=True)
    assert not errors, errors
    stranger.close()


def test_screenshots_of_the_other_screens(browser, account):
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 360, "height": 780})
    page = context.new_page()
    page.goto(f"{account['url']}/login")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "login-360.png")
    assert not page.evaluate("document.documentElement.classList.contains('dark')")
    page.get_by_role("button", name="Switch to dark mode").click()
    page.reload()  # the choice is kept, and applied before the first paint
    assert page.evaluate("document.documentElement.classList.contains('dark')")
    page.screenshot(path=SCREENSHOTS / "login-360-dark.png")
    context.close()

    context = browser.new_context(viewport={"width": 360, "height": 780}, storage_state=account["storage_state"])
    page = context.new_page()
    page.goto(f"{account['url']}/sites")
    expect(page.get_by_text("4 visitors, last 30 days")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "sites-360.png")
    page.goto(f"{account['url']}/sites/{account['site']}/settings/keys")
    expect(page.get_by_text("backend")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=SCREENSHOTS / "settings-keys-360.png", full_page=True)
    page.goto(f"{account['url']}/sites/{account['site']}/realtime")
    expect(page.get_by_test_id("realtime-visitors")).to_have_text("1")
    page.screenshot(path=SCREENSHOTS / "realtime-360.png", full_page=True)
    context.close()


def test_a_password_protects_the_shared_link(browser, account):
    owner = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=account["storage_state"])
    page = owner.new_page()
    page.goto(f"{account['url']}/sites/{account['site']}/settings/sharing")
    sharing = page.get_by_label("Anyone with the link can see this dashboard")
    expect(page.get_by_text("Anyone with the link")).to_be_visible()
    if not sharing.is_checked():
        sharing.click()
    expect(page.get_by_text("No password.")).to_be_visible()
    page.get_by_label("Password (empty removes it)").fill("open sesame")
    page.get_by_role("button", name="Set").click()
    expect(page.get_by_text("A password protects it.")).to_be_visible()
    shared_url = page.get_by_role("link", name="/share/").get_attribute("href")
    owner.close()

    stranger = browser.new_context(viewport={"width": 360, "height": 780})
    page = stranger.new_page()
    page.goto(shared_url.replace("http://127.0.0.1:8000", account["url"]))
    expect(page.get_by_text("shop.example is password protected")).to_be_visible()
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="View the dashboard").click()
    expect(page.get_by_role("alert")).to_contain_text("password")
    page.get_by_label("Password").fill("open sesame")
    page.get_by_role("button", name="View the dashboard").click()
    expect(_stat(page, "Pageviews")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    stranger.close()

    owner = browser.new_context(storage_state=account["storage_state"])  # the other tests share the link openly
    page = owner.new_page()
    page.goto(f"{account['url']}/sites/{account['site']}/settings/sharing")
    page.get_by_role("button", name="Set").click()
    expect(page.get_by_text("No password.")).to_be_visible()
    owner.close()
