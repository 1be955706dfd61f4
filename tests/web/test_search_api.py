"""search:* queries over HTTP (`POST /api/v1/query`): Search Console rows written through the event store
are answered to the site's key and token, never to another tenant's; what Search Console data cannot
answer is a 400 naming the field, never a 500."""

from __future__ import annotations

from datetime import date

import pytest

from postmetric.store.search import SearchRow

from stats_api_support import bearer, clock, create_tenant, owner  # noqa: F401 - clock, owner: fixtures

METRICS = ["search:clicks", "search:impressions", "search:ctr", "search:position"]


def rows(query: str, clicks: int) -> list[SearchRow]:
    return [SearchRow(day=date(2026, 3, 9), query=query, page="https://example.com/pricing", path="/pricing",
                      country="DE", device="mobile", clicks=clicks, impressions=4 * clicks, position=3.25)]


@pytest.fixture
def tenants(client, owner, settings):
    other = create_tenant(settings, email="other@other.example", domain="other.example")
    events = client.app.state.services.events
    events.replace_search_rows(owner.site_id, date(2026, 3, 1), date(2026, 3, 10), rows("example analytics", 10))
    events.replace_search_rows(other.site_id, date(2026, 3, 1), date(2026, 3, 10), rows("other analytics", 7))
    return owner, other


def query(client, key: str, site_id: str, **fields):
    body = {"site_id": site_id, "date_range": ["2026-03-01", "2026-03-10"], "metrics": METRICS} | fields
    return client.post("/api/v1/query", json=body, headers=bearer(key))


def test_a_sites_key_and_its_owners_token_read_its_search_rows(client, tenants):
    owner, _ = tenants
    for credential in (owner.key, owner.token):
        answer = query(client, credential, owner.public_id, dimensions=["search:query"],
                       filters=[["is", "event:page", ["/pricing"]]])
        assert answer.status_code == 200, answer.text
        assert answer.json()["results"] == [{"dimensions": ["example analytics"], "metrics": [10, 40, 25.0, 3.3]}]


def test_another_tenant_reads_only_its_own_search_rows(client, tenants):
    owner, other = tenants
    assert query(client, other.key, owner.public_id).status_code == 404
    assert query(client, other.token, owner.public_id).status_code == 404
    answer = query(client, other.token, other.public_id, dimensions=["search:query"])
    assert [r["dimensions"] for r in answer.json()["results"]] == [["other analytics"]]


@pytest.mark.parametrize(("fields", "error"), [
    ({"metrics": ["search:clicks", "visitors"]},
     "metrics: visitors cannot be asked together with search:clicks: search:* metrics come from Search Console"),
    ({"dimensions": ["visit:source"]}, "dimensions: visit:source is not in Search Console data"),
    ({"dimensions": ["time:hour"]}, "dimensions: Search Console reports whole days: time:hour"),
    ({"filters": [["is", "visit:country", ["DE"]]]}, "filters: visit:country is not in Search Console data"),
    ({"date_range": "realtime"}, "date_range: Search Console reports whole days"),
    ({"metrics": ["visitors"], "dimensions": ["search:query"]}, "dimensions: search:query splits search:* metrics only"),
    ({"dimensions": ["search:keyword"]}, "dimensions: unknown dimension 'search:keyword'"),
])
def test_what_search_console_cannot_answer_is_a_400_naming_the_field(client, tenants, fields, error):
    owner, _ = tenants
    answer = query(client, owner.key, owner.public_id, **fields)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith(error), answer.text
