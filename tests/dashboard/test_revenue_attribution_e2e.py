"""Revenue attribution end to end, in headless Chromium against the real server (SPEC §3, §6, §9).

The issue's acceptance, built for real: a visitor lands with UTM, the page passes
`getVisitorId()` into a checkout, the signed webhook arrives, the dashboard's source row shows the
revenue.

1. A user signs up and adds `shop.test` in the dashboard, copies its snippet and sets a Stripe
   signing secret with `PUT /api/v1/sites/{id}/revenue/stripe` (the dashboard session and its
   CSRF header).
2. A visitor opens `shop.test/?utm_source=newsletter&utm_medium=email&utm_campaign=launch`, a page
   served by this test that holds the snippet (so the real `/js/script.js`). Its "Buy" button
   POSTs `postmetric.getVisitorId()` and `getSessionId()` to the shop's own `/checkout` (served
   here too: it stands in for a backend that creates a Stripe Checkout Session with
   `metadata: {postmetric_visitor_id, postmetric_session_id}`), then goes to the success URL
   `/success?session_id=cs_test_…`, where the script's success detection sends a `payment` event.
3. "Stripe" (this test) delivers `checkout.session.completed` for that session, in Stripe's shape
   and signed as Stripe signs, to the site's webhook URL: 200. A retry counts once; a forged
   signature and a tampered body are 401 and change nothing.
4. The query API says `visit:source` newsletter made $49 (first touch and last touch), in one
   payment although both the script's success-page event and the webhook arrived; the dashboard
   shows $49.00 in the headline, the Sources, Channels and Campaigns rows. A screenshot goes to
   `tests/dashboard/screenshots/revenue-attribution.png`.

As in `test_dashboard_snippet_e2e.py` (both use `tests/live_app.py`): the app runs under uvicorn in a
thread, every `*.test` hostname resolves to 127.0.0.1, and Chromium starts without the automation
switch so `navigator.webdriver` is false and the script tracks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from postmetric.web.routes.dashboard import DASHBOARD_DIR
from postmetric.web.routes.tracker import SCRIPT_DIR

from factories import CHROME_UA
from live_app import add_site, api_client, page_errors, sign_up, wait_for

SCREENSHOTS = Path(__file__).parent / "screenshots"
OWNER = "owner@shop.test"
SECRET = "whsec_e2e_" + uuid.uuid4().hex
PRICE_CENTS = 4900
LANDING = "/?utm_source=newsletter&utm_medium=email&utm_campaign=launch"

pytestmark = pytest.mark.skipif(
    not (DASHBOARD_DIR / "index.html").is_file() or not (SCRIPT_DIR / "script.js").is_file(),
    reason="the dashboard or the tracking script is not built: run `make install`",
)


# -- the shop: its pages and the backend that "creates" a Stripe Checkout Session ---------------


class Shop:
    """`shop.test`'s web server: the landing page, the success page, and `POST /checkout`, which
    remembers each checkout session it creates (id and metadata), as a shop's backend would
    before redirecting to Stripe."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.checkouts: list[dict] = []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = shop.pages.get(self.path.split("?", 1)[0])
                if page is None:
                    self.send_error(404)
                else:
                    self._send(200, "text/html; charset=utf-8", page.encode())

            def do_POST(self) -> None:
                if self.path != "/checkout":
                    self.send_error(404)
                    return
                ids = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                checkout = {"id": "cs_test_" + uuid.uuid4().hex, "amount_total": PRICE_CENTS, "currency": "usd",
                            "metadata": {"postmetric_visitor_id": ids["visitor_id"],
                                         "postmetric_session_id": ids["session_id"]}}
                shop.checkouts.append(checkout)
                # Stripe would send the buyer to its hosted page first, then to the success URL.
                answer = {"id": checkout["id"], "url": f"/success?session_id={checkout['id']}"}
                self._send(200, "application/json", json.dumps(answer).encode())

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def _landing_page(snippet: str) -> str:
    return f"""<!doctype html><html><head><title>Shop</title>{snippet}</head><body>
<h1>The launch edition</h1><p>$49.00</p>
<button id="buy">Buy</button>
<script>
document.getElementById("buy").addEventListener("click", async () => {{
  const response = await fetch("/checkout", {{
    method: "POST", headers: {{"Content-Type": "application/json"}},
    body: JSON.stringify({{visitor_id: window.postmetric.getVisitorId(),
                          session_id: window.postmetric.getSessionId()}}),
  }});
  const session = await response.json();
  location.href = session.url;
}});
</script></body></html>"""


def _success_page(snippet: str) -> str:
    return f"<!doctype html><html><head><title>Thanks</title>{snippet}</head><body><h1>Thank you</h1></body></html>"


