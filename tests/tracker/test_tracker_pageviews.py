"""Pageviews, navigation and identity, as stored by the server."""

import time

from postmetric.ingest.sessions import SESSION_TIMEOUT_SECONDS
from postmetric.sites.service import get_site, update_site_settings
from postmetric.store.database import create_engine, session_factory

from tracker_pages import html, of_type


def test_pageview_with_title_referrer_and_campaign(live_server, site, pages, page_url, snippet, page):
    pages.add("/pricing", html(snippet(site), title="Pricing — Acme"))
    page.goto(page_url(site, "/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=nov"),
              referer="https://www.google.com/")
    [event] = live_server.stored_events(site.id, expect=1)
    assert (event["type"], event["pathname"], event["title"]) == ("pageview", "/pricing", "Pricing — Acme")
    assert (event["utm_source"], event["utm_medium"], event["utm_campaign"]) == ("newsletter", "email", "nov")
    assert event["referrer_host"] == "google.com"
    assert (event["source"], event["channel"]) == ("newsletter", "Email")
    assert (event["browser"], event["device"], event["viewport_width"]) == ("Chrome", "desktop", 1280)


def test_visitor_and_session_cookies_match_what_is_stored(live_server, site, pages, page_url, snippet, page, context):
    pages.add("/", html(snippet(site)))
    page.goto(page_url(site, "/"))
    [event] = live_server.stored_events(site.id, expect=1)
    cookies = {c["name"]: c for c in context.cookies()}
    assert set(cookies) >= {"_pm_vid", "_pm_sid"}
    assert str(event["visitor_id"]) == cookies["_pm_vid"]["value"] == page.evaluate("postmetric.getVisitorId()")
    assert str(event["session_id"]) == cookies["_pm_sid"]["value"] == page.evaluate("postmetric.getSessionId()")
    now = time.time()
    assert abs(cookies["_pm_vid"]["expires"] - (now + 365 * 86400)) < 120
    assert abs(cookies["_pm_sid"]["expires"] - (now + SESSION_TIMEOUT_SECONDS)) < 120
    assert cookies["_pm_vid"]["path"] == "/" and cookies["_pm_vid"]["sameSite"] == "Lax"


def test_cookies_are_scoped_to_data_domain(live_server, site, pages, page_url, snippet, page, context):
    pages.add("/", html(snippet(site, domain=site.domain)))
    page.goto(page_url(site, "/", host=f"www.{site.domain}"))
    live_server.stored_events(site.id, expect=1)
    domains = {c["name"]: c["domain"] for c in context.cookies()}
    assert domains["_pm_vid"] == f".{site.domain}" and domains["_pm_sid"] == f".{site.domain}"


def test_spa_navigation_sends_pageviews_and_back_forward(live_server, site, pages, page_url, snippet, page):
    pages.add("/app", html(snippet(site)))
    def pageviews_reach(count):
        return lambda events: len(of_type(events, "pageview")) >= count

    page.goto(page_url(site, "/app"))
    live_server.wait_for(site.id, pageviews_reach(1))
    page.evaluate("history.pushState({}, '', '/app/settings')")
    live_server.wait_for(site.id, pageviews_reach(2))
    page.evaluate("history.replaceState({}, '', '/app/billing')")
    live_server.wait_for(site.id, pageviews_reach(3))
    page.go_back()
    live_server.wait_for(site.id, pageviews_reach(4))
    page.go_forward()
    events = live_server.wait_for(site.id, pageviews_reach(5))
    assert [e["pathname"] for e in of_type(events, "pageview")] == [
        "/app", "/app/settings", "/app/billing", "/app", "/app/billing"]
    assert len({e["session_id"] for e in events}) == 1
    # each page left by navigation got its engagement event
    assert [e["pathname"] for e in of_type(events, "engagement")][:3] == ["/app", "/app/settings", "/app/billing"]


def test_hash_routing_on_and_off(live_server, site, pages, page_url, snippet, page, context):
    pages.add("/hash", html(snippet(site, hash_routing="true")))
    page.goto(page_url(site, "/hash#/inbox"))
    page.evaluate("location.hash = '#/settings'")
    events = live_server.wait_for(site.id, lambda events: len(of_type(events, "pageview")) >= 2)
    assert [e["pathname"] for e in of_type(events, "pageview")] == ["/hash#/inbox", "/hash#/settings"]

    plain = context.new_page()
    pages.add("/nohash", html(snippet(site)))
    plain.goto(page_url(site, "/nohash#/inbox"))
    plain.evaluate("location.hash = '#/settings'")
    plain.wait_for_load_state("networkidle")
    events = live_server.wait_for(site.id, lambda events: len(of_type(events, "pageview")) >= 3)
    assert [e["pathname"] for e in of_type(events, "pageview")][2:] == ["/nohash"]


def test_cookieless_mode_writes_nothing_and_still_counts_visitors(live_server, site, pages, page_url, snippet, page, context):
    pages.add("/", html(snippet(site, cookieless="true")))
    page.goto(page_url(site, "/"))
    page.reload()
    events = of_type(live_server.wait_for(site.id, lambda events: len(of_type(events, "pageview")) >= 2), "pageview")
    assert context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert page.evaluate("postmetric.getVisitorId()") is None
    assert len({e["visitor_id"] for e in events}) == 1 and len({e["session_id"] for e in events}) == 1


def test_cross_domain_link_keeps_one_visitor_and_strips_the_parameters(live_server, site, pages, page_url, snippet, page):
    other = f"shop.{site.domain.removesuffix('.test')}.test"
    tag = snippet(site, allowed_hostnames=other)
    target = page_url(site, "/checkout", host=other)
    pages.add("/", html(tag, body=f'<a id="go" href="{target}">buy</a>'))
    pages.add("/checkout", html(tag, title="Checkout"))
    engine = create_engine(live_server.settings.metadata_url)
    with session_factory(engine).begin() as session:
        update_site_settings(session, get_site(session, site.id), allowed_hostnames=[other])
    engine.dispose()  # the site was never looked up yet, so no cache holds its old settings

    page.goto(page_url(site, "/"))
    page.click("#go")
    page.wait_for_url(f"{target}*")
    events = live_server.wait_for(site.id, lambda events: len(of_type(events, "pageview")) >= 2)
    first, second = of_type(events, "pageview")[:2]
    assert second["hostname"] == other and second["pathname"] == "/checkout"
    assert second["visitor_id"] == first["visitor_id"]
    assert "_pm_vid" not in page.url and "_pm_sid" not in page.url
    assert second["query"] == ""
