"""What the script must never track: automation, local files and hosts, iframes, opt-outs, exclusions."""

from tracker_pages import DESKTOP_CHROME, html

def sent_events(page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url) if "/api/events" in request.url else None)
    return urls


def test_a_browser_with_webdriver_set_is_not_tracked(live_server, site, pages, page_url, snippet, automated_browser):
    context = automated_browser.new_context(user_agent=DESKTOP_CHROME)
    page = context.new_page()
    requests = sent_events(page)
    pages.add("/", html(snippet(site)))
    page.goto(page_url(site, "/"))
    assert page.evaluate("navigator.webdriver") is True
    page.evaluate("postmetric('signup')")  # the API exists and does nothing
    page.wait_for_load_state("networkidle")
    assert requests == [] and live_server.stored_events(site.id) == []
    context.close()


def test_the_same_page_in_a_normal_browser_is_tracked(live_server, site, pages, page_url, snippet, page):
    pages.add("/", html(snippet(site)))
    page.goto(page_url(site, "/"))
    assert page.evaluate("navigator.webdriver") is False
    assert len(live_server.stored_events(site.id, expect=1)) == 1


def test_localhost_is_not_tracked_unless_allowed(live_server, site, pages, snippet, page):
    pages.add("/local", html(snippet(site)))
    requests = sent_events(page)
    page.goto(f"http://localhost:{pages.port}/local")
    page.wait_for_load_state("networkidle")
    assert requests == []
    pages.add("/local-allowed", html(snippet(site, allow_localhost="true")))
    page.goto(f"http://localhost:{pages.port}/local-allowed")
    page.wait_for_load_state("networkidle")
    assert len(requests) == 1  # sent; the server drops it since localhost is not the site's hostname


def test_file_urls_are_not_tracked(live_server, site, snippet, page, tmp_path):
    document = tmp_path / "page.html"
    document.write_text(html(snippet(site)))
    requests = sent_events(page)
    page.goto(document.as_uri())
    page.wait_for_load_state("networkidle")
    assert requests == [] and live_server.stored_events(site.id) == []


def test_iframes_are_not_tracked_unless_debugging(live_server, site, pages, page_url, snippet, page):
    pages.add("/framed", html(snippet(site)))
    pages.add("/outer", f'<iframe src="{page_url(site, "/framed")}"></iframe>')
    requests = sent_events(page)
    page.goto(page_url(site, "/outer"))
    page.wait_for_load_state("networkidle")
    assert requests == [] and live_server.stored_events(site.id) == []


def test_opt_out_flag_in_local_storage(live_server, site, pages, page_url, snippet, page):
    pages.add("/", html(snippet(site)))
    pages.add("/blank", "<p>blank</p>")
    page.goto(page_url(site, "/blank"))
    page.evaluate("localStorage.postmetric_ignore = 'true'")
    requests = sent_events(page)
    page.goto(page_url(site, "/"))
    page.wait_for_load_state("networkidle")
    assert requests == [] and live_server.stored_events(site.id) == []


def test_excluded_paths(live_server, site, pages, page_url, snippet, page):
    tag = snippet(site, exclude="/admin/*,/preview")
    for path in ("/admin/users", "/preview", "/public"):
        pages.add(path, html(tag))
        page.goto(page_url(site, path))
    events = live_server.stored_events(site.id, expect=1)
    page.wait_for_load_state("networkidle")
    assert [e["pathname"] for e in live_server.stored_events(site.id)] == ["/public"]
    assert len(events) == 1
