"""The dashboard's revenue views in headless Chromium against the real server (SPEC §9).

A user signs up and adds `revenue.example` in the dashboard, creates a site key there, and with
it sends three visitors' pageviews (`POST /api/v1/events`: one from a newsletter's UTM link, one
from Google, one direct) and three payments through the Payments API (`POST /api/v1/payments`)
linked to the first two visitors: $100 and a $20 renewal from the newsletter visitor, $50 from
the Google one.

What the dashboard does while the stats engine refuses revenue (a 400) is covered by the vitest
tests of the panels and the headline. Screenshots (light, dark, 360 px) go to
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

from postmetric.web.routes.dashboard import DASHBOARD_DIR

from factories import CHROME_UA
from live_app import accept_invitation_signing_up, add_site, api_client, invite, page_errors, sign_up, watched_page

SCREENSHOTS = Path(__file__).parent / "screenshots"
PROVIDERS = ["stripe", "lemonsqueezy", "polar", "paddle"]
PROVIDER_NAMES = ["Stripe", "Lemon Squeezy", "Polar", "Paddle"]

pytestmark = pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file(), reason="the dashboard is not built: run `make install`"
)


def _traffic(public_id: str, now: datetime) -> tuple[list[dict], dict[str, str]]:
    """Pageviews of three visitors over the last two days; their ids by where they came from."""
    visitors = {"newsletter": str(uuid.uuid4()), "google": str(uuid.uuid4()), "direct": str(uuid.uuid4())}

    def event(visitor: str, minutes_ago: float, path: str, referrer: str = "") -> dict:
        return {"websiteId": public_id, "type": "pageview", "href": f"https://revenue.example{path}",
                "referrer": referrer, "visitorId": visitor, "ip": "8.8.8.8", "userAgent": CHROME_UA,
                "timestamp": (now - timedelta(minutes=minutes_ago)).isoformat()}

    return [
        event(visitors["newsletter"], 2 * 24 * 60, "/?utm_source=newsletter&utm_medium=email&utm_campaign=launch"),
        event(visitors["newsletter"], 2 * 24 * 60 - 2, "/pricing"),
        event(visitors["google"], 5 * 60, "/pricing", "https://www.google.com/"),
        event(visitors["direct"], 3 * 60, "/"),
    ], visitors


def _payments(visitors: dict[str, str], now: datetime) -> list[dict]:
    def payment(transaction: str, amount: float, visitor: str, minutes_ago: float, **extra) -> dict:
        return {"transaction_id": transaction, "amount": amount, "currency": "USD", "visitor_id": visitor,
                "timestamp": (now - timedelta(minutes=minutes_ago)).isoformat(), **extra}

    return [
        payment("txn_1", 100, visitors["newsletter"], 2 * 24 * 60 - 5, email="ada@customer.example"),
        payment("txn_2", 20, visitors["newsletter"], 60, renewal=True, email="ada@customer.example"),
        payment("txn_3", 50, visitors["google"], 5 * 60 - 3, email="grace@customer.example"),
    ]


@pytest.fixture(scope="module")
def shop(server, browser):
    """`revenue.example`, added in the dashboard, with its traffic and payments sent with a site
    key made there."""
    url, app = server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = page_errors(page)
    sign_up(page, url, "owner@revenue.example")
    public_id, _snippet = add_site(page, "revenue.example")

    page.goto(f"{url}/sites/{public_id}/settings/keys")
    page.get_by_label("New key name").fill("backend")
    page.get_by_role("button", name="Create").click()
    key = page.get_by_test_id("new-key").inner_text()

    now = datetime.now(timezone.utc)
    events, visitors = _traffic(public_id, now)
    bearer = {"Authorization": f"Bearer {key}"}
    answer = httpx.post(f"{url}/api/v1/events", json=events, headers=bearer)
    assert answer.status_code == 202 and answer.json()["accepted"] == len(events), answer.text
    app.state.services.writer.flush()
    for body in _payments(visitors, now):
        answer = httpx.post(f"{url}/api/v1/payments", json=body, headers=bearer)
        assert answer.status_code == 201, answer.text
    assert not errors, errors
    state = context.storage_state()
    context.close()
    return {"url": url, "site": public_id, "key": key, "storage_state": state}


def _revenue_by_source(shop) -> dict[str, list]:
    """What the stats engine says of revenue by source, straight from the query API."""
    answer = httpx.post(f"{shop['url']}/api/v1/query", headers={"Authorization": f"Bearer {shop['key']}"},
                        json={"site_id": shop["site"], "date_range": "7d", "metrics": ["visitors", "revenue"],
                              "dimensions": ["visit:source"]})
    assert answer.status_code == 200, answer.text
    return {row["dimensions"][0]: row["metrics"] for row in answer.json()["results"]}


def _stat(page, label: str):
    return page.get_by_test_id(f"stat-{label}")


def _panel(page, title: str):
    return page.get_by_role("region", name=title)


def test_the_headline_the_chart_and_the_source_rows_show_revenue(browser, shop):
    by_source = _revenue_by_source(shop)
    newsletter = next(source for source in by_source if source and "newsletter" in source.lower())
    assert by_source[newsletter][1] == 120, by_source
    with watched_page(browser, viewport={"width": 1280, "height": 800}, storage_state=shop["storage_state"]) as page:
        page.goto(f"{shop['url']}/sites/{shop['site']}?period=7d")
        expect(_stat(page, "Visitors")).to_contain_text("3")
        expect(_stat(page, "Pageviews")).to_contain_text("4")
        expect(_stat(page, "Revenue")).to_contain_text("$170.00")
        expect(_stat(page, "Revenue").get_by_test_id("revenue-parts")).to_have_text(
            re.compile(r"New\s*\$150\.00\s*Renewal\s*\$20\.00\s*Refunds\s*\$0\.00"))
        expect(_stat(page, "Revenue per visitor")).to_contain_text("$56.67")
        expect(_stat(page, "Conversion rate")).to_contain_text("66.7%")  # 2 of 3 visitors paid
        expect(page.get_by_test_id("main-chart").locator(".recharts-bar-rectangle")).not_to_have_count(0)

        sources = _panel(page, "Sources")
        sources.get_by_role("tab", name="Sources").click()
        expect(sources.get_by_role("row", name=re.compile(newsletter))).to_contain_text("$120.00")
        expect(sources.get_by_role("row", name=re.compile("Google"))).to_contain_text("$50.00")
        expect(sources.get_by_role("row", name="Direct / None")).to_contain_text("$0.00")
        expect(sources.get_by_test_id("revenue-unavailable")).to_have_count(0)
        sources.get_by_role("button", name="Revenue").click()
        expect(sources.get_by_role("columnheader", name="Revenue ↓")).to_have_attribute("aria-sort", "descending")
        expect(sources.get_by_role("row").nth(1)).to_contain_text(newsletter)
        sources.get_by_role("button", name="Revenue ↓").click()  # ascending: the direct visitor, who paid nothing
        expect(sources.get_by_role("row").nth(1)).to_contain_text("Direct / None")

        page.get_by_role("button", name="Last touch").click()
        expect(page).to_have_url(re.compile(r"\?period=7d&attribution=last_touch$"))
        expect(page.get_by_role("button", name="Last touch")).to_have_attribute("aria-pressed", "true")
        expect(sources.get_by_role("row", name=re.compile("Google"))).to_contain_text("$50.00")
        page.reload()
        expect(page.get_by_role("button", name="Last touch")).to_have_attribute("aria-pressed", "true")
        expect(_stat(page, "Revenue")).to_contain_text("$170.00")  # the total does not depend on attribution


def test_a_server_that_refuses_revenue_leaves_the_traffic_and_says_why(browser, shop):
    """As before the stats engine had revenue: every query asking a revenue metric is a 400 (here
    answered by the browser in the server's words); the cards, chart and panels keep the traffic."""
    message = "metrics: revenue is not available yet: revenue metrics need the payments ledger"
    with watched_page(browser, viewport={"width": 1280, "height": 800}, storage_state=shop["storage_state"]) as page:

        def refuse_revenue(route):
            metrics = route.request.post_data_json.get("metrics", [])
            if any(m in metrics for m in ("revenue", "conversion_rate", "revenue_per_visitor")):
                route.fulfill(status=400, json={"error": message})
            else:
                route.continue_()

        page.route("**/api/v1/query", refuse_revenue)
        page.goto(f"{shop['url']}/sites/{shop['site']}?period=7d")
        expect(_stat(page, "Visitors")).to_contain_text("3")
        expect(_stat(page, "Revenue")).to_contain_text(message)
        expect(_stat(page, "Conversion rate")).to_contain_text(message)
        sources = _panel(page, "Sources")
        expect(sources.get_by_role("row", name=re.compile("Organic Search"))).to_contain_text("1")
        expect(sources.get_by_test_id("revenue-unavailable")).to_have_text(f"Revenue unavailable: {message}")
        expect(sources.get_by_role("columnheader", name="Revenue")).to_have_count(0)
        expect(page.get_by_test_id("main-chart").locator(".recharts-line-curve").first).to_be_visible()
        expect(page.get_by_role("alert")).to_have_count(0)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SCREENSHOTS / "revenue-refused.png", full_page=True)