# -- "Stripe": the event it sends and how it signs it ------------------------------------------


def _checkout_completed(checkout: dict, created: int) -> dict:
    """`checkout.session.completed` for `checkout`, in the shape Stripe sends (API 2025-03-31.basil)."""
    return {
        "id": "evt_test_" + uuid.uuid4().hex[:24], "object": "event", "api_version": "2025-03-31.basil",
        "created": created, "livemode": False, "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None}, "type": "checkout.session.completed",
        "data": {"object": {
            "id": checkout["id"], "object": "checkout.session", "mode": "payment",
            "amount_subtotal": checkout["amount_total"], "amount_total": checkout["amount_total"],
            "currency": checkout["currency"], "created": created - 60, "expires_at": created + 86_340,
            "customer": "cus_test_" + uuid.uuid4().hex[:14], "customer_email": None,
            "customer_details": {"email": "buyer@customer.example", "name": "Ada Buyer", "phone": None,
                                 "address": {"country": "DE"}, "tax_exempt": "none", "tax_ids": []},
            "invoice": None, "subscription": None, "livemode": False,
            "metadata": checkout["metadata"],
            "payment_intent": "pi_test_" + uuid.uuid4().hex[:24], "payment_status": "paid", "status": "complete",
            "success_url": "http://shop.test/success?session_id={CHECKOUT_SESSION_ID}",
            "cancel_url": "http://shop.test/", "ui_mode": "hosted", "url": None,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        }},
    }


def _stripe_signature(secret: str, body: bytes, at: int) -> str:
    """`Stripe-Signature` as Stripe writes it: HMAC-SHA256 of `t.body` keyed with the whsec_ secret."""
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def _deliver(url: str, site: str, body: bytes, signature: str) -> httpx.Response:
    return httpx.post(f"{url}/api/webhooks/stripe/{site}", content=body,
                      headers={"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature,
                               "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"})


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def as_a_person() -> bool:
    """The tracking script on the test pages ignores automated browsers."""
    return True


@pytest.fixture(scope="module")
def shop_server():
    served = Shop()
    yield served
    served.close()


def _query(api: httpx.Client, site: str, **query) -> dict:
    answer = api.post("/api/v1/query", json={"site_id": site, "date_range": "7d", **query})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def shop(server, browser, shop_server):
    """`shop.test`, added in the dashboard by its owner, with the snippet on its pages and a Stripe
    signing secret set through the API."""
    url, _app = server
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = page_errors(page)
    sign_up(page, url, OWNER)
    public_id, snippet_html = add_site(page, "shop.test")
    assert not errors, errors
    state = context.storage_state()
    context.close()

    shop_server.pages["/"] = _landing_page(snippet_html)
    shop_server.pages["/success"] = _success_page(snippet_html)

    api = api_client(url, OWNER)
    answer = api.put(f"/api/v1/sites/{public_id}/revenue/stripe", json={"webhook_secret": SECRET})
    assert answer.status_code == 200, answer.text
    assert SECRET not in answer.text  # never echoed back
    site = api.get(f"/api/v1/sites/{public_id}").json()
    yield {"url": url, "site": public_id, "currency": site["currency"], "storage_state": state, "api": api}
    api.close()


