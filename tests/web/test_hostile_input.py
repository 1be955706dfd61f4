"""Malformed and extreme input, class by class, on every endpoint that takes it: a 4xx whose
message names the field, never a 500 (and never seconds of work before the answer).

Each class is a list of hostile values; each test crosses it with the endpoints (or fields)
that read such a value, taken from the app's own registries and its OpenAPI document where one
exists, so a new endpoint is covered without being listed here. The endpoints are looped over
inside a test (one app per test is what costs time here), and every failure names its request.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import orjson
import pytest

from postmetric.web.analytics import REPORTS
from postmetric.web.openapi import OPENAPI

from stats_api_support import NOW, bearer, clock, owner, pageview, send  # noqa: F401 - clock, owner: fixtures

VISITOR = "00000000-0000-4000-8000-00000000000a"
HUGE_INTEGERS = [str(2**63), str(2**64), "9" * 30, "9" * 5000]
EXTREME_DATES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0001-01-01", "9999-12-31",
                 "1000-01-01T00:00:00Z"]
BAD_TIMEZONES = ["Europe", "America", "a" * 300, "UTC\x00", "../../etc/passwd", "Not/AZone"]
OUT_OF_WINDOW = ["0001-01-01T00:00:00+01:00", "1999-12-31T23:59:59Z", "9999-12-31T23:59:59-01:00"]
# Bodies that are not JSON in ways a JSON parser may not report as a decoding error.
HOSTILE_BODIES = {
    "invalid UTF-8 in a string": b'{"websiteId": "\xff\xfe", "name": "\xc3\x28"}',
    "a lone surrogate escape": b'{"websiteId": "\\ud800"}',
    "deep nesting": b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "a number past float range": b'{"amount": 1e400}',
}
JSON_BODY_ENDPOINTS = [  # routes reading a JSON body, as (method, path); the account routes take a token
    ("POST", "/api/events"), ("POST", "/api/v1/events"), ("POST", "/api/v1/goals"), ("POST", "/api/v1/identify"),
    ("POST", "/api/v1/query"), ("POST", "/api/v1/payments"), ("POST", "/api/v1/sites"),
    ("POST", "/api/v1/auth/signup"), ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/sites/{id}/goals"),
    ("POST", "/api/v1/sites/{id}/funnels"), ("PUT", "/api/v1/sites/{id}"), ("PUT", "/api/v1/sites/{id}/sharing"),
]


def assert_refused(response, field: str, status: int = 400) -> None:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    assert response.json()["error"].startswith(f"{field}"), response.json()


# -- ids in paths ---------------------------------------------------------------------------


def id_operations() -> list[tuple[str, str, str]]:
    """(method, path template, id parameter) for every documented operation with an integer id."""
    found = []
    for path, operations in OPENAPI["paths"].items():
        for name in re.findall(r"{(\w+)}", path):
            if name == "id" or name.endswith("_id") and name not in ("site_public_id", "visitor_id"):
                found += [(method.upper(), path, name) for method in operations if method in ("get", "put", "delete")]
    return found


@pytest.mark.parametrize("value", HUGE_INTEGERS)
def test_ids_past_64_bits_are_not_found(client, owner, value):
    for method, template, parameter in id_operations():
        path = template
        for name in re.findall(r"{(\w+)}", template):
            path = path.replace(f"{{{name}}}", value if name == parameter else str(owner.site_id))
        response = client.request(method, path, headers=bearer(owner.token), json={})
        assert response.status_code == 404, f"{method} {path[:80]}: {response.status_code} {response.text[:200]}"


def test_the_fuzzed_operations_include_every_id_kind():
    assert {parameter for _, _, parameter in id_operations()} >= {"id", "goal_id", "funnel_id", "key_id", "user_id"}


# -- pagination -----------------------------------------------------------------------------


def funnel_results_path(client, owner) -> str:
    response = client.post(f"/api/v1/sites/{owner.public_id}/funnels", headers=bearer(owner.token), json={
        "name": "Signup", "steps": [{"type": "page", "match": "/pricing"}, {"type": "goal", "match": "signup"}]})
    assert response.status_code == 201, response.text
    return f"/api/v1/funnels/{response.json()['id']}/results"


PAGED = [f"/api/v1/analytics/{report}" for report in REPORTS if report != "realtime"] + ["/api/v1/customers"]


@pytest.mark.parametrize("parameter", ["limit", "offset"])
def test_pagination_past_its_bounds_is_a_400_naming_it(client, owner, parameter):
    for path in PAGED:
        for value in [*HUGE_INTEGERS, "-1", "1e3"]:
            response = client.get(path, params={parameter: value}, headers=bearer(owner.key))
            assert response.status_code == 400, f"{path} {parameter}={value[:40]}: {response.text[:200]}"
            assert response.json()["error"].startswith(parameter), (path, response.json())


def test_funnel_limits_past_their_bounds_are_a_400(client, owner):
    path = funnel_results_path(client, owner)
    for value in [*HUGE_INTEGERS, "-1", "1e3"]:
        assert_refused(client.get(path, params={"limit": value}, headers=bearer(owner.key)), "limit")


def test_query_pagination_past_its_bounds_is_a_400(client, owner):
    for field in ("limit", "offset"):
        for value in [2**63, 2**64, -1, 10**30]:
            query = {"site_id": owner.public_id, "date_range": "7d", "metrics": ["visitors"],
                     "pagination": {field: value}}
            assert_refused(client.post("/api/v1/query", json=query, headers=bearer(owner.key)), f"pagination.{field}")


# -- dates and time zones in queries --------------------------------------------------------


def date_range_requests(client, owner) -> list[tuple[str, str, dict, str]]:
    """(method, path, what to send with `VALUE` standing for the date, field named in the error)."""
    funnel = funnel_results_path(client, owner)
    requests = [("GET", f"/api/v1/analytics/{report}", {"startAt": "VALUE", "endAt": "2026-03-01"}, "startAt")
                for report in REPORTS if report != "realtime"]
    requests += [("GET", "/api/v1/analytics/overview", {"startAt": "2026-03-01", "endAt": "VALUE"}, "endAt"),
                 ("GET", "/api/v1/customers", {"date_range": "2026-01-01,VALUE"}, "date_range"),
                 ("GET", funnel, {"date_range": "VALUE,2026-03-01"}, "date_range"),
                 ("POST", "/api/v1/query", {"site_id": owner.public_id, "metrics": ["visitors"],
                                            "date_range": ["2026-01-01", "VALUE"]}, "date_range")]
    return requests


def send_with(client, key, method: str, path: str, template: dict, value: str):
    filled = orjson.loads(orjson.dumps(template).replace(b"VALUE", value.encode()))
    if method == "GET":
        return client.get(path, params=filled, headers=bearer(key))
    return client.post(path, json=filled, headers=bearer(key))


@pytest.mark.parametrize("value", EXTREME_DATES)
def test_dates_out_of_range_are_a_400_naming_the_parameter(client, owner, value):
    for method, path, template, field in date_range_requests(client, owner):
        response = send_with(client, owner.key, method, path, template, value)
        assert response.status_code == 400, f"{method} {path} {value}: {response.status_code} {response.text}"
        assert response.json()["error"].startswith(field), (path, response.json())


def test_unknown_time_zones_are_a_400_naming_timezone(client, owner):
    funnel = funnel_results_path(client, owner)
    for value in BAD_TIMEZONES:
        for path in [*(f"/api/v1/analytics/{report}" for report in REPORTS), funnel]:
            response = client.get(path, params={"timezone": value}, headers=bearer(owner.key))
            assert_refused(response, "timezone")
        query = {"site_id": owner.public_id, "date_range": "7d", "metrics": ["visitors"], "timezone": value}
        assert_refused(client.post("/api/v1/query", json=query, headers=bearer(owner.key)), "timezone")
        response = client.put(f"/api/v1/sites/{owner.site_id}", json={"timezone": value}, headers=bearer(owner.token))
        assert_refused(response, "timezone")


def test_filters_nested_without_end_are_a_400(client, owner):
    nested: list = ["is", "event:page", ["/"]]
    for _ in range(900):
        nested = ["not", nested]
    query = {"site_id": owner.public_id, "date_range": "7d", "metrics": ["visitors"], "filters": [nested]}
    assert_refused(client.post("/api/v1/query", json=query, headers=bearer(owner.key)), "filters[0]")


# -- the cost of a range is known before any work -------------------------------------------


def test_a_9000_year_range_is_refused_for_its_dates(client, owner):
    query = {"site_id": owner.public_id, "metrics": ["visitors"], "dimensions": ["time:day"],
             "date_range": ["1000-01-01", "9000-12-31"], "include": {"time_labels": True}}
    assert_refused(client.post("/api/v1/query", json=query, headers=bearer(owner.key)), "date_range")


def test_more_time_buckets_than_listable_are_a_400(client, owner):
    for dimension, start in [("time:minute", "2020-01-01"), ("time:hour", "2000-01-01"), ("time:day", "1971-01-01")]:
        for include in [{"time_labels": True}, {"comparison": "previous_period"}]:
            query = {"site_id": owner.public_id, "metrics": ["visitors"], "dimensions": [dimension],
                     "date_range": [start, "2026-03-01"], "include": include}
            response = client.post("/api/v1/query", json=query, headers=bearer(owner.key))
            assert_refused(response, "dimensions")
            assert "more than 10000" in response.json()["error"]


def test_timeseries_by_the_hour_over_decades_is_a_400_naming_interval(client, owner):
    response = client.get("/api/v1/analytics/timeseries", headers=bearer(owner.key),
                          params={"interval": "hour", "startAt": "2000-01-01", "endAt": "2026-03-01"})
    assert_refused(response, "interval")


def test_an_all_time_series_counts_its_buckets_from_the_first_visit(client, owner):
    send(client, owner, [pageview(owner, "/", at=datetime(2001, 1, 1, tzinfo=timezone.utc))])
    query = {"site_id": owner.public_id, "metrics": ["visitors"], "dimensions": ["time:hour"], "date_range": "all",
             "include": {"time_labels": True}}
    assert_refused(client.post("/api/v1/query", json=query, headers=bearer(owner.key)), "dimensions")
    query["dimensions"] = ["time:month"]
    assert client.post("/api/v1/query", json=query, headers=bearer(owner.key)).status_code == 200


# -- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_bodies_that_are_not_json_are_a_400(client, owner, body):
    for method, template in JSON_BODY_ENDPOINTS:
        path = template.replace("{id}", str(owner.site_id))
        credential = owner.token if path.startswith("/api/v1/sites") else owner.key
        response = client.request(method, path, content=body, headers=bearer(credential) | {
            "content-type": "application/json"})
        assert response.status_code == 400, f"{method} {path}: {response.status_code} {response.text[:300]}"
        assert "error" in response.json()


# -- timestamps at ingest -------------------------------------------------------------------


def timestamped_bodies(owner, value: str) -> list[tuple[str, dict]]:
    return [
        ("/api/v1/events", pageview(owner, "/", timestamp=value)),
        ("/api/v1/goals", {"visitor_id": VISITOR, "name": "signup", "timestamp": value}),
        ("/api/v1/identify", {"visitor_id": VISITOR, "user_id": "u1", "timestamp": value}),
        ("/api/v1/payments", {"transaction_id": "pi_1", "amount": "10", "currency": "USD", "timestamp": value}),
    ]


@pytest.mark.parametrize("value", OUT_OF_WINDOW)
def test_timestamps_outside_the_window_are_refused_at_ingest(client, owner, value):
    for path, body in timestamped_bodies(owner, value):
        response = client.post(path, json=body, headers=bearer(owner.key))
        assert response.status_code == 400, f"{path} {value}: {response.status_code} {response.text}"
        assert "timestamp" in response.json()["error"].split(":")[0], (path, response.json())
    client.app.state.services.writer.flush()
    overview = client.get("/api/v1/analytics/overview", headers=bearer(owner.key))
    assert overview.status_code == 200 and overview.json()["data"][0]["visitors"] == 0


def test_timestamps_inside_the_window_are_kept(client, owner):
    for path, body in timestamped_bodies(owner, "2000-01-01T00:00:00Z"):
        response = client.post(path, json=body, headers=bearer(owner.key))
        assert response.status_code in (201, 202), f"{path}: {response.text}"


def test_an_event_stored_before_year_1_does_not_break_all_time_queries(client, owner):
    """Rows stored before ingestion refused such timestamps: all-time reads begin at 1970."""
    from factories import stored_event
    from postmetric.ingest.rows import event_row
    from postmetric.store.events import encode_rows

    ancient = stored_event(timestamp=datetime(1, 1, 1, 1, tzinfo=timezone.utc).timestamp())
    ancient.site_id = owner.site_id
    client.app.state.services.events.load(encode_rows([event_row(ancient)]))
    funnel = funnel_results_path(client, owner)
    for path, params in [("/api/v1/analytics/overview", {}), ("/api/v1/analytics/timeseries", {"interval": "month"}),
                         (funnel, {"date_range": "all"}), ("/api/v1/customers", {"date_range": "all"})]:
        response = client.get(path, params=params, headers=bearer(owner.key))
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    query = {"site_id": owner.public_id, "date_range": "all", "metrics": ["visitors"]}
    response = client.post("/api/v1/query", json=query, headers=bearer(owner.key))
    assert response.status_code == 200, response.text


# -- NUL characters (PostgreSQL refuses them in text) ---------------------------------------


@pytest.fixture
def any_metadata_client(metadata_url, tmp_path, derived_data_dir):
    """The app on SQLite and on PostgreSQL metadata, with a tenant (its keys and tokens)."""
    from starlette.testclient import TestClient

    from postmetric.app import create_app
    from postmetric.config import Settings
    from postmetric.store.database import migrate

    from factories import Clock
    from stats_api_support import create_tenant

    settings = Settings(data_dir=tmp_path / "data", cache_dir=derived_data_dir, database_url=metadata_url,
                        ingest_rate_limit="", login_rate_limit="")
    settings.ensure_data_dir()
    migrate(settings.metadata_url)
    tenant = create_tenant(settings, email="owner@example.com", domain="example.com")
    with TestClient(create_app(settings, clock=Clock(NOW.timestamp()))) as test_client:
        yield test_client, tenant


def test_nul_characters_are_a_400_naming_the_field(any_metadata_client):
    client, tenant = any_metadata_client
    site = f"/api/v1/sites/{tenant.site_id}"
    requests = [  # (method, path, body, credential, field named)
        ("GET", "/api/v1/analytics/overview?site_id=pm_%00", None, tenant.token, "site_id"),
        ("GET", "/api/events.gif?websiteId=pm_%00&type=pageview&href=https://example.com/", None, None, "websiteId"),
        ("POST", "/api/v1/query", {"site_id": "pm_\x00", "date_range": "7d", "metrics": ["visitors"]},
         tenant.token, "site_id"),
        ("POST", "/api/v1/auth/login", {"email": "a\x00@example.com", "password": "x"}, None, "email"),
        ("POST", "/api/v1/auth/signup", {"email": "a\x00@example.com", "password": "a long password"}, None, "email"),
        ("PUT", site, {"name": "a\x00b"}, tenant.token, "name"),
        ("POST", f"{site}/keys", {"name": "a\x00"}, tenant.token, "name"),
        ("POST", f"{site}/members", {"email": "a\x00@example.com", "role": "viewer"}, tenant.token, "email"),
        ("POST", f"{site}/funnels", {"name": "f", "steps": [{"type": "page", "match": "/\x00"},
                                                          {"type": "goal", "match": "x"}]}, tenant.token,
         "steps[0].match"),
        ("GET", "/api/v1/share/abc%00", None, None, "path"),
        ("POST", "/api/v1/share/abc%00/unlock", {"password": "x"}, None, "path"),
    ]
    for method, path, body, credential, field in requests:
        headers = bearer(credential) if credential else {}
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 400, f"{method} {path}: {response.status_code} {response.text[:200]}"
        assert response.json()["error"].startswith(f"{field}: "), (path, response.json())
    response = client.post("/api/events", content=orjson.dumps({"websiteId": "pm_\x00", "type": "pageview",
                                                                 "href": "https://example.com/"}))
    assert response.status_code == 400 and response.json()["error"].startswith("websiteId"), response.text
