"""`POST /api/events`, `GET /api/events.gif`, `POST /api/v1/events`: every response the spec names."""

import uuid

import orjson
import pytest

from postmetric.config import Settings
from postmetric.app import create_app
from starlette.testclient import TestClient

from factories import CHROME_UA
from web_support import PROXY_PEER, stored_events

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def body(site, **fields) -> bytes:
    return orjson.dumps({"websiteId": site.public_id, "type": "pageview", "href": "https://example.com/"} | fields)


def test_a_pageview_is_enriched_and_stored(client, site):
    vid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    response = client.post(
        "/api/events",
        content=body(site, href="https://www.example.com/pricing?utm_source=twitter&utm_medium=social&utm_campaign=launch",
                     referrer="https://t.co/xyz", title="Pricing", visitorId=vid, sessionId=sid,
                     viewport={"width": 390, "height": 844}),
        headers={"Content-Type": "text/plain", "X-Postmetric-IP": "81.2.69.142"},
    )
    assert response.status_code == 202
    assert response.json() == {"ok": True}
    assert response.headers["access-control-allow-origin"] == "*"
    assert "x-postmetric-dropped" not in response.headers
    [row] = stored_events(client)
    assert (row["site_id"], row["type"], row["hostname"], row["pathname"]) == (site.id, "pageview", "example.com", "/pricing")
    assert (str(row["visitor_id"]), str(row["session_id"])) == (vid, sid)
    assert (row["source"], row["channel"], row["referrer_host"]) == ("X", "Organic Social", "t.co")
    assert (row["utm_source"], row["utm_medium"], row["utm_campaign"]) == ("twitter", "social", "launch")
    assert (row["browser"], row["os"], row["device"]) == ("Chrome", "Windows", "desktop")
    assert row["country"] == "GB"
    assert (row["title"], row["viewport_width"], row["entry_page"]) == ("Pricing", 390, "/pricing")


def test_the_ip_is_never_stored(client, site):
    client.post("/api/events", content=body(site), headers={"X-Postmetric-IP": "81.2.69.142"})
    [row] = stored_events(client)
    assert not any("81.2.69.142" in str(value) for value in row.values())


def test_same_site_referrers_are_internal_and_later_pages_keep_the_visit_source(client, site):
    ids = {"visitorId": str(uuid.uuid4()), "sessionId": str(uuid.uuid4())}
    client.post("/api/events", content=body(site, href="https://example.com/?ref=producthunt", **ids))
    client.post("/api/events", content=body(site, href="https://example.com/docs",
                                            referrer="https://example.com/", **ids))
    first, second = stored_events(client)
    assert second["pathname"] == "/docs" and second["entry_page"] == "/"
    assert second["referrer_host"] == "" and second["source"] == first["source"] == "Product Hunt"


def test_cookieless_events_get_a_server_side_visitor_and_session(client, site):
    for path in ("/a", "/b"):
        client.post("/api/events", content=body(site, href=f"https://example.com{path}"),
                    headers={"X-Postmetric-IP": "81.2.69.142"})
    client.post("/api/events", content=body(site), headers={"X-Postmetric-IP": "8.8.8.8"})
    rows = stored_events(client)
    by_ip = {r["pathname"]: r for r in rows}
    assert by_ip["/a"]["visitor_id"] == by_ip["/b"]["visitor_id"]
    assert by_ip["/a"]["session_id"] == by_ip["/b"]["session_id"]
    assert len({r["visitor_id"] for r in rows}) == 2


