"""Stats API authentication, tenancy and rate limits (SPEC §8: a key never reaches a site it was not made for).

Two tenants: the `site` fixture's owner (example.com) and another user with their own site
(other.example). Every stats endpoint is called with the other tenant's site key and account
token and must answer 404, exactly as for a site that does not exist.
"""

from __future__ import annotations

import uuid

import pytest
from starlette.testclient import TestClient

from postmetric.app import create_app
from postmetric.web.analytics import REPORTS

from factories import CHROME_UA
from stats_api_support import (  # noqa: F401 - clock, owner: fixtures
    NOW, bearer, clock, create_tenant, owner, pageview, read_frame, send,
)

VISITOR = "6f9619ff-8b86-4011-b42d-00cf4fc964ff"


@pytest.fixture
def other(settings, site):
    return create_tenant(settings, email="other@example.org", domain="other.example")


def endpoints(site_ref: str | None, visitor: str = VISITOR) -> list[tuple[str, str, dict]]:
    """Every stats endpoint as (method, path, request keywords) reading `site_ref`."""
    params = {} if site_ref is None else {"site_id": site_ref}
    query = {"date_range": "7d", "metrics": ["visitors"]} | ({} if site_ref is None else {"site_id": site_ref})
    return [
        ("POST", "/api/v1/query", {"json": query}),
        *(("GET", f"/api/v1/analytics/{report}", {"params": params}) for report in REPORTS),
        ("GET", "/api/v1/realtime", {"params": params}),
        ("GET", "/api/v1/realtime/stream", {"params": params}),
        ("GET", f"/api/v1/visitors/{visitor}", {"params": params}),
    ]


def call(client, method, path, key, **kwargs):
    headers = bearer(key) if key is not None else {}
    return client.request(method, path, headers=headers, **kwargs)


def test_another_tenants_site_is_not_found_whatever_the_credential(client, owner, other):
    send(client, owner, [pageview(owner, visitor=VISITOR)])
    for (method, path, kwargs), by_domain, missing in zip(
            endpoints(owner.public_id), endpoints("example.com"), endpoints("pm_AAAAAAAAAAAA")):
        nowhere = call(client, *missing[:2], other.token, **missing[2])
        assert nowhere.status_code == 404, path
        assert nowhere.json() == {"error": "site_id: site 'pm_AAAAAAAAAAAA' not found"}, path
        for key in (other.key, other.token):
            response = call(client, method, path, key, **kwargs)
            assert response.status_code == 404, (path, response.text)
            assert response.json() == {"error": f"site_id: site {owner.public_id!r} not found"}, path  # same words
        assert call(client, method, path, other.token, **by_domain[2]).status_code == 404, path
        if not path.endswith("/stream"):  # a 200 there is an endless stream; see test_stats_api.py
            assert call(client, method, path, owner.token, **kwargs).status_code == 200, path


def test_revoked_keys_and_tokens_get_401_everywhere(client, owner):
    for method, path, kwargs in endpoints(owner.public_id):
        for key in (owner.revoked_key, owner.revoked_token, "pmk_" + "x" * 43):
            response = call(client, method, path, key, **kwargs)
            assert response.status_code == 401, path
            assert response.json() == {"error": "the API key is unknown or revoked"}, path
            assert response.headers["www-authenticate"].startswith("Bearer"), path
            assert "x-ratelimit-limit" not in response.headers, path


