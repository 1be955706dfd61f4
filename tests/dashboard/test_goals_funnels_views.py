"""The dashboard's goals, funnels and journey views in headless Chromium against the real server
(SPEC §7, §9).

A user signs up and adds `goals.example` in the dashboard, makes a site key there, and with it
sends four visitors' events through `POST /api/v1/events` and a payment through the Payments API:

  J  3 h ago: "/" from Google, "/pricing", goal signup, "/welcome/team"; paid $49 a minute later;
     1 h ago a second visit: "/docs"
  K  5 h ago: "/", "/pricing"
  L  4 h ago: "/pricing", goal signup
  N  a minute ago: "/live" (on the site now)

So over 7 days: 4 visitors; `signup` has 2 converters and 2 completions (50 %), and its converters
paid $49. The funnel "/pricing → goal signup → /welcome*", built in Settings → Funnels, has 3, 2
and 1 visitors (100 %, 66.7 %, 33.3 % of the first step).

Screenshots (light, dark, 360 px) go to /tmp/shots/.
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
from live_app import add_site, page_errors, sign_up, watched_page

SHOTS = Path("/tmp/shots")

pytestmark = pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file(), reason="the dashboard is not built: run `make install`"
)


def _events(public_id: str, now: datetime) -> tuple[list[dict], dict[str, str]]:
    """The four visitors' events in time order; their ids by letter."""
    ids = {letter: str(uuid.uuid4()) for letter in "JKLN"}

    def event(letter: str, minutes_ago: float, path: str, *, goal: str | None = None, referrer: str = "") -> dict:
        body = {"websiteId": public_id, "type": "goal" if goal else "pageview", "href": f"https://goals.example{path}",
                "referrer": referrer, "visitorId": ids[letter], "ip": "8.8.8.8", "userAgent": CHROME_UA,
                "timestamp": (now - timedelta(minutes=minutes_ago)).isoformat()}
        return body | ({"name": goal} if goal else {})

    return [
        event("K", 300, "/"), event("K", 299, "/pricing"),
        event("L", 240, "/pricing"), event("L", 239, "/pricing", goal="signup"),
        event("J", 180, "/", referrer="https://www.google.com/"), event("J", 179, "/pricing"),
        event("J", 178, "/pricing", goal="signup"), event("J", 177, "/welcome/team"),
        event("J", 60, "/docs"),
        event("N", 1, "/live"),
    ], ids


def _has_funnels_api(app) -> bool:
    return any("/funnels" in (getattr(route, "path", "") or "") for route in app.app.routes)


@pytest.fixture(scope="module")
def site(server, browser):
    url, app = server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = page_errors(page)
    sign_up(page, url, "owner@goals.example")
    public_id, _snippet = add_site(page, "goals.example")
    page.goto(f"{url}/sites/{public_id}/settings/keys")
    page.get_by_label("New key name").fill("backend")
    page.get_by_role("button", name="Create").click()
    key = page.get_by_test_id("new-key").inner_text()

    now = datetime.now(timezone.utc)
    events, ids = _events(public_id, now)
    bearer = {"Authorization": f"Bearer {key}"}
    answer = httpx.post(f"{url}/api/v1/events", json=events, headers=bearer)
    assert answer.status_code == 202 and answer.json()["accepted"] == len(events), answer.text
    app.state.services.writer.flush()
    payment = {"transaction_id": "txn_j", "amount": 49, "currency": "USD", "visitor_id": ids["J"],
               "email": "jo@customer.example", "timestamp": (now - timedelta(minutes=176)).isoformat()}
    answer = httpx.post(f"{url}/api/v1/payments", json=payment, headers=bearer)
    assert answer.status_code == 201, answer.text
    assert not errors, errors
    state = context.storage_state()
    context.close()
    return {"url": url, "app": app, "site": public_id, "ids": ids, "storage_state": state}


def _page(browser, site, **options):
    options.setdefault("viewport", {"width": 1280, "height": 900})
    return watched_page(browser, storage_state=site["storage_state"], **options)


def test_the_goals_panel_lists_converters_completions_rate_and_revenue(browser, site):
    with _page(browser, site) as page:
        page.goto(f"{site['url']}/sites/{site['site']}?period=7d")
        goals = page.get_by_role("region", name="Goals")
        row = goals.get_by_role("row", name=re.compile("signup"))
        expect(row).to_be_visible()
        expect(row.locator("td")).to_have_text(["signup", "2", "2", "50%", "$49.00"])
        row.click()  # filters the dashboard to the visitors who signed up
        expect(page).to_have_url(re.compile(r"f=is,event:goal,signup"))
        expect(page.get_by_test_id("stat-Visitors")).to_contain_text("2")