def test_cors_preflight(client):
    response = client.options("/api/events", headers={"Origin": "https://example.com",
                                                      "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]


@pytest.mark.parametrize(
    "content, status, message",
    [
        (b"{oops", 400, "malformed JSON"),
        (b"", 400, "the request body is empty"),
        (b'{"type":"pageview","href":"https://example.com/"}', 400, "missing required field `websiteId`"),
        (b'{"websiteId":"pm_x","type":"pageview","href":42}', 400, "Expected `str`, got `int` - at `$.href`"),
        (b'{"websiteId":"pm_x","type":"pageview","href":"https://e.com/","props":"no"}', 400, "at `$.props`"),
        (b'{"websiteId":"pm_x","type":"goal","href":"https://e.com/"}', 400, "name is required for goal events"),
        (b'{"websiteId":"pm_x","type":"pageview","href":"https://e.com/%s"}' % (b"x" * 17_000), 413,
         "larger than 16384 bytes"),
    ],
)
def test_bad_requests_get_a_4xx_that_says_what_is_wrong(client, content, status, message):
    response = client.post("/api/events", content=content)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert response.headers["access-control-allow-origin"] == "*"
    assert stored_events(client) == []


def test_an_oversized_body_without_content_length_is_refused(client, site):
    def chunks():
        yield body(site)[:-1]
        yield b',"title":"' + b"x" * 20_000 + b'"}'

    response = client.post("/api/events", content=chunks())
    assert response.status_code == 413
    assert stored_events(client) == []


def test_unsupported_content_types_are_refused(client, site):
    response = client.post("/api/events", content=body(site), headers={"Content-Type": "multipart/form-data"})
    assert response.status_code == 415
    assert "Content-Type must be text/plain or application/json" in response.json()["error"]


def test_wrong_method_is_a_json_error(client):
    response = client.get("/api/events")
    assert response.status_code == 405 and response.json() == {"error": "Method Not Allowed"}


@pytest.mark.parametrize(
    "site_changes, event, headers, reason",
    [
        ({}, {"websiteId": "pm_doesnotexist"}, {}, "unknown_site"),
        ({}, {"href": "https://evil.com/"}, {}, "hostname_not_allowed"),
        ({}, {"href": "https://notexample.com/"}, {}, "hostname_not_allowed"),
        ({}, {}, {"User-Agent": GOOGLEBOT}, "bot"),
        ({}, {}, {"User-Agent": ""}, "bot"),
        ({"excluded_ips": ["81.2.69.142"]}, {}, {"X-Postmetric-IP": "81.2.69.142"}, "excluded_ip"),
        ({"excluded_ips": ["81.2.69.0/24"]}, {}, {"X-Postmetric-IP": "81.2.69.200"}, "excluded_ip"),
        ({"excluded_ips": ["2001:db8::/32"]}, {}, {"X-Postmetric-IP": "2001:db8::7"}, "excluded_ip"),
        ({"excluded_countries": ["GB"]}, {}, {"X-Postmetric-IP": "81.2.69.142"}, "excluded_country"),
        ({"excluded_hostnames": ["staging.example.com"]}, {"href": "https://staging.example.com/"}, {},
         "excluded_hostname"),
        ({"excluded_hostnames": ["*.example.com"]}, {"href": "https://preview.example.com/"}, {},
         "excluded_hostname"),
        ({"excluded_paths": ["/admin/*"]}, {"href": "https://example.com/admin/users/1"}, {}, "excluded_path"),
        ({"excluded_paths": ["/preview"]}, {"href": "https://example.com/preview"}, {}, "excluded_path"),
    ],
)
def test_dropped_events_are_accepted_with_a_reason_and_not_stored(client, site, event, headers, reason):
    response = client.post("/api/events", content=body(site, **event), headers=headers)
    assert response.status_code == 202 and response.json() == {"ok": True}
    assert response.headers["x-postmetric-dropped"] == reason
    assert stored_events(client) == []


@pytest.mark.parametrize(
    "site_changes, href",
    [
        ({}, "https://example.com/"),
        ({}, "https://www.example.com/"),
        ({}, "https://blog.example.com/"),
        ({"allowed_hostnames": ["example.net"]}, "https://example.net/checkout"),
        ({"allowed_hostnames": ["*.example.org"]}, "https://shop.example.org/"),
        ({"excluded_paths": ["/admin/*"]}, "https://example.com/administrator"),
        ({"excluded_countries": ["DE"]}, "https://example.com/"),
    ],
)
def test_allowed_events_are_stored(client, site, href):
    response = client.post("/api/events", content=body(site, href=href), headers={"X-Postmetric-IP": "81.2.69.142"})
    assert response.status_code == 202 and "x-postmetric-dropped" not in response.headers
    assert len(stored_events(client)) == 1


def test_the_pixel_stores_an_event_and_returns_a_gif(client, site):
    response = client.get("/api/events.gif", params={"websiteId": site.public_id, "type": "pageview",
                                                      "href": "https://example.com/newsletter?utm_medium=email"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif" and response.content.startswith(b"GIF89a")
    [row] = stored_events(client)
    assert (row["pathname"], row["channel"]) == ("/newsletter", "Email")
    assert client.get("/api/events.gif", params={"websiteId": site.public_id}).status_code == 400


def test_per_ip_rate_limit(settings, clock, site):
    limited = settings.model_copy(update={"ingest_rate_limit": "2/minute"})
    with TestClient(create_app(limited, clock=clock), headers={"user-agent": CHROME_UA}, client=PROXY_PEER) as client:
        codes = [client.post("/api/events", content=body(site), headers={"X-Postmetric-IP": "81.2.69.142"}).status_code
                 for _ in range(3)]
        other = client.post("/api/events", content=body(site), headers={"X-Postmetric-IP": "8.8.8.8"})
        refused = client.post("/api/events", content=body(site), headers={"X-Postmetric-IP": "81.2.69.142"})
        assert codes == [202, 202, 429] and other.status_code == 202
        assert refused.headers["retry-after"] == "60" and "too many events" in refused.json()["error"]
        clock.advance(60)  # the next window
        again = client.post("/api/events", content=body(site), headers={"X-Postmetric-IP": "81.2.69.142"})
        assert again.status_code == 202
        assert len(stored_events(client)) == 4


def test_a_full_write_queue_answers_503_with_retry_after(settings, clock, site):
    tiny = settings.model_copy(update={"ingest_queue_size": 1})
    with TestClient(create_app(tiny, clock=clock), headers={"user-agent": CHROME_UA}) as client:
        response = client.post("/api/v1/events", content=b"[" + body(site) + b"," + body(site) + b"]",
                               headers={"Authorization": f"Bearer {site.key}"})
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert "retry shortly" in response.json()["error"]
        assert stored_events(client) == []


def test_a_failing_journal_answers_503_and_acknowledges_nothing(client, site):
    client.app.state.services.writer._journal.close()  # appends now fail with a real OSError
    response = client.post("/api/events", content=body(site))
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "could not write" in response.json()["error"]


def test_server_side_events_need_the_sites_key(client, site):
    content = body(site)
    assert client.post("/api/v1/events", content=content).status_code == 401
    bad = client.post("/api/v1/events", content=content, headers={"Authorization": "Bearer pmk_wrong"})
    assert bad.status_code == 401 and "unknown or revoked" in bad.json()["error"]
    other_site = client.post("/api/v1/events", content=body(site, websiteId="pm_someoneelse1"),
                             headers={"Authorization": f"Bearer {site.key}"})
    assert other_site.status_code == 404 and "not found for this key" in other_site.json()["error"]
    assert stored_events(client) == []


def test_server_side_batch_with_backfill_fields(client, site):
    events = [
        orjson.loads(body(site, href="https://example.com/old", timestamp="2026-01-02T03:04:05Z",
                          ip="81.2.69.142", userAgent=CHROME_UA)),
        orjson.loads(body(site, userAgent=GOOGLEBOT)),
        orjson.loads(body(site, type="goal", name="signup", props={"plan": "pro"})),
    ]
    response = client.post("/api/v1/events", content=orjson.dumps(events),
                           headers={"Authorization": f"Bearer {site.key}", "User-Agent": "backend/1.0"})
    assert response.status_code == 202
    assert response.json() == {"ok": True, "accepted": 2, "dropped": [{"index": 1, "reason": "bot"}]}
    client.app.state.services.writer.flush()
    rows = client.app.state.services.events.fetch(
        "SELECT epoch(timestamp) AS ts, pathname, country, name, props FROM events ORDER BY timestamp")
    assert rows[0] == {"ts": 1767323045.0, "pathname": "/old", "country": "GB", "name": "pageview", "props": "{}"}
    assert (rows[1]["name"], rows[1]["props"]) == ("signup", '{"plan":"pro"}')


def test_health(client):
    response = client.get("/api/health")
    assert response.status_code == 200 and response.json() == {"status": "ok", "events_pending": 0}


def test_a_visit_in_progress_survives_a_restart(settings, clock, site):
    ids = {"visitorId": str(uuid.uuid4()), "sessionId": str(uuid.uuid4())}
    with TestClient(create_app(settings, clock=clock), headers={"user-agent": CHROME_UA}) as client:
        client.post("/api/events", content=body(site, href="https://example.com/landing?utm_source=hn", **ids))
    clock.advance(600)
    with TestClient(create_app(settings, clock=clock), headers={"user-agent": CHROME_UA}) as client:
        client.post("/api/events", content=body(site, href="https://example.com/docs", **ids))
        first, second = stored_events(client)
    assert second["session_id"] == first["session_id"]
    assert (second["entry_page"], second["utm_source"], second["source"]) == ("/landing", "hn", first["source"])
    assert second["session_started_at"] == first["session_started_at"]


def test_an_empty_instance_says_how_to_start(tmp_path, derived_data_dir, clock, caplog):
    empty = Settings(data_dir=tmp_path / "empty", cache_dir=derived_data_dir)
    with caplog.at_level("INFO", logger="postmetric.app"):
        with TestClient(create_app(empty, clock=clock)):
            pass
    assert "no site yet: create one with" in caplog.text and "postmetric sites create" in caplog.text
