"""The pipeline's steps, run for real (user agents, geolocation, sources, sessions) on one event."""

from dataclasses import replace

import pytest

from postmetric.ingest import pipeline
from postmetric.ingest.event import DropReason, Event, EventType
from postmetric.ingest.geo import GeoDatabase
from postmetric.ingest.pipeline import Enrichers
from postmetric.ingest.sessions import SessionTracker
from postmetric.ingest.useragent import UserAgentParser
from postmetric.sites.settings import SiteSettings

from factories import CHROME_UA, Clock

NOW = 1_780_000_000.0
SITE = SiteSettings(
    id=7, public_id="pm_AbCdEf123456", domain="example.com", timezone="UTC", currency="EUR",
    allowed_hostnames=("docs.example.org",), excluded_ips=(), excluded_countries=frozenset(),
    excluded_hostnames=(), excluded_paths=(), cookieless=False, retention_days=None,
)


@pytest.fixture(scope="module")
def enrichers(derived_data_dir):
    geo = GeoDatabase.open(derived_data_dir)
    sessions = SessionTracker(salts=lambda day: (b"s" * 32, None), clock=Clock(NOW))
    yield Enrichers({SITE.public_id: SITE}.get, UserAgentParser(), geo, sessions)
    geo.close()


def run(enrichers, href, referrer="", ip="81.2.69.142", user_agent=CHROME_UA) -> Event:
    event = Event(site_public_id=SITE.public_id, type=EventType.PAGEVIEW, name="pageview", href=href,
                  timestamp=NOW, ip=ip, user_agent=user_agent, referrer=referrer)
    return pipeline.run(event, enrichers)


@pytest.mark.parametrize(
    "href, hostname, pathname, query",
    [
        ("https://example.com", "example.com", "/", ""),
        ("https://WWW.Example.COM/Pricing", "example.com", "/Pricing", ""),
        ("https://user:pw@blog.example.com:8443/a/b?x=1", "blog.example.com", "/a/b", "x=1"),
        ("http://example.com/app#/settings/billing", "example.com", "/app#/settings/billing", ""),
        ("https://example.com/?q=1#top", "example.com", "/#top", "q=1"),
        ("https://docs.example.org/guide", "docs.example.org", "/guide", ""),
    ],
)
def test_url_parts(enrichers, href, hostname, pathname, query):
    event = run(enrichers, href)
    assert event.drop_reason is None
    assert (event.hostname, event.pathname, event.query) == (hostname, pathname, query)


def test_campaign_parameters_and_click_ids_come_from_the_landing_url(enrichers):
    event = run(enrichers, "https://example.com/?utm_source=Newsletter&utm_medium=email&utm_campaign=nov"
                           "&utm_term=t&utm_content=c&gclid=abc&via=friend", ip="1.1.1.1")  # a new visit
    assert (event.utm_source, event.utm_medium, event.utm_campaign, event.utm_term, event.utm_content) == (
        "Newsletter", "email", "nov", "t", "c")
    assert event.click_ids == {"gclid": "abc"} and event.ref == "friend"
    assert event.visit.attribute("source") == "Newsletter"


def test_a_query_without_campaign_parameters_sets_none(enrichers):
    event = run(enrichers, "https://example.com/search?q=utm&page=2")
    assert (event.utm_source, event.ref, event.click_ids) == ("", "", {})


@pytest.mark.parametrize(
    "referrer, referrer_host, source, channel",
    [
        ("https://www.google.de/", "google.de", "Google", "Organic Search"),
        ("https://example.com/previous", "", "", "Direct"),
        ("https://app.example.com/", "", "", "Direct"),
        ("http://localhost:3000/", "", "", "Direct"),
        ("https://chatgpt.com/", "chatgpt.com", "ChatGPT", "AI Assistants"),
        ("not a url", "", "", "Direct"),
        ("https://[::1", "", "", "Direct"),
    ],
)
def test_referrers(enrichers, referrer, referrer_host, source, channel):
    event = run(enrichers, "https://example.com/", referrer=referrer)
    assert (event.referrer_host, event.source, event.channel) == (referrer_host, source, channel)


def test_enrichment_from_user_agent_and_address(enrichers):
    event = run(enrichers, "https://example.com/")
    assert (event.browser, event.os, event.device) == ("Chrome", "Windows", "desktop")
    assert (event.country, event.region, event.city) == ("GB", "England", "London")
    private = run(enrichers, "https://example.com/", ip="192.168.1.10")
    assert (private.country, private.city) == ("", "")


def test_drops_stop_the_pipeline_before_identity(enrichers):
    bot = run(enrichers, "https://example.com/", user_agent="curl/8.5.0")
    assert bot.drop_reason is DropReason.BOT and bot.visit is None
    foreign = run(enrichers, "https://example.net/")
    assert foreign.drop_reason is DropReason.HOSTNAME_NOT_ALLOWED and foreign.visit is None


def test_excluded_paths_with_nested_stars_are_matched_on_long_paths_without_backtracking(derived_data_dir):
    """Patterns a backtracking regex needs minutes for on a 2,000-character path (see sites/patterns.py)."""
    site = replace(SITE, excluded_paths=("/*a*a*a*a*a*a*a*a*b", "/*/*/*/*/*/*/*/*/x"))
    geo = GeoDatabase.open(derived_data_dir)
    try:
        enrichers = Enrichers({site.public_id: site}.get, UserAgentParser(), geo,
                              SessionTracker(salts=lambda day: (b"s" * 32, None), clock=Clock(NOW)))
        for path, dropped in (("/" + "a" * 2000, False), ("/" + "a" * 2000 + "b", True),
                              ("/" + "a/" * 1000, False), ("/" + "a/" * 1000 + "x", True)):
            event = run(enrichers, f"https://example.com{path}")
            assert (event.drop_reason is DropReason.EXCLUDED_PATH) is dropped, path[:20]
    finally:
        geo.close()


def test_a_cookieless_site_ignores_the_ids_a_page_sends(enrichers):
    """Settings → cookieless holds even for a snippet that still sends ids: the visit is the server's hash."""
    cookieless = replace(SITE, public_id="pm_Cookieless0001", cookieless=True)
    ctx = replace(enrichers, sites={SITE.public_id: SITE, cookieless.public_id: cookieless}.get)
    sent = {"client_visitor_id": "0b5f4c6e-1f2a-4d3b-9c8d-7e6f5a4b3c2d",
            "client_session_id": "1c6e5d7f-2a3b-4c4d-8d9e-8f7a6b5c4d3e"}

    def pageview(public_id: str) -> Event:
        event = Event(site_public_id=public_id, type=EventType.PAGEVIEW, name="pageview",
                      href="https://example.com/", timestamp=NOW, ip="81.2.69.142", user_agent=CHROME_UA, **sent)
        return pipeline.run(event, ctx)

    assert pageview(SITE.public_id).visit.visitor_id == sent["client_visitor_id"]
    hashed = pageview(cookieless.public_id)
    assert hashed.drop_reason is None
    assert hashed.visit.visitor_id not in sent.values() and hashed.visit.session_id not in sent.values()
    assert pageview(cookieless.public_id).visit.visitor_id == hashed.visit.visitor_id  # same visitor, by hash
