"""Settings → Privacy in headless Chromium against the real server: the export button downloads the
site's zip with a progress readout, and the erase form removes a person; screenshots go to
`tests/dashboard/screenshots/`."""

from __future__ import annotations

import csv
import io
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from postmetric.web.routes.dashboard import DASHBOARD_DIR

from factories import CHROME_UA
from live_app import add_site, sign_up, watched_page

SCREENSHOTS = Path(__file__).parent / "screenshots"
ADA, BOB = str(uuid.uuid4()), str(uuid.uuid4())

pytestmark = pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file(), reason="the dashboard is not built: run `make install`"
)


@pytest.fixture(scope="module")
def site(server, browser):
    """`privacy.example`, added in the dashboard, with Ada's and Bob's visits sent with a site key made there."""
    url, app = server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_up(page, url, "owner@privacy.example")
    public_id, _snippet = add_site(page, "privacy.example")
    page.goto(f"{url}/sites/{public_id}/settings/keys")
    page.get_by_label("New key name").fill("backend")
    page.get_by_role("button", name="Create").click()
    key = page.get_by_test_id("new-key").inner_text()
    now = datetime.now(timezone.utc)

    def event(visitor: str, minutes_ago: int, path: str, **extra) -> dict:
        return {"websiteId": public_id, "type": "pageview", "href": f"https://privacy.example{path}",
                "visitorId": visitor, "ip": "8.8.8.8", "userAgent": CHROME_UA,
                "timestamp": (now - timedelta(minutes=minutes_ago)).isoformat(), **extra}

    events = [event(ADA, 90 - i, f"/docs/{i}") for i in range(40)]
    events += [event(ADA, 45, "/", type="identify", props={"email": "ada@privacy.example"}),
               event(BOB, 30, "/pricing")]
    answer = httpx.post(f"{url}/api/v1/events", json=events, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 202, answer.text
    app.state.services.writer.flush()
    state = context.storage_state()
    context.close()
    return {"url": url, "site": public_id, "key": key, "storage_state": state, "events": len(events)}


def test_the_export_button_downloads_every_event_once(browser, site, tmp_path):
    url = site["url"]
    with watched_page(browser, viewport={"width": 1280, "height": 800}, storage_state=site["storage_state"]) as page:
        page.goto(f"{url}/sites/{site['site']}/settings/privacy")
        with page.expect_download() as download:
            page.get_by_role("button", name="Export all data").click()
        expect(page.get_by_test_id("export-progress")).to_contain_text("saved")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "privacy-export.png", full_page=True)
        path = tmp_path / "export.zip"
        download.value.save_as(path)  # the download goes with the page's context
        assert download.value.suggested_filename.startswith("postmetric-privacy.example-")
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["events.csv", "visits.csv", "payments.csv"]
        events = list(csv.DictReader(io.TextIOWrapper(archive.open("events.csv"), encoding="utf-8")))
    assert len(events) == site["events"]
    assert len({(row["visitor_id"], row["timestamp"], row["type"]) for row in events}) == site["events"]


def test_the_erase_form_removes_a_person_and_says_how_much(browser, site):
    url = site["url"]
    with watched_page(browser, viewport={"width": 1280, "height": 800}, storage_state=site["storage_state"]) as page:
        page.goto(f"{url}/sites/{site['site']}/settings/privacy")
        page.get_by_label("Email").fill("ada@privacy.example")
        erase = page.get_by_role("button", name="Erase")
        expect(erase).to_be_disabled()
        page.get_by_label("This cannot be undone").check()
        erase.click()
        expect(page.get_by_test_id("erasure-result")).to_have_text(
            "Erased 1 visitor(s): 41 events, 1 visits; 0 payment(s) kept without personal data.")
        expect(page.get_by_test_id("erasure")).to_contain_text("by an email, 1 visitor(s), 41 events · owner@privacy.example")
        page.screenshot(path=SCREENSHOTS / "privacy-erased.png", full_page=True)
        page.get_by_label("Erase by").select_option("visitor_id")
        page.get_by_label("Visitor id").fill("not-a-uuid")
        page.get_by_label("This cannot be undone").check()
        page.get_by_role("button", name="Erase").click()
        expect(page.get_by_role("alert")).to_have_text("visitor_id: must be a UUID, as the Visitor API shows it")
    visitor = httpx.get(f"{url}/api/v1/visitors/{ADA}", headers={"Authorization": f"Bearer {site['key']}"})
    assert visitor.status_code == 404