def test_the_revenue_settings_show_the_four_providers_and_keep_the_secret(browser, shop):
    url, site = shop["url"], shop["site"]
    with watched_page(browser, viewport={"width": 1280, "height": 900}, storage_state=shop["storage_state"]) as page:
        page.goto(f"{url}/sites/{site}/settings/revenue")

        for provider, name in zip(PROVIDERS, PROVIDER_NAMES):
            card = page.get_by_role("region", name=name)
            expect(card.get_by_test_id("webhook-url")).to_have_text(f"{url}/api/webhooks/{provider}/{site}")
            expect(card.get_by_text("no secret yet")).to_be_visible()
            expect(card.get_by_test_id("last-delivery")).to_have_text("No delivery yet.")
        expect(page.get_by_role("region", name="Stripe")).to_contain_text("checkout.session.completed")

        secret = "whsec_e2e_" + uuid.uuid4().hex
        stripe = page.get_by_role("region", name="Stripe")
        stripe.get_by_label("Signing secret").fill(secret)
        stripe.get_by_role("button", name="Save").click()
        expect(stripe.get_by_text("secret set")).to_be_visible()
        expect(stripe.get_by_label("Replace the signing secret")).to_have_value("")
        assert secret not in page.content()
        page.reload()
        expect(page.get_by_role("region", name="Stripe").get_by_text("secret set")).to_be_visible()
        assert secret not in page.content()


