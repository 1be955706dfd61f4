"""Consent mode (data-consent="required"): nothing on the device and cookieless events until
`postmetric('consent', true)`; `postmetric('consent', false)` deletes what the script stored."""

import json
import uuid
from datetime import datetime, timezone

from postmetric.ingest.event import Event, EventType
from postmetric.ingest.sessions import cookieless_visitor_ids
from postmetric.sites.salts import cookieless_salts

from tracker_pages import DESKTOP_CHROME, html, of_type

QUEUE_STUB = "<script>window.postmetric=window.postmetric||function(){(postmetric.q=postmetric.q||[]).push(arguments)};"
# The site's own things, which withdrawal must leave alone.
SITE_STATE = "document.cookie = 'theme=dark;path=/'; localStorage.cart = '2 items'"
ALL_STORED = ("({cookie: document.cookie, local: {...localStorage}, session: {...sessionStorage},"
              " vid: postmetric.getVisitorId(), sid: postmetric.getSessionId()})")


def sent_payloads(page) -> list[dict]:
    """Every event body the page sends, as parsed JSON, in order."""
    payloads: list[dict] = []
    page.on("request", lambda r: payloads.append(json.loads(r.post_data)) if "/api/events" in r.url else None)
    return payloads


def cookieless_ids(live_server, site) -> set[str]:
    """The visitor ids the server derives for this browser's cookieless events (today's salt, and
    yesterday's near midnight): the ids of events counted on the cookieless path."""
    with live_server.services.metadata() as session:
        salts = cookieless_salts(session, today=datetime.now(timezone.utc).date())
    event = Event(site_public_id=site.public_id, type=EventType.PAGEVIEW, name="", href="", timestamp=0.0,
                  ip="127.0.0.1", user_agent=DESKTOP_CHROME)
    event.site_id = site.id
    return {visitor for visitor in cookieless_visitor_ids(event, salts) if visitor}


def pm_cookies(context) -> dict[str, dict]:
    return {c["name"]: c for c in context.cookies() if c["name"].startswith("_pm_")}


def test_before_consent_nothing_is_stored_and_events_are_cookieless(
        live_server, site, pages, page_url, snippet, page, context):
    tag = snippet(site, consent="required")
    pages.add("/thanks", html(tag, body='<button id="b" data-postmetric-goal="clicked">go</button>'))
    payloads = sent_payloads(page)
    # Every way the script stores something: ids (cookies), a payment success page (localStorage),
    # and ids arriving from a cross-domain link (adopted as cookies when allowed).
    arriving = f"_pm_vid={uuid.uuid4()}&_pm_sid={uuid.uuid4()}"
    page.goto(page_url(site, f"/thanks?session_id=cs_test_c1&{arriving}"))
    page.click("#b")
    # Only `true` itself is consent: not a CMP's string or number.
    page.evaluate("postmetric('consent', 'false'); postmetric('consent', 1); postmetric('consent', 'yes')")
    page.evaluate("postmetric('identify', {user_id: 'u_1'}); postmetric('signup')")
    events = live_server.wait_for(site.id, lambda events: len(events) >= 5)
    page.wait_for_load_state("networkidle")

    assert sorted(e["type"] for e in events) == ["goal", "goal", "identify", "pageview", "payment"]
    assert {str(e["visitor_id"]) for e in events} <= cookieless_ids(live_server, site)
    assert len({e["session_id"] for e in events}) == 1
    assert payloads and all("visitorId" not in p and "sessionId" not in p for p in payloads)
    assert context.cookies() == []
    assert page.evaluate(ALL_STORED) == {"cookie": "", "local": {}, "session": {}, "vid": None, "sid": None}
    assert "_pm_vid" not in page.url  # still stripped from the URL

    # A reload sends the payment again: without storage there is nothing to remember it by.
    page.reload()
    live_server.wait_for(site.id, lambda events: len(of_type(events, "payment")) >= 2)
    assert context.cookies() == [] and page.evaluate("localStorage.length + sessionStorage.length") == 0


def test_consent_given_sets_the_ids_uses_them_and_is_remembered(
        live_server, site, pages, page_url, snippet, page, context):
    tag = snippet(site, consent="required")
    pages.add("/", html(tag))
    pages.add("/thanks", html(tag))
    page.goto(page_url(site, "/"))
    live_server.stored_events(site.id, expect=1)
    page.evaluate("postmetric('consent', true)")
    cookies = pm_cookies(context)
    assert set(cookies) == {"_pm_vid", "_pm_sid", "_pm_consent"}
    vid, sid = cookies["_pm_vid"]["value"], cookies["_pm_sid"]["value"]
    assert page.evaluate("[postmetric.getVisitorId(), postmetric.getSessionId()]") == [vid, sid]

    page.evaluate("postmetric('signup')")
    [goal] = of_type(live_server.wait_for(site.id, lambda events: of_type(events, "goal")), "goal")
    assert (str(goal["visitor_id"]), str(goal["session_id"])) == (vid, sid)

    # The next page: consent is remembered, so its first pageview carries the ids, and a payment
    # is remembered in localStorage as usual.
    page.goto(page_url(site, "/thanks?session_id=cs_test_c2"))
    page.reload()
    events = live_server.wait_for(site.id, lambda events: len(of_type(events, "pageview")) >= 3)
    page.wait_for_load_state("networkidle")
    events = live_server.stored_events(site.id)
    pageviews = of_type(events, "pageview")
    assert str(pageviews[0]["visitor_id"]) in cookieless_ids(live_server, site)  # before consent
    assert {(str(e["visitor_id"]), str(e["session_id"])) for e in pageviews[1:]} == {(vid, sid)}
    assert len(of_type(events, "payment")) == 1
    assert page.evaluate("Object.keys(localStorage)") == ["_pm_pay:cs_test_c2"]


