"""The stats API over HTTP: `POST /api/v1/query`, the DataFast-style reports, realtime (JSON and SSE),
visitor profiles and the OpenAPI document. Events go in through `POST /api/v1/events` first.

The site (example.com, Europe/Berlin, USD), with the clock at Wed 11 Mar 2026 12:00 UTC:

  V1 visitor A  10 Mar 09:00 UTC  "/" from Google · "/pricing" · goal signup {plan: pro} at 09:03
                GB, Chrome, Windows, desktop; 2 pageviews, 180 s
  V2 visitor B  10 Mar 10:00      "/blog/one?utm_source=newsletter&utm_medium=email&utm_campaign=launch"
                US, Safari, iOS, mobile; a bounce
  V3 visitor C  10 Mar 11:00      "/" direct, GB; a bounce
  V4 visitor A   9 Mar 15:00      "/blog/two" direct, GB; a bounce

So 9–10 March: 3 visitors, 4 visits, 5 pageviews, bounce rate 3/4 = 75 %, mean duration 45 s.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest

from postmetric.web.analytics import REPORTS

from stats_api_support import (  # noqa: F401 - clock, owner: fixtures
    NOW, SAFARI_IPHONE_UA, bearer, clock, owner, pageview, read_frame, send,
)

A = "00000000-0000-4000-8000-00000000000a"
B = "00000000-0000-4000-8000-00000000000b"
C = "00000000-0000-4000-8000-00000000000c"
S1, S2, S3, S4 = (f"00000000-0000-4000-8000-00000000010{i}" for i in range(1, 5))
BOTH_DAYS = {"startAt": "2026-03-09", "endAt": "2026-03-10"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.fixture
def visits(client, owner):
    send(client, owner, [
        pageview(owner, "/", visitor=A, session=S1, at=at("2026-03-10 09:00"), referrer="https://www.google.com/"),
        pageview(owner, "/pricing", visitor=A, session=S1, at=at("2026-03-10 09:02"), referrer="https://example.com/"),
        pageview(owner, "/pricing", visitor=A, session=S1, at=at("2026-03-10 09:03"), type="goal", name="signup",
                 props={"plan": "pro"}),
        pageview(owner, "/blog/one", visitor=B, session=S2, at=at("2026-03-10 10:00"), ip="8.8.8.8",
                 user_agent=SAFARI_IPHONE_UA, query="?utm_source=newsletter&utm_medium=email&utm_campaign=launch"),
        pageview(owner, "/", visitor=C, session=S3, at=at("2026-03-10 11:00")),
        pageview(owner, "/blog/two", visitor=A, session=S4, at=at("2026-03-09 15:00")),
    ])
    return owner


def report(client, tenant, name, **params):
    response = client.get(f"/api/v1/analytics/{name}", params=params, headers=bearer(tenant.key))
    assert response.status_code == 200, response.text
    return response.json()


# -- POST /api/v1/query ---------------------------------------------------------------------


def test_a_query_answers_with_results_meta_and_the_normalised_query(client, visits):
    response = client.post("/api/v1/query", headers=bearer(visits.key), json={
        "site_id": visits.public_id, "date_range": ["2026-03-09", "2026-03-10"],
        "metrics": ["visitors", "pageviews", "bounce_rate"], "dimensions": ["visit:country"],
        "order_by": [["visitors", "desc"]], "include": {"total_rows": True}})
    assert response.status_code == 200
    body = response.json()
    assert body["results"] == [{"dimensions": ["GB"], "metrics": [2, 4, 67]},
                               {"dimensions": ["US"], "metrics": [1, 1, 100]}]
    assert body["meta"] == {"currency": "USD", "total_rows": 2}
    assert body["query"]["timezone"] == "Europe/Berlin"  # the site's, by default
    assert body["query"]["date_range"] == ["2026-03-09T00:00:00+01:00", "2026-03-11T00:00:00+01:00"]


def test_a_query_may_name_the_site_by_domain_and_choose_its_timezone(client, visits):
    response = client.post("/api/v1/query", headers=bearer(visits.token), json={
        "site_id": "example.com", "date_range": "7d", "metrics": ["visitors"], "timezone": "UTC"})
    assert response.status_code == 200
    assert response.json()["results"] == [{"dimensions": [], "metrics": [3]}]
    assert response.json()["query"]["timezone"] == "UTC"


@pytest.mark.parametrize("body, message", [
    (b"{oops", "body: is not valid JSON"),
    (b"", "body: is empty; send a JSON query"),
    (b"[1, 2]", "query: must be a JSON object"),
    (b'{"date_range": "7d", "metrics": ["visitors"]}', "site_id: is required"),
    (b'{"site_id": "SITE", "date_range": "7d", "metrics": ["visits_total"]}', "metrics: unknown metric 'visits_total'"),
    (b'{"site_id": "SITE", "date_range": "7d", "metrics": ["scroll_depth"]}',
     "metrics: scroll_depth is measured per page: add event:page as a dimension or filter"),
    (b'{"site_id": "SITE", "date_range": "fortnight", "metrics": ["visitors"]}', "date_range: unknown range"),
    (b'{"site_id": "SITE", "date_range": ["2026-03-10", "2026-03-01"], "metrics": ["visitors"]}',
     "date_range: start must be before end"),
    (b'{"site_id": "SITE", "date_range": ["2026-13-01", "2026-03-01"], "metrics": ["visitors"]}',
     "date_range: '2026-13-01' is not an ISO date"),
    (b'{"site_id": "SITE", "date_range": "7d", "metrics": ["visitors"], "filters": [["matches", "event:page", ["("]]]}',
     "filters[0]: invalid regular expression '('"),
    (b'{"site_id": "SITE", "date_range": "7d", "metrics": ["visitors"], "pagination": {"limit": 0}}',
     "pagination.limit: must be an integer between 1 and 10000"),
    (b'{"site_id": "SITE", "date_range": "7d", "metrics": ["visitors"], "pagination": {"limit": 10001}}',
     "pagination.limit: must be an integer between 1 and 10000"),
    (b'{"site_id": "SITE", "date_range": "7d", "metrics": ["visitors"], "timezone": "Mars/Olympus"}',
     "timezone: 'Mars/Olympus' is not a known IANA time zone"),
    (b'{"site_id": "SITE", "date_range": "7d", "metrics": ["visitors"], "dimensions": ["visit:planet"]}',
     "dimensions: unknown dimension 'visit:planet'"),
    (b'{"site_id": "SITE", "date_range": "7d", "metrics": ["visitors"], "colour": "red"}',
     "colour: is not a query field"),
])
def test_every_invalid_query_is_a_400_naming_the_field(client, owner, body, message):
    response = client.post("/api/v1/query", content=body.replace(b"SITE", owner.public_id.encode()),
                           headers=bearer(owner.key))
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(message)
    assert response.headers["x-ratelimit-limit"] == "600"


def test_an_unknown_site_is_404_and_an_oversized_body_413(client, owner):
    unknown = client.post("/api/v1/query", headers=bearer(owner.token),
                          json={"site_id": "nope.example", "date_range": "7d", "metrics": ["visitors"]})
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "site_id: site 'nope.example' not found"}
    huge = client.post("/api/v1/query", headers=bearer(owner.key), content=b" " * 70_000)
    assert huge.status_code == 413


# -- GET /api/v1/analytics/* ------------------------------------------------------------------


def test_overview_uses_datafast_field_names(client, visits):
    assert report(client, visits, "overview", **BOTH_DAYS) == {"status": "success", "data": [{
        "visitors": 3, "sessions": 4, "pageviews": 5, "bounce_rate": 75, "avg_session_duration": 45_000,
        "views_per_visit": 1.25, "revenue": 0.0, "revenue_per_visitor": 0.0, "conversion_rate": 0.0,
        "payments": 0, "currency": "USD"}]}
    assert report(client, visits, "overview", **BOTH_DAYS, fields="visitors,sessions")["data"] == [
        {"visitors": 3, "sessions": 4}]


def test_overview_without_dates_covers_all_time(client, visits):
    assert report(client, visits, "overview")["data"][0]["visitors"] == 3


def test_timeseries_has_a_row_per_bucket_and_totals(client, visits):
    body = report(client, visits, "timeseries", **BOTH_DAYS, interval="day")
    assert body["data"] == [
        {"name": "09 Mar", "timestamp": "2026-03-09T00:00:00+01:00", "visitors": 1, "sessions": 1, "pageviews": 1,
         "revenue": 0.0},
        {"name": "10 Mar", "timestamp": "2026-03-10T00:00:00+01:00", "visitors": 3, "sessions": 3, "pageviews": 4,
         "revenue": 0.0},
    ]
    assert body["totals"] == {"visitors": 3, "sessions": 4, "pageviews": 5, "revenue": 0.0}
    assert (body["interval"], body["timezone"], body["currency"]) == ("day", "Europe/Berlin", "USD")
    assert body["pagination"] == {"limit": 100, "offset": 0, "total": 2}


def test_timeseries_defaults_to_the_last_30_days_and_fills_empty_buckets(client, visits):
    body = report(client, visits, "timeseries", limit="5", offset="25")
    assert body["pagination"] == {"limit": 5, "offset": 25, "total": 30}
    assert [row["name"] for row in body["data"]] == ["07 Mar", "08 Mar", "09 Mar", "10 Mar", "11 Mar"]
    assert [row["visitors"] for row in body["data"]] == [0, 0, 1, 3, 0]


def test_timeseries_by_hour_in_another_timezone(client, visits):
    body = report(client, visits, "timeseries", startAt="2026-03-10T09:00:00Z", endAt="2026-03-10T11:00:00Z",
                  interval="hour", timezone="UTC", fields="visitors")
    assert body["data"] == [{"name": "10 Mar 09:00", "timestamp": "2026-03-10T09:00:00+00:00", "visitors": 1},
                            {"name": "10 Mar 10:00", "timestamp": "2026-03-10T10:00:00+00:00", "visitors": 1}]


@pytest.mark.parametrize("name, rows", [
    ("pages", [{"hostname": "example.com", "path": "/", "visitors": 2, "pageviews": 2},
               {"hostname": "example.com", "path": "/blog/one", "visitors": 1, "pageviews": 1},
               {"hostname": "example.com", "path": "/blog/two", "visitors": 1, "pageviews": 1},
               {"hostname": "example.com", "path": "/pricing", "visitors": 1, "pageviews": 1}]),
    ("referrers", [{"referrer": "Direct/None", "visitors": 2, "pageviews": 2},
                   {"referrer": "Google", "visitors": 1, "pageviews": 2},
                   {"referrer": "newsletter", "visitors": 1, "pageviews": 1}]),
    ("channels", [{"channel": "Direct", "visitors": 2, "pageviews": 2},
                  {"channel": "Email", "visitors": 1, "pageviews": 1},
                  {"channel": "Organic Search", "visitors": 1, "pageviews": 2}]),
    ("campaigns", [{"campaign": {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "launch",
                                 "utm_term": "", "utm_content": ""}, "visitors": 1, "pageviews": 1}]),
    ("countries", [{"country": "GB", "visitors": 2, "pageviews": 4}, {"country": "US", "visitors": 1, "pageviews": 1}]),
    ("regions", [{"region": "England", "visitors": 2, "pageviews": 4},
                 {"region": "California", "visitors": 1, "pageviews": 1}]),
    ("cities", [{"city": "London", "visitors": 2, "pageviews": 4},
                {"city": "Mountain View", "visitors": 1, "pageviews": 1}]),
    ("browsers", [{"browser": "Chrome", "visitors": 2, "pageviews": 4},
                  {"browser": "Safari", "visitors": 1, "pageviews": 1}]),
    ("operating-systems", [{"operating_system": "Windows", "visitors": 2, "pageviews": 4},
                           {"operating_system": "iOS", "visitors": 1, "pageviews": 1}]),
    ("devices", [{"device": "desktop", "visitors": 2, "pageviews": 4},
                 {"device": "mobile", "visitors": 1, "pageviews": 1}]),
    ("hostnames", [{"hostname": "example.com", "visitors": 3, "pageviews": 5}]),
    ("goals", [{"goal": "signup", "completions": 1, "visitors": 1, "conversion_rate": 33.33}]),  # 1 of A, B, C
])
def test_each_breakdown_report(client, visits, name, rows):
    body = report(client, visits, name, **BOTH_DAYS)
    rows = [row | {"revenue": 0.0} for row in rows]
    assert body == {"status": "success", "data": rows, "pagination": {"limit": 100, "offset": 0, "total": len(rows)}}


def test_reports_carry_revenue_credited_by_the_attribution_model(client, visits):
    # A came first on 9 Mar (direct, /blog/two), then on 10 Mar from Google, and paid in that visit.
    paid = client.post("/api/v1/payments", headers=bearer(visits.key), json={
        "transaction_id": "pi_1", "amount": "49.00", "currency": "USD", "visitor_id": A, "session_id": S1,
        "timestamp": "2026-03-10T08:05:00Z"})
    assert paid.status_code == 201, paid.text
    overview = report(client, visits, "overview", **BOTH_DAYS)["data"][0]
    # 49 over 3 visitors; 1 of 3 visitors paid.
    assert (overview["revenue"], overview["revenue_per_visitor"], overview["conversion_rate"],
            overview["payments"]) == (49.0, 16.33, 33.33, 1)
    first = report(client, visits, "referrers", **BOTH_DAYS)["data"]
    assert {row["referrer"]: row["revenue"] for row in first} == {"Direct/None": 49.0, "Google": 0.0,
                                                                  "newsletter": 0.0}
    last = report(client, visits, "referrers", **BOTH_DAYS, attribution="last_touch")["data"]
    assert {row["referrer"]: row["revenue"] for row in last} == {"Direct/None": 0.0, "Google": 49.0,
                                                                 "newsletter": 0.0}
    series = report(client, visits, "timeseries", **BOTH_DAYS, fields="revenue")
    assert [row["revenue"] for row in series["data"]] == [0.0, 49.0]


def test_breakdowns_page_with_limit_and_offset(client, visits):
    body = report(client, visits, "pages", **BOTH_DAYS, limit="2", offset="1")
    assert [row["path"] for row in body["data"]] == ["/blog/one", "/blog/two"]
    assert body["pagination"] == {"limit": 2, "offset": 1, "total": 4}


@pytest.mark.parametrize("params, visitors", [
    ({"filter_country": "is:GB"}, 2),
    ({"filter_country": "is:DE,US"}, 1),
    ({"filter_country": "is_not:GB"}, 1),
    ({"filter_page": "contains:/blog"}, 2),
    ({"filter_page": "does_not_contain:/blog"}, 2),
    ({"filter_page": "matches:^/(pricing|about)$"}, 1),
    ({"filter_referrer": "is:Direct/None"}, 2),
    ({"filter_referrer": "is:Google"}, 1),
    ({"filter_channel": "is:Email"}, 1),
    ({"filter_device": "is:mobile"}, 1),
    ({"filter_goal": "is:signup"}, 1),
    ({"filter_utm_campaign": "is:launch"}, 1),
    ({"filter_entry_page": "is:/"}, 2),
    ({"filter_country": "is:GB", "filter_page": "contains:/blog"}, 1),  # filters combine with AND
])
def test_filter_parameters(client, visits, params, visitors):
    assert report(client, visits, "overview", **BOTH_DAYS, **params)["data"][0]["visitors"] == visitors


@pytest.mark.parametrize("params, message", [
    ({"startAt": "2026-03-01"}, "endAt: startAt and endAt go together"),
    ({"startAt": "yesterday", "endAt": "2026-03-10"}, "startAt: 'yesterday' is not an ISO date"),
    ({"startAt": "2026-03-10", "endAt": "2026-02-30"}, "endAt: '2026-02-30' is not an ISO date"),
    ({"startAt": "2026-03-10", "endAt": "2026-03-01"}, "startAt/endAt: start must be before end"),
    ({"limit": "0"}, "limit: must be an integer between 1 and 10000"),
    ({"limit": "ten"}, "limit: must be an integer between 1 and 10000"),
    ({"offset": "-1"}, "offset: must be an integer between 0 and 1000000000"),
    ({"timezone": "Mars/Olympus"}, "timezone: 'Mars/Olympus' is not a known IANA time zone"),
    ({"filter_planet": "is:Mars"}, "filter_planet: unknown filter; known: filter_page"),
    ({"filter_country": "DE"}, "filter_country: must be <operator>:<values>"),
    ({"filter_country": "equals:DE"}, "filter_country: must be <operator>:<values>"),
    ({"filter_country": "is:"}, "filter_country: needs at least one value"),
    ({"filter_country": "is:GB", "filter_page": "matches:("}, "filter_page: invalid regular expression '('"),
    ({"attribution": "linear"}, "attribution: must be one of first_touch, last_touch"),
    ({"fields": "visits_total"}, "fields: unknown field 'visits_total'"),
])
def test_bad_parameters_are_400_naming_the_parameter(client, visits, params, message):
    response = client.get("/api/v1/analytics/overview", params=params, headers=bearer(visits.key))
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(message)


def test_timeseries_parameters_are_checked_too(client, visits):
    for params, message in [({"interval": "year"}, "interval: must be one of hour, day, week, month"),
                            ({"interval": "hour", "startAt": "1990-01-01", "endAt": "2026-03-10"}, "interval: ")]:
        response = client.get("/api/v1/analytics/timeseries", params=params, headers=bearer(visits.key))
        assert response.status_code == 400
        assert response.json()["error"].startswith(message)


def test_an_unknown_report_is_404(client, owner):
    assert client.get("/api/v1/analytics/planets", headers=bearer(owner.key)).status_code == 404


# -- realtime -----------------------------------------------------------------------------


@pytest.fixture
def live(client, owner, clock):
    """Three visitors in the last five minutes, one ten minutes ago (not counted)."""
    now = NOW
    send(client, owner, [
        pageview(owner, "/pricing", at=now - timedelta(minutes=1), referrer="https://www.google.com/", visitor=A),
        pageview(owner, "/pricing", at=now - timedelta(minutes=2), ip="8.8.8.8", visitor=B),
        pageview(owner, "/", at=now - timedelta(minutes=4), visitor=C),
        pageview(owner, "/old", at=now - timedelta(minutes=10)),
    ])
    return owner


def test_realtime_counts_the_last_five_minutes_with_top_pages_sources_countries(client, live):
    response = client.get("/api/v1/realtime", headers=bearer(live.key))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "site_id": live.public_id, "at": "2026-03-11T12:00:00Z", "window_seconds": 300, "visitors": 3,
        "pages": [{"page": "/pricing", "visitors": 2}, {"page": "/", "visitors": 1}],
        "sources": [{"source": "Direct/None", "visitors": 2}, {"source": "Google", "visitors": 1}],
        "countries": [{"country": "GB", "visitors": 2}, {"country": "US", "visitors": 1}],
        "recent_visitors": [  # newest first; the visitor of ten minutes ago is not among them
            {"visitor_id": A, "page": "/pricing", "source": "Google", "country": "GB", "last_seen": "2026-03-11T11:59:00Z"},
            {"visitor_id": B, "page": "/pricing", "source": "Direct/None", "country": "US",
             "last_seen": "2026-03-11T11:58:00Z"},
            {"visitor_id": C, "page": "/", "source": "Direct/None", "country": "GB", "last_seen": "2026-03-11T11:56:00Z"},
        ],
    }
    assert report(client, live, "realtime") == {"status": "success", "data": [{"visitors": 3}]}


def test_the_realtime_stream_sends_a_frame_at_once_and_ends_at_shutdown(client, live):
    with client.stream("GET", "/api/v1/realtime/stream", headers=bearer(live.key)) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-accel-buffering"] == "no"
        assert response.headers["x-ratelimit-limit"] == "600"
        chunks, buffer = response.iter_bytes(), bytearray()
        event, data = read_frame(chunks, buffer)
        assert (event, data) == ("realtime", client.get("/api/v1/realtime", headers=bearer(live.key)).json())
        client.portal.call(client.app.state.services.stopping.set)  # what the app's shutdown does
        assert read_frame(chunks, buffer) is None


def test_the_realtime_stream_sends_fresh_frames(client, live, clock, monkeypatch):
    from postmetric.web.routes import stats as stats_routes

    monkeypatch.setattr(stats_routes, "STREAM_INTERVAL_SECONDS", 0)
    with client.stream("GET", "/api/v1/realtime/stream", headers=bearer(live.key)) as response:
        chunks, buffer = response.iter_bytes(), bytearray()
        assert read_frame(chunks, buffer)[1]["visitors"] == 3
        clock.advance(24 * 3600)  # a day later, nobody is here
        frames = [read_frame(chunks, buffer)[1]["visitors"] for _ in range(3)]
        assert frames[-1] == 0


# -- visitors -----------------------------------------------------------------------------


def test_the_visitor_profile(client, visits):
    send(client, visits, [pageview(visits, "/pricing", visitor=A, session=S1, at=at("2026-03-10 09:04"),
                                   type="identify", props={"user_id": "u_42", "email": "ada@example.com"})])
    response = client.get(f"/api/v1/visitors/{A.upper()}", headers=bearer(visits.key))
    assert response.status_code == 200
    profile = response.json()
    assert (profile["visitor_id"], profile["first_seen"], profile["last_seen"]) == (
        A, "2026-03-09T15:00:00Z", "2026-03-10T09:04:00Z")
    assert profile["identity"]["user_id"] == "u_42" and profile["identity"]["email"] == "ada@example.com"
    assert profile["geo"] == {"country": "GB", "region": "England", "city": "London"}
    assert (profile["device"]["type"], profile["device"]["browser"], profile["device"]["os"]) == (
        "desktop", "Chrome", "Windows")
    assert (profile["first_touch"]["channel"], profile["first_touch"]["entry_page"]) == ("Direct", "/blog/two")
    assert [(s["session_id"], s["entry_page"], s["exit_page"], s["pageviews"], s["duration"], s["source"])
            for s in profile["sessions"]] == [(S4, "/blog/two", "/blog/two", 1, 0, ""),
                                              (S1, "/", "/pricing", 2, 240, "Google")]
    assert [p["page"] for p in profile["pages"]] == ["/blog/two", "/", "/pricing"]
    assert profile["goals"] == [{"name": "signup", "timestamp": "2026-03-10T09:03:00Z", "page": "/pricing",
                                 "props": {"plan": "pro"}}]
    assert profile["payments"] == []


# -- OpenAPI ------------------------------------------------------------------------------


def test_every_api_route_is_in_the_openapi_document(client):
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearerAuth"][
            "description"]}
    routes = {("/api/events", "post")} | {
        (route.path, method.lower())
        for route in client.app.app.routes if route.path.startswith("/api/")
        for method in route.methods - {"HEAD"}
    }
    assert {f"/api/v1/analytics/{name}" for name in REPORTS} <= {path for path, _ in routes}
    missing = sorted(f"{method.upper()} {path}" for path, method in routes
                     if method not in document["paths"].get(path, {}))
    assert missing == []


def test_the_openapi_examples_are_valid_queries(client, visits):
    """The documented /api/v1/query example runs as is (with this site's id)."""
    document = client.get("/api/openapi.json").json()
    example = document["paths"]["/api/v1/query"]["post"]["requestBody"]["content"]["application/json"]["example"]
    response = client.post("/api/v1/query", headers=bearer(visits.key),
                           content=orjson.dumps(example | {"site_id": visits.public_id}))
    assert response.status_code == 200, response.text


def test_the_docs_page_lists_every_operation_without_external_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    document = client.get("/api/openapi.json").json()
    for path in document["paths"]:
        assert f"<code>{path}</code>" in page.text
    assert "<script" not in page.text and "https://" not in page.text.split("<body>")[0]