@pytest.mark.parametrize("headers, message", [
    ({}, "send a site key or account token as 'Authorization: Bearer <key>'"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "the Authorization header must be 'Bearer <key>'"),
    ({"Authorization": "Bearer"}, "the Authorization header must be 'Bearer <key>'"),
    ({"Authorization": "Bearer sk_live_123"}, "the API key is malformed: site keys start with pmk_, "
                                              "account tokens with pmt_"),
])
def test_a_missing_or_malformed_header_says_what_is_wrong(client, owner, headers, message):
    response = client.get("/api/v1/analytics/overview", params={"site_id": owner.public_id}, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": message}
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_site_key_reads_its_own_site_with_or_without_site_id(client, owner, clock):
    send(client, owner, [pageview(owner)])
    clock.advance(1)
    for params in ({}, {"site_id": owner.public_id}, {"site_id": "example.com"}, {"site_id": "www.Example.com"}):
        response = client.get("/api/v1/analytics/realtime", params=params, headers=bearer(owner.key))
        assert response.status_code == 200, params
        assert response.json() == {"status": "success", "data": [{"visitors": 1}]}


def test_an_account_token_reads_its_users_sites_and_must_name_one(client, owner):
    response = client.get("/api/v1/analytics/realtime", params={"site_id": owner.public_id},
                          headers=bearer(owner.token))
    assert response.status_code == 200
    response = client.get("/api/v1/analytics/realtime", headers=bearer(owner.token))
    assert response.status_code == 400
    assert response.json()["error"].startswith("site_id: is required with an account token")


def test_a_site_key_cannot_read_another_sites_visitor_through_its_own_site(client, owner, other):
    send(client, owner, [pageview(owner, visitor=VISITOR)])
    assert client.get(f"/api/v1/visitors/{VISITOR}", headers=bearer(owner.key)).status_code == 200
    response = client.get(f"/api/v1/visitors/{VISITOR}", headers=bearer(other.key))
    assert response.status_code == 404
    assert response.json() == {"error": f"visitor_id: visitor {VISITOR!r} not found on this site"}


def test_the_query_endpoint_names_the_site_in_its_body_only(client, owner, other):
    response = client.post("/api/v1/query", json={"site_id": other.public_id, "date_range": "7d",
                                                  "metrics": ["visitors"]}, headers=bearer(owner.key))
    assert response.status_code == 404


def test_every_authenticated_answer_carries_the_rate_limit_headers(client, owner, clock):
    window_end = str((int(clock()) // 60 + 1) * 60)
    answers = [
        client.get("/api/v1/analytics/overview", headers=bearer(owner.key)),  # 200
        client.get("/api/v1/analytics/overview", params={"limit": "x"}, headers=bearer(owner.key)),  # 400
        client.get("/api/v1/analytics/overview", params={"site_id": "nope.example"}, headers=bearer(owner.key)),
    ]
    assert [a.status_code for a in answers] == [200, 400, 404]
    for spent, answer in enumerate(answers, start=1):
        assert answer.headers["x-ratelimit-limit"] == "600"
        assert answer.headers["x-ratelimit-remaining"] == str(600 - spent)
        assert answer.headers["x-ratelimit-reset"] == window_end


@pytest.fixture
def limited_client(settings, clock, site, owner):
    with TestClient(create_app(settings.model_copy(update={"api_rate_limit": "3/minute"}), clock=clock),
                    headers={"user-agent": CHROME_UA}) as test_client:
        yield test_client


def test_over_the_limit_is_429_with_retry_after_and_each_credential_counts_alone(limited_client, owner, clock):
    client = limited_client
    statuses = [client.get("/api/v1/realtime", headers=bearer(owner.key)).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    over = client.get("/api/v1/realtime", headers=bearer(owner.key))
    assert over.status_code == 429
    assert over.json()["error"].startswith("too many requests for this key: 3 per 60 s")
    assert over.headers["x-ratelimit-remaining"] == "0"
    assert over.headers["retry-after"] == str(int(over.headers["x-ratelimit-reset"]) - int(clock()))
    assert client.get("/api/v1/realtime", params={"site_id": owner.public_id},
                      headers=bearer(owner.token)).status_code == 200  # the token has its own budget
    clock.advance(int(over.headers["retry-after"]))
    assert client.get("/api/v1/realtime", headers=bearer(owner.key)).status_code == 200


def test_an_empty_rate_limit_setting_turns_the_limit_and_its_headers_off(settings, clock, site, owner):
    with TestClient(create_app(settings.model_copy(update={"api_rate_limit": ""}), clock=clock)) as client:
        response = client.get("/api/v1/realtime", headers=bearer(owner.key))
    assert response.status_code == 200
    assert "x-ratelimit-limit" not in response.headers


def test_a_stream_ends_when_its_key_is_revoked(client, settings, owner, monkeypatch):
    """The key is revoked while the first frame is being computed; the next check ends the stream."""
    from postmetric.accounts.keys import hash_secret, revoke_site_key
    from postmetric.store.database import create_engine, session_factory
    from postmetric.store.metadata import ApiKey, Site
    from postmetric.web.routes import stats as stats_routes

    real_snapshot = stats_routes.realtime_snapshot

    def snapshot_then_revoke(*args, **kwargs):
        body = real_snapshot(*args, **kwargs)
        engine = create_engine(settings.metadata_url)
        with session_factory(engine)() as session:
            key = session.query(ApiKey).filter_by(key_hash=hash_secret(owner.key)).one()
            revoke_site_key(session, site=session.get(Site, key.site_id), key_id=key.id, now=NOW)
            session.commit()
        engine.dispose()
        return body

    monkeypatch.setattr(stats_routes, "realtime_snapshot", snapshot_then_revoke)
    monkeypatch.setattr(stats_routes, "STREAM_INTERVAL_SECONDS", 0)
    with client.stream("GET", "/api/v1/realtime/stream", headers=bearer(owner.key)) as response:
        chunks, buffer = response.iter_bytes(), bytearray()
        assert read_frame(chunks, buffer)[0] == "realtime"
        assert read_frame(chunks, buffer) == ("error", {"error": "the API key is unknown or revoked"})
        assert read_frame(chunks, buffer) is None
    assert client.get("/api/v1/realtime", headers=bearer(owner.key)).status_code == 401


def test_unknown_visitor_ids_are_404_and_malformed_ones_400(client, owner):
    unknown = client.get(f"/api/v1/visitors/{uuid.uuid4()}", headers=bearer(owner.key))
    assert unknown.status_code == 404
    malformed = client.get("/api/v1/visitors/not-a-uuid", headers=bearer(owner.key))
    assert malformed.status_code == 400
    assert malformed.json() == {"error": "visitor_id: 'not-a-uuid' is not a visitor id (a UUID)"}