def test_a_newsletter_visitor_buys_and_the_signed_webhook_credits_the_newsletter(browser, shop, shop_server):
    url, site, api = shop["url"], shop["site"], shop["api"]
    shop_origin = f"http://shop.test:{shop_server.port}"

    # 1. The visitor lands from the newsletter and buys.
    visitor = browser.new_context(user_agent=CHROME_UA, viewport={"width": 1280, "height": 800})
    shop_page = visitor.new_page()
    visitor_errors = page_errors(shop_page)
    shop_page.goto(shop_origin + LANDING)
    assert shop_page.evaluate("navigator.webdriver") is False
    expect(shop_page.get_by_role("heading", name="The launch edition")).to_be_visible()
    ids = shop_page.evaluate("[window.postmetric.getVisitorId(), window.postmetric.getSessionId()]")
    assert all(re.fullmatch(r"[0-9a-f-]{36}", value or "") for value in ids), ids
    with shop_page.expect_request(lambda request: request.url.endswith("/api/events")
                                  and '"payment"' in (request.post_data or "")) as payment_event:
        shop_page.get_by_role("button", name="Buy").click()
        expect(shop_page).to_have_url(re.compile(r"/success\?session_id=cs_test_[0-9a-f]{32}$"))
        expect(shop_page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert len(shop_server.checkouts) == 1, shop_server.checkouts
    checkout = shop_server.checkouts[0]
    assert checkout["metadata"] == {"postmetric_visitor_id": ids[0], "postmetric_session_id": ids[1]}
    sent = json.loads(payment_event.value.post_data)
    assert sent["props"] == {"provider": "stripe", "checkout_id": checkout["id"]}, sent
    assert not visitor_errors, visitor_errors
    visitor.close()

    # 2. Stripe delivers checkout.session.completed, signed with the site's secret.
    now = int(time.time())
    body = json.dumps(_checkout_completed(checkout, now), separators=(",", ":")).encode()
    answer = _deliver(url, site, body, _stripe_signature(SECRET, body, now))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "recorded": 1, "duplicates": 0}
    retry = _deliver(url, site, body, _stripe_signature(SECRET, body, now + 1))  # Stripe retries: counts once
    assert retry.status_code == 200 and retry.json() == {"ok": True, "recorded": 0, "duplicates": 1}, retry.text

    # 3. The tracker's three events (landing pageview, success pageview, payment) are loaded.
    def tracker_events() -> dict | None:
        rows = _query(api, site, metrics=["events"], dimensions=["event:name"])["results"]
        counts = {row["dimensions"][0]: row["metrics"][0] for row in rows}
        return counts if counts.get("pageview") == 2 and counts.get("payment") == 1 else None

    wait_for(tracker_events, "the landing and success pageviews and the payment event")

    # 4. The query API: $49 for the newsletter, whichever touch; one payment.
    for attribution in ("first_touch", "last_touch"):
        rows = _query(api, site, metrics=["visitors", "revenue", "payments"], dimensions=["visit:source"],
                      attribution=attribution)["results"]
        assert [(r["dimensions"][0], r["metrics"]) for r in rows] == [("newsletter", [1, 49.0, 1])], (attribution, rows)
    total = _query(api, site, metrics=["revenue", "payments", "customers"])
    assert total["results"][0]["metrics"] == [49.0, 1, 1], total
    assert total["meta"]["currency"] == shop["currency"] == "USD", total["meta"]
    campaigns = _query(api, site, metrics=["revenue"], dimensions=["visit:utm_campaign"])["results"]
    assert [(r["dimensions"][0], r["metrics"][0]) for r in campaigns] == [("launch", 49.0)], campaigns

    # 5. Forged deliveries: another secret, or the signed body with a larger amount. 401, nothing changes.
    forged = _deliver(url, site, body, _stripe_signature("whsec_not_the_sites_secret", body, now))
    assert forged.status_code == 401, forged.text
    tampered = body.replace(f'"amount_total":{PRICE_CENTS}'.encode(), b'"amount_total":990000')
    assert tampered != body
    forged = _deliver(url, site, tampered, _stripe_signature(SECRET, body, now))
    assert forged.status_code == 401, forged.text
    total = _query(api, site, metrics=["revenue", "payments"])
    assert total["results"][0]["metrics"] == [49.0, 1], total

    # 6. The owner's dashboard.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, storage_state=shop["storage_state"])
    page = context.new_page()
    errors = page_errors(page)
    page.goto(f"{url}/sites/{site}?period=7d")
    expect(page.get_by_test_id("stat-Visitors")).to_contain_text("1")
    expect(page.get_by_test_id("stat-Revenue")).to_contain_text("$49.00")
    expect(page.get_by_test_id("stat-Revenue").get_by_test_id("revenue-parts")).to_have_text(
        re.compile(r"New\s*\$49\.00\s*Renewal\s*\$0\.00\s*Refunds\s*\$0\.00"))
    sources = page.get_by_role("region", name="Sources")
    sources.get_by_role("tab", name="Channels").click()
    expect(sources.get_by_role("row", name=re.compile("Email"))).to_contain_text("$49.00")
    sources.get_by_role("tab", name="Campaigns").click()
    expect(sources.get_by_role("row", name=re.compile("launch"))).to_contain_text("$49.00")
    sources.get_by_role("tab", name="Sources").click()
    newsletter = sources.get_by_role("row", name=re.compile("newsletter"))
    expect(newsletter).to_contain_text("$49.00")
    page.get_by_role("button", name="Last touch").click()
    expect(page.get_by_role("button", name="Last touch")).to_have_attribute("aria-pressed", "true")
    expect(newsletter).to_contain_text("$49.00")
    page.get_by_role("button", name="First touch").click()
    expect(page.get_by_role("button", name="First touch")).to_have_attribute("aria-pressed", "true")
    expect(newsletter).to_contain_text("$49.00")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Loading…")).to_have_count(0)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "revenue-attribution.png", full_page=True)
    assert not errors, errors
    context.close()