def test_goal_settings_add_rename_and_delete(browser, site):
    with _page(browser, site) as page:
        page.goto(f"{site['url']}/sites/{site['site']}/settings/goals")
        page.get_by_label("Goal type").select_option("page")
        page.get_by_label("Path pattern").fill("welcome")  # no leading slash: refused before sending
        page.get_by_role("button", name="Add goal").click()
        expect(page.get_by_role("alert")).to_have_text("page_path: a path pattern starts with /")
        page.get_by_label("Path pattern").fill("/welcome*")
        page.get_by_label("Display name (optional)").fill("Welcomed")
        page.get_by_role("button", name="Add goal").click()
        goals = page.get_by_role("list", name="Goals")
        expect(goals.get_by_text("Welcomed")).to_be_visible()
        expect(goals.get_by_text("Visit of /welcome*")).to_be_visible()

        page.get_by_label("Goal type").select_option("event")
        page.get_by_label("Event name").fill("signup")
        page.get_by_role("button", name="Add goal").click()
        expect(goals.get_by_test_id("goal")).to_have_count(2)
        goals.get_by_test_id("goal").filter(has_text="Event signup").get_by_role("button", name="Edit").click()
        goals.get_by_label("Display name", exact=True).fill("Sign-ups")
        goals.get_by_role("button", name="Save").click()
        expect(goals.get_by_text("Sign-ups")).to_be_visible()
        # The API's own refusal shows: a second goal of the same event.
        page.get_by_label("Event name").fill("signup")
        page.get_by_role("button", name="Add goal").click()
        expect(page.get_by_role("alert")).to_contain_text("event_name")
        page.get_by_role("button", name="Delete Sign-ups").click()
        expect(goals.get_by_test_id("goal")).to_have_count(1)


def test_the_funnel_built_in_settings_is_charted_on_the_dashboard(browser, site):
    if not _has_funnels_api(site["app"]):
        pytest.skip("the funnels API (/api/v1/sites/{id}/funnels) is not part of the app yet")
    url, public_id = site["url"], site["site"]
    with _page(browser, site) as page:
        page.goto(f"{url}/sites/{public_id}?period=7d")
        funnels = page.get_by_role("region", name="Funnels")
        funnels.get_by_role("link", name="Create one in Settings → Funnels").click()
        page.get_by_label("Funnel name").fill("Sign-up")
        page.get_by_label("Step 1 match").fill("/pricing")
        page.get_by_label("Step 1 label").fill("Pricing")
        page.get_by_label("Step 2 type").select_option("goal")
        page.get_by_label("Step 2 match").fill("signup")
        page.get_by_role("button", name="Add step").click()
        page.get_by_label("Step 3 match").fill("/welcome*")
        page.get_by_label("Step 3 label").fill("Welcome")
        page.get_by_role("button", name="Create funnel").click()
        expect(page.get_by_role("list", name="Funnels").get_by_text("Pricing → Goal signup → Welcome")).to_be_visible()

        page.goto(f"{url}/sites/{public_id}?period=7d")
        steps = page.get_by_role("region", name="Funnels").get_by_test_id("funnel-step")
        expect(steps).to_have_count(3)
        expect(steps.get_by_test_id("step-visitors")).to_have_text(["3", "2", "1"])
        expect(steps.get_by_test_id("step-from-first")).to_have_text(["100%", "66.7%", "33.3%"])
        expect(steps.get_by_test_id("step-from-previous")).to_have_text(["66.7%", "50%"])
        expect(steps.get_by_test_id("step-drop-off")).to_have_text(["1", "1"])  # K after /pricing, L after signup
        # J took a minute from /pricing to signing up, L a minute too; J a minute from there to /welcome.
        expect(steps.get_by_test_id("step-to-next")).to_have_text(["1m 0s", "1m 0s"])

        page.get_by_label("Breakdown").select_option("visit:source")
        rows = page.get_by_test_id("funnel-breakdown").locator("tbody tr")
        expect(rows.filter(has_text="Google").locator("td")).to_have_text(["Google", "1", "1", "1"])


