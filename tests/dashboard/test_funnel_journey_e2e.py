"""Goals, a funnel and a journey end to end, in headless Chromium against the real server (SPEC §3, §7, §9).

The issue's acceptance, built for real:

1. A user signs up, adds `app.test` in the dashboard and copies its snippet. Through the API (the
   dashboard session and its CSRF header) they define a three-step funnel: visit `/pricing` →
   the `signup` goal → visit `/welcome*`.
2. A visitor opens `app.test/` and `app.test/pricing` (pages served by this test that hold the
   snippet, so the real `/js/script.js` runs), clicks the `data-postmetric-goal="signup"` button,
   which also takes them to `/welcome/team`.
3. The funnel's results say one visitor at every step; the dashboard's funnel view shows them at
   every step; the Goals panel lists `signup` with one converter; the visitor's journey page lists
   their pages and the goal in the order they happened.

As in `test_revenue_attribution_e2e.py` (both use `tests/live_app.py`): the app runs under uvicorn in
a thread, every `*.test` hostname resolves to 127.0.0.1, and Chromium starts without the automation
switch so `navigator.webdriver` is false and the script tracks.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from postmetric.web.routes.dashboard import DASHBOARD_DIR
from postmetric.web.routes.tracker import SCRIPT_DIR

from factories import CHROME_UA
from live_app import Pages, add_site, api_client, page_errors, sign_up, wait_for

SCREENSHOTS = Path(__file__).parent / "screenshots"
OWNER = "owner@app.test"
FUNNEL = {"name": "Sign-up", "steps": [
    {"type": "page", "match": "/pricing", "label": "Pricing"},
    {"type": "goal", "match": "signup", "label": None},
    {"type": "page", "match": "/welcome*", "label": "Welcome"},
]}

pytestmark = pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file() or not (SCRIPT_DIR / "script.js").is_file(),
    reason="the dashboard or the tracking script is not built: run `make install`",
)


def _page(snippet: str, title: str, body: str) -> str:
    return f"<!doctype html><html><head><title>{title}</title>{snippet}</head><body>{body}</body></html>"


@pytest.fixture(scope="module")
def as_a_person() -> bool:
    """The tracking script on the test pages ignores automated browsers."""
    return True


@pytest.fixture(scope="module")
def app_pages():
    served = Pages()
    yield served
    served.close()


@pytest.fixture(scope="module")
def site(server, browser, app_pages):
    """`app.test`, added in the dashboard by its owner, its pages holding the snippet, and the funnel."""
    url, _app = server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = page_errors(page)
    sign_up(page, url, OWNER)
    public_id, snippet = add_site(page, "app.test")
    assert not errors, errors
    state = context.storage_state()
    context.close()

    app_pages.add("/", _page(snippet, "Home", '<h1>App</h1><a href="/pricing">Pricing</a>'))
    app_pages.add("/pricing", _page(snippet, "Pricing", (
        '<h1>Pricing</h1><a href="/welcome/team" data-postmetric-goal="signup" '
        'data-postmetric-goal-plan="team">Sign up</a>')))
    app_pages.add("/welcome/team", _page(snippet, "Welcome", "<h1>Welcome aboard</h1>"))

    api = api_client(url, OWNER)
    created = api.post(f"/api/v1/sites/{public_id}/funnels", json=FUNNEL)
    assert created.status_code == 201, created.text
    yield {"url": url, "site": public_id, "funnel": created.json(), "storage_state": state, "api": api}
    api.close()


def test_a_visitor_who_clicks_the_goal_passes_every_step_of_the_funnel(browser, site, app_pages):
    url, public_id, api = site["url"], site["site"], site["api"]
    origin = f"http://app.test:{app_pages.port}"

    # 1. The visitor: home, pricing, the sign-up button (a click goal that navigates on).
    visitor = browser.new_context(user_agent=CHROME_UA, viewport={"width": 1280, "height": 800})
    app_page = visitor.new_page()
    visitor_errors = page_errors(app_page)
    app_page.goto(origin + "/")
    assert app_page.evaluate("navigator.webdriver") is False
    app_page.get_by_role("link", name="Pricing").click()
    expect(app_page.get_by_role("heading", name="Pricing")).to_be_visible()
    visitor_id = app_page.evaluate("window.postmetric.getVisitorId()")
    with app_page.expect_request(lambda request: request.url.endswith("/api/events")
                                 and '"signup"' in (request.post_data or "")):
        app_page.get_by_role("link", name="Sign up").click()
    expect(app_page.get_by_role("heading", name="Welcome aboard")).to_be_visible()
    assert not visitor_errors, visitor_errors
    visitor.close()

    # 2. Three pageviews and the goal are stored.
    def stored() -> dict | None:
        answer = api.post("/api/v1/query", json={"site_id": public_id, "date_range": "day", "metrics": ["events"],
                                                 "dimensions": ["event:name"]})
        assert answer.status_code == 200, answer.text
        counts = {row["dimensions"][0]: row["metrics"][0] for row in answer.json()["results"]}
        return counts if counts.get("pageview") == 3 and counts.get("signup") == 1 else None

    wait_for(stored, "the three pageviews and the signup goal")

    # 3. The funnel's results: one visitor at every step.
    results = api.get(f"/api/v1/funnels/{site['funnel']['id']}/results", params={"date_range": "day"})
    assert results.status_code == 200, results.text
    steps = results.json()["steps"]
    assert [(s["visitors"], s["conversion_from_first"], s["drop_off"]) for s in steps] == [
        (1, 100.0, 0), (1, 100.0, 0), (1, 100.0, 0)], steps
    assert steps[0]["median_seconds_to_next"] >= 0 and steps[2]["median_seconds_to_next"] is None, steps

    # 4. The dashboard: the funnel, the goals panel and the journey.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, storage_state=site["storage_state"])
    page = context.new_page()
    errors = page_errors(page)
    page.goto(f"{url}/sites/{public_id}?period=day")
    goals = page.get_by_role("region", name="Goals")
    expect(goals.get_by_role("row", name=re.compile("signup"))).to_be_visible()
    _check_funnel_view(page)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "funnel.png", full_page=True)

    page.goto(f"{url}/sites/{public_id}/visitors/{visitor_id}")
    _check_journey(page)
    page.screenshot(path=SCREENSHOTS / "journey.png", full_page=True)
    assert not errors, errors
    context.close()


def _check_funnel_view(page) -> None:
    steps = page.get_by_role("region", name="Funnels").get_by_test_id("funnel-step")
    expect(steps).to_have_count(3)
    expect(steps.get_by_test_id("step-visitors")).to_have_text(["1", "1", "1"])
    expect(steps.get_by_test_id("step-from-first")).to_have_text(["100%", "100%", "100%"])
    expect(steps.get_by_test_id("step-from-previous")).to_have_text(["100%", "100%"])
    expect(steps.get_by_test_id("step-drop-off")).to_have_text(["0", "0"])


def _check_journey(page) -> None:
    """The timeline lists what the visitor did in the order they did it."""
    expect(page.get_by_test_id("journey-what")).to_have_count(4)
    lines = [line.split(" · ")[0] for line in page.get_by_test_id("journey-what").all_inner_texts()]
    assert lines == ["Viewed /", "Viewed /pricing", "Goal signup on /pricing (plan: team)",
                     "Viewed /welcome/team"], lines
