"""Account security in the dashboard, in headless Chromium: the first person signs up freely, the
next one reads why they cannot; account tokens are created, listed and revoked under Account; every
page runs under the Content-Security-Policy (a blocked script or style fails the test through
`page_errors`). Screenshots go to `tests/dashboard/screenshots/`."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from postmetric.web.routes.dashboard import DASHBOARD_DIR

from live_app import PASSWORD, Pages, page_errors, sign_up

SCREENSHOTS = Path(__file__).parent / "screenshots"

pytestmark = pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file(), reason="the dashboard is not built: run `make install`"
)


def test_signup_by_invitation_only_and_account_tokens(server, browser):
    url, _ = server
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = page_errors(page)
    response = page.goto(f"{url}/signup")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    sign_up(page, url, "owner@account.example")  # the first account: no invitation needed
    expect(page.get_by_role("heading", name="Sites")).to_be_visible()

    page.get_by_role("link", name="owner@account.example").click()
    expect(page).to_have_url(f"{url}/account")
    expect(page.get_by_text("No account token yet.")).to_be_visible()
    for name in ("CI", "laptop"):
        page.get_by_label("New token name").fill(name)
        page.get_by_role("button", name="Create").click()
        expect(page.get_by_test_id("token").filter(has_text=name)).to_be_visible()
    ci_token = page.get_by_test_id("new-token").inner_text()  # the last one created: laptop
    assert ci_token.startswith("pmt_")
    assert httpx.get(f"{url}/api/v1/sites", headers={"Authorization": f"Bearer {ci_token}"}).status_code == 200
    expect(page.get_by_test_id("token")).to_have_count(2)
    page.screenshot(path=SCREENSHOTS / "account-tokens.png")

    page.get_by_role("button", name="Revoke laptop").click()
    expect(page.get_by_test_id("token").filter(has_text="laptop")).to_contain_text(re.compile("revoked"))
    assert httpx.get(f"{url}/api/v1/sites", headers={"Authorization": f"Bearer {ci_token}"}).status_code == 401
    expect(page.get_by_role("button", name="Revoke CI")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "account-tokens-revoked.png")
    assert not errors, errors
    context.close()

    stranger = browser.new_context(viewport={"width": 360, "height": 640})
    page = stranger.new_page()
    errors = page_errors(page)
    page.goto(f"{url}/signup")
    expect(page.get_by_role("alert")).to_contain_text("by invitation only")
    expect(page.get_by_role("button", name="Sign up")).to_have_count(0)
    page.screenshot(path=SCREENSHOTS / "signup-invitation-only.png")
    answer = httpx.post(f"{url}/api/v1/auth/signup", json={"email": "eve@account.example", "password": PASSWORD})
    assert answer.status_code == 403 and "invitation" in answer.json()["error"]
    assert not errors, errors
    stranger.close()


def test_another_site_cannot_frame_the_dashboard_but_still_loads_the_tracker(server, browser):
    url, _ = server
    served = Pages()  # another origin: 127.0.0.1 on another port
    served.add("/embed.html", f'<script defer data-website-id="pm_nonexistent" src="{url}/js/script.js"></script>'
                              f'<iframe id="victim" src="{url}/login"></iframe>')
    context = browser.new_context()
    try:
        page = context.new_page()
        blocked: list[str] = []
        page.on("console", lambda message: blocked.append(message.text) if "frame-ancestors" in message.text else None)
        page.goto(f"http://127.0.0.1:{served.port}/embed.html")
        page.wait_for_function("typeof window.postmetric === 'function'")  # the script ran, cross-origin
        frame = page.frame_locator("#victim")
        expect(frame.get_by_role("button", name="Log in")).to_have_count(0)  # nothing to click through
        assert any("frame-ancestors 'none'" in text for text in blocked), blocked
    finally:
        context.close()
        served.close()