def test_a_shared_link_shows_the_goals_and_the_funnel_without_settings_links(browser, site):
    if not _has_funnels_api(site["app"]):
        pytest.skip("the funnels API (/api/v1/sites/{id}/funnels) is not part of the app yet")
    url, public_id = site["url"], site["site"]
    with _page(browser, site) as page:
        page.goto(f"{url}/sites/{public_id}/settings/sharing")
        sharing = page.get_by_label("Anyone with the link can see this dashboard")
        expect(page.get_by_text("Anyone with the link")).to_be_visible()
        if not sharing.is_checked():
            sharing.click()  # not check(): the box is checked once the server says so
        link = page.get_by_role("link", name="/share/")
        expect(link).to_be_visible()
        token = link.get_attribute("href").rsplit("/share/", 1)[1]
    with watched_page(browser, viewport={"width": 1280, "height": 900}) as page:  # a stranger
        page.goto(f"{url}/share/{token}?period=7d")
        expect(page.get_by_role("region", name="Goals").get_by_role("row", name=re.compile("signup"))).to_be_visible()
        funnels = page.get_by_role("region", name="Funnels")
        expect(funnels.get_by_test_id("step-visitors")).to_have_text(["3", "2", "1"])
        expect(funnels.get_by_role("link")).to_have_count(0)


def _journey_lines(page) -> list[str]:
    """What each line of the timeline says, without its time."""
    return page.get_by_test_id("journey-what").all_inner_texts()


def test_the_journey_lists_visits_pages_goal_and_payment_in_order(browser, site):
    url, public_id, ids = site["url"], site["site"], site["ids"]
    with _page(browser, site) as page:
        page.goto(f"{url}/sites/{public_id}/customers?period=7d")
        page.get_by_role("link", name=ids["J"]).click()
        expect(page).to_have_url(f"{url}/sites/{public_id}/visitors/{ids['J']}")
        expect(page.get_by_text("Visit 2")).to_be_visible()
        lines = [line.split(" · ")[0] for line in _journey_lines(page)]
        assert lines == ["Viewed /", "Viewed /pricing", "Goal signup on /pricing", "Viewed /welcome/team",
                         "Payment $49.00", "Viewed /docs"], lines
        expect(page.get_by_text("Organic Search")).to_be_visible()  # the first touch: Google

        page.goto(f"{url}/sites/{public_id}/visitors/{uuid.uuid4()}")
        expect(page.get_by_role("alert")).to_contain_text("No visitor")


def test_the_realtime_view_links_the_visitors_on_the_site_to_their_journey(browser, site):
    url, public_id, ids = site["url"], site["site"], site["ids"]
    with _page(browser, site) as page:
        page.goto(f"{url}/sites/{public_id}/realtime")
        recent = page.get_by_test_id("recent-visitors")
        expect(recent.get_by_role("link")).to_have_count(1)
        recent.get_by_role("link", name=re.compile(r"\/live")).click()
        expect(page).to_have_url(f"{url}/sites/{public_id}/visitors/{ids['N']}")
        expect(page.get_by_test_id("journey-what")).to_have_text(["Viewed /live"])


def test_screenshots_light_dark_and_360(browser, site):
    SHOTS.mkdir(exist_ok=True)
    url, public_id, ids = site["url"], site["site"], site["ids"]
    shots = [
        ("light", {"viewport": {"width": 1280, "height": 900}}),
        ("dark", {"viewport": {"width": 1280, "height": 900}, "color_scheme": "dark"}),
        ("360", {"viewport": {"width": 360, "height": 780}, "device_scale_factor": 2, "is_mobile": True}),
    ]
    views = [("dashboard", f"/sites/{public_id}?period=7d"), ("goals", f"/sites/{public_id}/settings/goals"),
             ("funnels", f"/sites/{public_id}/settings/funnels"), ("journey", f"/sites/{public_id}/visitors/{ids['J']}"),
             ("realtime", f"/sites/{public_id}/realtime")]
    for name, options in shots:
        with _page(browser, site, **options) as page:
            width = options["viewport"]["width"]
            for view, path in views:
                page.goto(f"{url}{path}")
                if view == "dashboard":
                    expect(page.get_by_role("region", name="Goals").get_by_role("row", name=re.compile("signup"))).to_be_visible()
                page.wait_for_load_state("networkidle")
                expect(page.get_by_text("Loading…")).to_have_count(0)
                # Nothing wider than the screen: the page never scrolls sideways.
                assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, view)
                page.screenshot(path=SHOTS / f"{view}-{name}.png", full_page=True)
