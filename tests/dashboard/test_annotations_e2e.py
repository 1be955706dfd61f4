"""Annotations on the main chart in headless Chromium against the real server (issue 17).

A user signs up and adds `chart.example` (UTC) in the dashboard and makes a site key there. Commits, a post on
X and a note are written to the metadata database as the integrations' sync would; visits and a payment come
in through the API, backfilled with `timestamp`. With D = five days ago (UTC midnight):

  D−12 08:00  note    "Launched on Product Hunt"
  D−3  09:00  post    @ada "Switched our analytics to Postmetric"
  D−3  10:00  V1 from t.co, pays $40 at 10:10;  D−3 11:00  V2 with utm_source=twitter
  D    10:00, 11:00, 12:00   three commits (one marker: "3 commits")
  D+1  09:00, 10:00, 11:00   V3, V4, V5 direct

So each commit's card reads visitors 2 → 3 (+50%) and revenue $40.00 → $0.00 over the 7 days before and
after (so far); the post's, "From X in the 24 h after: 2 visitors, $40.00"; the Mentions panel lists it.
Screenshots go to tests/dashboard/screenshots/.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from postmetric.sites.service import get_site
from postmetric.store.metadata import Annotation
from postmetric.web.routes.dashboard import DASHBOARD_DIR

from factories import CHROME_UA
from live_app import accept_invitation_signing_up, add_site, api_client, invite, page_errors, sign_up

SCREENSHOTS = Path(__file__).parent / "screenshots"
EMAIL = "owner@chart.example"

pytestmark = pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file(), reason="the dashboard is not built: run `make install`"
)


def day(offset: int, hour: int, minute: int = 0) -> datetime:
    """`offset` days from D (five days ago, UTC midnight) at hour:minute."""
    d = datetime.combine(datetime.now(timezone.utc).date(), time(0), tzinfo=timezone.utc) - timedelta(days=5)
    return d + timedelta(days=offset, hours=hour, minutes=minute)


def _events(public_id: str) -> tuple[list[dict], str]:
    visitors = [str(uuid.uuid4()) for _ in range(5)]

    def event(n: int, at: datetime, referrer: str = "", query: str = "") -> dict:
        return {"websiteId": public_id, "type": "pageview", "href": f"https://chart.example/{query}",
                "referrer": referrer, "visitorId": visitors[n], "ip": "8.8.8.8", "userAgent": CHROME_UA,
                "timestamp": at.isoformat()}

    return [
        event(0, day(-3, 10), referrer="https://t.co/Ab12Cd"),
        event(1, day(-3, 11), query="?utm_source=twitter"),
        event(2, day(1, 9)), event(3, day(1, 10)), event(4, day(1, 11)),
    ], visitors[0]


def _annotations(site_id: int) -> list[Annotation]:
    commit = {"kind": "github", "url": "https://github.com/example/app/commit/4f2a9c1e0b7d", "author": "octocat"}
    return [
        Annotation(site_id=site_id, kind="note", time=day(-12, 8), text="Launched on Product Hunt",
                   url="https://www.producthunt.com/posts/postmetric"),
        Annotation(site_id=site_id, kind="x", time=day(-3, 9), text="Switched our analytics to Postmetric: one "
                   "script, no cookie banner", url="https://x.com/ada/status/1863512345678901248",
                   external_id="1863512345678901248", author="Ada Lovelace",
                   details={"post_id": "1863512345678901248", "username": "ada", "name": "Ada Lovelace",
                            "likes": 214, "reposts": 31, "replies": 12, "impressions": 18250}),
        Annotation(site_id=site_id, time=day(0, 10), text="Fix the signup form on Safari\n\nThe body was empty.",
                   external_id="4f2a9c1e0b7d",
                   details={"type": "commit", "sha": "4f2a9c1e0b7d", "additions": 12, "deletions": 3}, **commit),
        Annotation(site_id=site_id, time=day(0, 11), text="Cache the pricing page", external_id="9b1c2d3e4f50",
                   details={"type": "commit", "sha": "9b1c2d3e4f50", "additions": 40, "deletions": 8}, **commit),
        Annotation(site_id=site_id, time=day(0, 12), text="Release v2.0", external_id="v2.0",
                   details={"type": "release", "tag": "v2.0"}, **commit),
    ]


@pytest.fixture(scope="module")
def site(server, browser):
    url, app = server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = page_errors(page)
    sign_up(page, url, EMAIL)
    public_id, _snippet = add_site(page, "chart.example")
    page.goto(f"{url}/sites/{public_id}/settings/keys")
    page.get_by_label("New key name").fill("backend")
    page.get_by_role("button", name="Create").click()
    key = page.get_by_test_id("new-key").inner_text()
    headers = {"Authorization": f"Bearer {key}"}

    events, payer = _events(public_id)
    answer = httpx.post(f"{url}/api/v1/events", json=events, headers=headers)
    assert answer.status_code == 202 and answer.json()["accepted"] == 5, answer.text
    answer = httpx.post(f"{url}/api/v1/payments", headers=headers, json={
        "transaction_id": "pi_1", "amount": 40, "currency": "usd", "datafast_visitor_id": payer,
        "timestamp": day(-3, 10, 10).isoformat()})
    assert answer.status_code in (200, 201), answer.text
    app.state.services.writer.flush()
    with app.state.services.metadata() as session:
        session.add_all(_annotations(get_site(session, public_id).id))
        session.commit()
    assert not errors, errors
    state = context.storage_state()
    context.close()
    return {"url": url, "site": public_id, "storage_state": state}


def marker(page, offset: int):
    return page.locator(f'[data-testid="annotation-marker"][data-bucket="{day(offset, 0).date().isoformat()}"]')


def test_the_chart_shows_grouped_markers_with_their_cards_and_impact(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, storage_state=site["storage_state"])
    page = context.new_page()
    errors = page_errors(page)
    page.goto(f"{site['url']}/sites/{site['site']}?period=30d")
    expect(page.get_by_test_id("annotation-marker")).to_have_count(3)
    commits = marker(page, 0)
    expect(commits).to_have_attribute("aria-label", "3 commits")
    expect(commits).to_contain_text("3")

    commits.hover()
    card = page.get_by_test_id("annotation-card")
    expect(card).to_contain_text("3 commits")
    expect(card).to_contain_text("4f2a9c1")
    expect(card).to_contain_text("Fix the signup form on Safari")
    expect(card).not_to_contain_text("The body was empty")  # the first line only
    expect(card).to_contain_text("octocat")
    expect(card).to_contain_text("+12")
    expect(card).to_contain_text("−3")
    expect(card).to_contain_text("v2.0")
    expect(card.get_by_role("link", name="View on GitHub").first).to_have_attribute(
        "href", re.compile(r"^https://github\.com/example/app/commit/"))
    impact = card.get_by_test_id("impact").first
    expect(impact).to_contain_text("7 days before → after (so far)")
    expect(impact.get_by_role("row", name=re.compile("Visitors"))).to_contain_text("2 → 3")
    expect(impact.get_by_role("row", name=re.compile("Visitors"))).to_contain_text("+50%")
    expect(impact.get_by_role("row", name=re.compile("Conversion rate"))).to_contain_text("50% → 0%")
    expect(impact.get_by_role("row", name=re.compile("Revenue"))).to_contain_text("$40.00 → $0.00")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "annotations-commits.png")

    marker(page, -3).hover()
    expect(card).to_contain_text("@ada")
    expect(card).to_contain_text("Switched our analytics to Postmetric")
    expect(card).to_contain_text("214 likes")
    expect(card).to_contain_text("31 reposts")
    expect(card).to_contain_text("12 replies")
    expect(card.get_by_test_id("impact")).to_have_text("From X in the 24 h after: 2 visitors, $40.00")
    page.screenshot(path=SCREENSHOTS / "annotations-post.png")

    mentions = page.get_by_test_id("mentions")
    expect(mentions.get_by_role("row", name=re.compile("@ada"))).to_contain_text("Switched our analytics")
    expect(mentions.get_by_role("row", name=re.compile("@ada"))).to_contain_text("$40.00")
    page.mouse.move(5, 5)  # off the chart: the card closes
    expect(card).to_have_count(0)

    # The kinds toggle, and the choice survives a reload.
    page.get_by_role("button", name=re.compile("^Commits")).click()
    expect(page.get_by_test_id("annotation-marker")).to_have_count(2)
    page.reload()
    expect(page.get_by_test_id("annotation-marker")).to_have_count(2)
    expect(page.get_by_role("button", name=re.compile("^Commits"))).to_have_attribute("aria-pressed", "false")
    page.get_by_role("button", name=re.compile("^Commits")).click()
    expect(page.get_by_test_id("annotation-marker")).to_have_count(3)

    # From the keyboard: a marker takes the focus and opens its card; Escape closes it.
    marker(page, -12).focus()
    expect(card).to_contain_text("Launched on Product Hunt")
    page.keyboard.press("Escape")
    expect(card).to_have_count(0)
    assert not errors, errors
    context.close()


def test_an_owner_adds_edits_and_deletes_a_note_from_the_chart(browser, site):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, storage_state=site["storage_state"])
    page = context.new_page()
    errors = page_errors(page)
    page.goto(f"{site['url']}/sites/{site['site']}?period=30d")
    expect(page.get_by_test_id("annotation-marker")).to_have_count(3)
    page.get_by_role("button", name="Add note").click()
    form = page.get_by_role("form", name="Add a note")
    form.get_by_label("When (UTC)").fill(day(-8, 15, 30).strftime("%Y-%m-%dT%H:%M"))
    form.get_by_role("textbox", name="Note", exact=True).fill("New pricing page")
    form.get_by_label("Link (optional)").fill("https://chart.example/pricing")
    form.get_by_role("button", name="Add note").click()
    expect(form).to_have_count(0)
    note = marker(page, -8)
    expect(note).to_have_attribute("aria-label", "New pricing page")

    note.hover()
    card = page.get_by_test_id("annotation-card")
    expect(card).to_contain_text("New pricing page")
    expect(card).to_contain_text(day(-8, 15, 30).strftime("%-d %b %Y, 15:30"))
    expect(card.get_by_role("link", name="Open link")).to_have_attribute("href", "https://chart.example/pricing")
    expect(card.get_by_test_id("impact")).to_contain_text("7 days before → after")
    page.screenshot(path=SCREENSHOTS / "annotations-note.png")
    card.get_by_role("button", name="Edit").click()
    card.get_by_role("textbox", name="Note", exact=True).fill("New pricing page (annual plans)")
    card.get_by_role("button", name="Save").click()
    expect(card).to_contain_text("New pricing page (annual plans)")
    expect(note).to_have_attribute("aria-label", "New pricing page (annual plans)")

    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Delete").click()
    expect(note).to_have_count(0)
    expect(page.get_by_test_id("annotation-marker")).to_have_count(3)
    assert not errors, errors
    context.close()


def test_a_viewer_sees_the_notes_read_only(browser, site):
    owner = api_client(site["url"], EMAIL)
    token = invite(owner, site["site"], "viewer@chart.example", "viewer")
    owner.close()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = page_errors(page)
    accept_invitation_signing_up(page, site["url"], token, "viewer@chart.example")
    page.goto(f"{site['url']}/sites/{site['site']}?period=30d")
    expect(page.get_by_test_id("annotation-marker")).to_have_count(3)
    expect(page.get_by_role("button", name="Add note")).to_have_count(0)
    marker(page, -12).hover()
    card = page.get_by_test_id("annotation-card")
    expect(card).to_contain_text("Launched on Product Hunt")
    expect(card.get_by_test_id("impact")).to_be_visible()
    expect(card.get_by_role("button", name="Edit")).to_have_count(0)
    expect(card.get_by_role("button", name="Delete")).to_have_count(0)
    assert not errors, errors
    context.close()


def test_the_shared_view_shows_the_annotations_read_only(browser, site):
    owner = api_client(site["url"], EMAIL)
    answer = owner.put(f"/api/v1/sites/{site['site']}/sharing", json={"enabled": True})
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    owner.close()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors = page_errors(page)
    page.goto(f"{site['url']}/share/{token}?period=30d")
    expect(page.get_by_test_id("annotation-marker")).to_have_count(3)
    expect(page.get_by_role("button", name="Add note")).to_have_count(0)
    marker(page, -12).hover()
    card = page.get_by_test_id("annotation-card")
    expect(card).to_contain_text("Launched on Product Hunt")
    expect(card.get_by_test_id("impact")).to_be_visible()
    expect(card.get_by_role("button", name="Edit")).to_have_count(0)
    expect(card.get_by_role("button", name="Delete")).to_have_count(0)
    expect(page.get_by_test_id("mentions")).to_contain_text("@ada")
    page.screenshot(path=SCREENSHOTS / "annotations-shared.png", full_page=True)
    assert not errors, errors
    context.close()


@pytest.mark.parametrize(("name", "options"), [
    ("annotations-phone-360.png", {"viewport": {"width": 360, "height": 780}, "device_scale_factor": 2,
                                   "is_mobile": True, "has_touch": True}),
    ("annotations-dark.png", {"viewport": {"width": 1280, "height": 800}, "color_scheme": "dark"}),
])
def test_a_card_fits_a_phone_and_reads_in_the_dark(browser, site, name, options):
    context = browser.new_context(storage_state=site["storage_state"], **options)
    page = context.new_page()
    errors = page_errors(page)
    page.goto(f"{site['url']}/sites/{site['site']}?period=30d")
    commits = marker(page, 0)
    if options.get("has_touch"):
        commits.tap()
    else:
        commits.hover()
    card = page.get_by_test_id("annotation-card")
    expect(card.get_by_test_id("impact").first).to_contain_text("2 → 3")
    box, viewport = card.bounding_box(), page.viewport_size
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (box, viewport)  # wholly on screen
    chart_top = page.get_by_test_id("main-chart").bounding_box()["y"]
    page.screenshot(path=SCREENSHOTS / name, full_page=True,
                    clip={"x": 0, "y": max(chart_top - 80, 0), "width": viewport["width"], "height": 700})
    assert not errors, errors
    context.close()