def test_a_viewer_sees_the_revenue_settings_read_only(browser, shop):
    url, site = shop["url"], shop["site"]
    owner = api_client(url, "owner@revenue.example")
    token = invite(owner, site, "viewer@revenue.example", "viewer")

    with watched_page(browser, viewport={"width": 1280, "height": 900}) as page:
        accept_invitation_signing_up(page, url, token, "viewer@revenue.example")
        expect(page).to_have_url(f"{url}/sites/{site}")

        page.goto(f"{url}/sites/{site}/settings/revenue")
        expect(page.get_by_text("viewers cannot change settings")).to_be_visible()
        stripe = page.get_by_role("region", name="Stripe")
        expect(stripe.get_by_test_id("webhook-url")).to_have_text(f"{url}/api/webhooks/stripe/{site}")
        expect(stripe.get_by_label(re.compile("signing secret", re.I))).to_be_disabled()
        # Forced: the form enabled by hand and a secret sent; the API's refusal is shown.
        page.locator("fieldset").evaluate("fieldset => { fieldset.disabled = false; }")
        paddle = page.get_by_role("region", name="Paddle")
        paddle.get_by_label(re.compile("signing secret", re.I)).fill("pdl_by_a_viewer")
        paddle.get_by_role("button", name=re.compile("Save|Replace")).click()
        expect(paddle.get_by_role("alert")).to_contain_text("viewers cannot")
        page.screenshot(path=SCREENSHOTS / "revenue-settings-viewer.png", full_page=True)


def test_the_customers_page_lists_the_paying_customers(browser, shop):
    url, site = shop["url"], shop["site"]
    with watched_page(browser, viewport={"width": 1280, "height": 800}, storage_state=shop["storage_state"]) as page:
        page.goto(f"{url}/sites/{site}?period=7d")
        with page.expect_response(re.compile(r"/api/v1/customers\?")) as listed:
            page.get_by_role("link", name="Customers").click()
        expect(page).to_have_url(f"{url}/sites/{site}/customers?period=7d")
        assert "date_range=7d" in listed.value.url and listed.value.status == 200
        table = page.get_by_test_id("customers")
        ada = table.get_by_role("row").filter(has_text="ada@customer.example")
        expect(ada).to_contain_text("$120.00")
        expect(ada).to_contain_text(re.compile("newsletter", re.I))
        expect(table.get_by_role("row").filter(has_text="grace@customer.example")).to_contain_text("$50.00")
        expect(page.get_by_text("1–2 of 2")).to_be_visible()
        page.get_by_role("link", name="Back to the dashboard").click()
        expect(page).to_have_url(f"{url}/sites/{site}?period=7d")


def test_screenshots_light_dark_and_360(browser, shop):
    SCREENSHOTS.mkdir(exist_ok=True)
    url, site = shop["url"], shop["site"]
    shots = [
        ("revenue-desktop", {"viewport": {"width": 1280, "height": 800}}),
        ("revenue-dark", {"viewport": {"width": 1280, "height": 800}, "color_scheme": "dark"}),
        ("revenue-360", {"viewport": {"width": 360, "height": 780}, "device_scale_factor": 2, "is_mobile": True}),
    ]
    for name, options in shots:
        with watched_page(browser, storage_state=shop["storage_state"], **options) as page:
            width = options["viewport"]["width"]
            for view, path in [("dashboard", f"/sites/{site}?period=7d"),
                               ("settings", f"/sites/{site}/settings/revenue"),
                               ("customers", f"/sites/{site}/customers?period=7d")]:
                page.goto(f"{url}{path}")
                if view == "dashboard":
                    expect(_stat(page, "Visitors")).to_contain_text("3")
                    expect(_panel(page, "Devices").get_by_role("row").nth(1)).to_be_visible()
                page.wait_for_load_state("networkidle")
                expect(page.get_by_text("Loading…")).to_have_count(0)
                if options.get("color_scheme") == "dark":
                    assert page.evaluate("document.documentElement.classList.contains('dark')")
                # Nothing wider than the screen: the page never scrolls sideways.
                assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, view)
                page.screenshot(path=SCREENSHOTS / f"{name}-{view}.png", full_page=True)
                if view == "dashboard" and width == 360:  # the top of the long phone page, to look at
                    page.screenshot(path=SCREENSHOTS / f"{name}-{view}-top.png")
