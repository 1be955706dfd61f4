"""Goals, outbound links, engagement, identify, the queue stub and payments, as stored."""

from tracker_pages import html, of_type, props

def test_click_goal_with_props_in_snake_case(live_server, site, pages, page_url, snippet, page):
    button = '<button id="b" data-postmetric-goal="signup" data-postmetric-goal-plan-name="pro" ' \
             'data-postmetric-goal-seats="3"><span id="inner">Sign up</span></button>'
    pages.add("/", html(snippet(site), body=button))
    page.goto(page_url(site, "/"))
    page.click("#inner")  # a click inside the element counts too
    [goal] = of_type(live_server.stored_events(site.id, expect=2), "goal")
    assert goal["name"] == "signup"
    assert props(goal) == {"plan_name": "pro", "seats": "3"}


def test_custom_goal_identify_and_calls_queued_before_the_script(live_server, site, pages, page_url, snippet, page):
    stub = ("<script>window.postmetric=window.postmetric||function(){(postmetric.q=postmetric.q||[]).push(arguments)};"
            "postmetric('newsletter', {list: 'weekly'});"
            "postmetric('identify', {user_id: 'u_42', email: 'ada@example.com', name: 'Ada'});</script>")
    pages.add("/", html(stub + snippet(site)))
    page.goto(page_url(site, "/"))
    events = live_server.stored_events(site.id, expect=3)
    [goal] = of_type(events, "goal")
    [identify] = of_type(events, "identify")
    assert (goal["name"], props(goal)) == ("newsletter", {"list": "weekly"})
    assert props(identify) == {"user_id": "u_42", "email": "ada@example.com", "name": "Ada"}
    page.evaluate("postmetric('download', {file: 'guide.pdf'})")
    events = live_server.stored_events(site.id, expect=4)
    assert [e["name"] for e in of_type(events, "goal")] == ["newsletter", "download"]


def test_outbound_clicks_plain_new_tab_and_modifier(live_server, site, pages, page_url, snippet, page):
    links = ('<a id="plain" href="https://example.org/docs">docs</a>'
             '<a id="blank" target="_blank" href="https://example.net/">blank</a>'
             '<a id="mod" href="https://example.com/x">mod</a>'
             '<a id="inside" href="/local">local</a>')
    pages.add("/", html(snippet(site), body=links))
    page.route("https://example.org/**", lambda route: route.fulfill(body="<p>away</p>", content_type="text/html"))
    page.route("https://example.net/**", lambda route: route.fulfill(body="<p>away</p>", content_type="text/html"))
    page.route("https://example.com/**", lambda route: route.fulfill(body="<p>away</p>", content_type="text/html"))
    page.goto(page_url(site, "/"))
    live_server.stored_events(site.id, expect=1)
    page.click("#blank")
    page.click("#mod", modifiers=["Control"])
    page.click("#plain")
    events = live_server.wait_for(site.id, lambda events: len(of_type(events, "outbound")) >= 3)
    urls = sorted(props(e)["url"] for e in of_type(events, "outbound"))
    assert urls == ["https://example.com/x", "https://example.net/", "https://example.org/docs"]


def test_visibility_goal_with_threshold_and_delay_fires_once(live_server, site, pages, page_url, snippet, page):
    body = ('<div style="height:3000px"></div>'
            '<div id="target" style="height:400px" data-postmetric-scroll="pricing_seen" '
            'data-postmetric-scroll-threshold="0.75" data-postmetric-scroll-delay="300">pricing</div>'
            '<div style="height:3000px"></div>')
    pages.add("/", html(snippet(site), body=body))
    page.goto(page_url(site, "/"))
    live_server.stored_events(site.id, expect=1)
    page.evaluate("document.getElementById('target').scrollIntoView({block: 'center'})")
    goals = of_type(live_server.stored_events(site.id, expect=2), "goal")
    assert [g["name"] for g in goals] == ["pricing_seen"]
    page.evaluate("window.scrollTo(0, 0)")
    page.evaluate("document.getElementById('target').scrollIntoView({block: 'center'})")
    page.wait_for_timeout(800)
    page.wait_for_load_state("networkidle")
    assert len(of_type(live_server.stored_events(site.id), "goal")) == 1


def test_engagement_with_scroll_depth_when_leaving(live_server, site, pages, page_url, snippet, page, context):
    pages.add("/long", html(snippet(site), body='<div style="height:4000px">long</div>'))
    page.goto(page_url(site, "/long"))
    live_server.stored_events(site.id, expect=1)
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    page.wait_for_timeout(300)
    page.close()  # leaving sends the engagement event
    [engagement] = of_type(live_server.stored_events(site.id, expect=2), "engagement")
    assert engagement["pathname"] == "/long"
    assert 40 <= engagement["scroll_depth"] <= 70
    assert engagement["engaged_ms"] > 0


def test_payment_success_urls_send_one_payment_and_reloads_do_not_repeat(live_server, site, pages, page_url, snippet, page):
    pages.add("/thanks", html(snippet(site)))
    for query, provider in (("session_id=cs_test_a1", "stripe"), ("order_id=1234", "lemonsqueezy"),
                            ("checkout_id=polar_77", "polar")):
        page.goto(page_url(site, f"/thanks?{query}"))
        page.reload()
    events = live_server.wait_for(
        site.id, lambda events: len(of_type(events, "payment")) >= 3 and len(of_type(events, "pageview")) >= 6)
    page.wait_for_load_state("networkidle")
    events = live_server.stored_events(site.id)
    payments = of_type(events, "payment")
    assert sorted((props(p)["provider"], props(p)["checkout_id"]) for p in payments) == [
        ("lemonsqueezy", "1234"), ("polar", "polar_77"), ("stripe", "cs_test_a1")]
    assert len(of_type(events, "pageview")) == 6


def test_payment_detection_can_be_disabled(live_server, site, pages, page_url, snippet, page):
    pages.add("/thanks", html(snippet(site, disable_payments="true")))
    page.goto(page_url(site, "/thanks?session_id=cs_test_b2"))
    page.wait_for_load_state("networkidle")
    events = live_server.stored_events(site.id, expect=1)
    assert [e["type"] for e in events] == ["pageview"]


def test_visibility_goal_waits_for_its_delay_and_threshold(live_server, site, pages, page_url, snippet, page):
    body = ('<div style="height:3000px"></div>'
            '<div id="slow" style="height:400px" data-postmetric-scroll="slow_seen" '
            'data-postmetric-scroll-delay="1500">slow</div>'
            '<div style="height:3000px"></div>'
            '<div id="tall" style="height:2000px" data-postmetric-scroll="tall_seen" '
            'data-postmetric-scroll-threshold="0.9">tall</div>'
            '<div style="height:3000px"></div>')
    pages.add("/", html(snippet(site), body=body))
    page.goto(page_url(site, "/"))
    live_server.stored_events(site.id, expect=1)
    # in view for less than its delay: no goal
    page.evaluate("document.getElementById('slow').scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    page.evaluate("window.scrollTo(0, 0)")
    # the tall element can never be 90 % visible in an 800 px viewport
    page.evaluate("document.getElementById('tall').scrollIntoView({block: 'start'})")
    page.wait_for_timeout(1700)
    page.wait_for_load_state("networkidle")
    assert of_type(live_server.stored_events(site.id), "goal") == []
    # in view past its delay: the goal
    page.evaluate("document.getElementById('slow').scrollIntoView({block: 'center'})")
    goals = of_type(live_server.wait_for(site.id, lambda events: of_type(events, "goal")), "goal")
    assert [g["name"] for g in goals] == ["slow_seen"]