def test_consent_withdrawn_deletes_the_scripts_cookies_and_storage_and_sending_goes_on_cookieless(
        live_server, site, pages, page_url, snippet, page, context):
    # With data-domain the cookies are on .<domain>: deleting them must name the same domain.
    tag = QUEUE_STUB + "postmetric('consent', true)</script>" + snippet(site, consent="required", domain=site.domain)
    pages.add("/thanks", html(tag))
    pages.add("/next", html(snippet(site, consent="required", domain=site.domain)))
    page.goto(page_url(site, "/thanks?order_id=77", host=f"www.{site.domain}"))
    page.evaluate(SITE_STATE)
    live_server.wait_for(site.id, lambda events: len(events) >= 2)
    assert {c["domain"] for c in pm_cookies(context).values()} == {f".{site.domain}"}
    assert set(pm_cookies(context)) == {"_pm_vid", "_pm_sid", "_pm_consent"}
    assert "_pm_pay:77" in page.evaluate("Object.keys(localStorage)")

    page.evaluate("postmetric('consent', false)")
    assert pm_cookies(context) == {}
    stored = page.evaluate(ALL_STORED)
    assert stored == {"cookie": "theme=dark", "local": {"cart": "2 items"}, "session": {}, "vid": None, "sid": None}

    payloads = sent_payloads(page)
    page.evaluate("postmetric('after_withdrawal')")
    [goal] = of_type(live_server.wait_for(site.id, lambda events: of_type(events, "goal")), "goal")
    assert str(goal["visitor_id"]) in cookieless_ids(live_server, site)
    assert "visitorId" not in payloads[0] and pm_cookies(context) == {}

    # The consent cookie went too: the next page is cookieless from its start.
    page.goto(page_url(site, "/next", host=f"www.{site.domain}"))
    events = live_server.wait_for(site.id, lambda events: len(of_type(events, "pageview")) >= 2)
    assert str(of_type(events, "pageview")[1]["visitor_id"]) in cookieless_ids(live_server, site)
    assert pm_cookies(context) == {}


def test_consent_queued_before_the_script_counts_from_the_first_pageview(
        live_server, site, pages, page_url, snippet, page, context):
    stub = QUEUE_STUB + "postmetric('consent', true); postmetric('newsletter')</script>"
    pages.add("/", html(stub + snippet(site, consent="required")))
    payloads = sent_payloads(page)
    page.goto(page_url(site, "/"))
    events = live_server.wait_for(site.id, lambda events: len(events) >= 2)
    vid = pm_cookies(context)["_pm_vid"]["value"]
    assert [p["type"] for p in payloads] == ["pageview", "goal"]  # queued calls still follow the pageview
    assert all(p["visitorId"] == vid for p in payloads)
    assert {str(e["visitor_id"]) for e in events} == {vid}


def test_a_cookieless_site_stays_cookieless_whatever_the_consent(live_server, site, pages, page_url, snippet, page, context):
    pages.add("/", html(snippet(site, cookieless="true", consent="required")))
    page.goto(page_url(site, "/"))
    page.evaluate("postmetric('consent', true); postmetric('signup')")
    events = live_server.wait_for(site.id, lambda events: len(events) >= 2)
    assert context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert {str(e["visitor_id"]) for e in events} <= cookieless_ids(live_server, site)


def test_without_consent_mode_consent_calls_are_not_goals(live_server, site, pages, page_url, snippet, page, context):
    pages.add("/", html(snippet(site)))
    payloads = sent_payloads(page)
    page.goto(page_url(site, "/"))
    live_server.stored_events(site.id, expect=1)
    assert set(pm_cookies(context)) == {"_pm_vid", "_pm_sid"}  # cookies from the start, as always
    page.evaluate("postmetric('consent', false)")
    assert pm_cookies(context) == {}
    page.evaluate("postmetric('consent', true); postmetric('signup')")
    live_server.wait_for(site.id, lambda events: of_type(events, "goal"))
    page.wait_for_load_state("networkidle")
    assert [p["type"] for p in payloads] == ["pageview", "goal"]
    assert payloads[1]["visitorId"] == pm_cookies(context)["_pm_vid"]["value"]
