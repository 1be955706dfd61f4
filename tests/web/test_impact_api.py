"""GET /api/v1/sites/{id}/annotations/{annotation_id}/impact and GET /api/v1/sites/{id}/mentions, over HTTP.

Events and a payment go in through the ingest and payments APIs; posts on X and commits are written to the
metadata database as their integrations' sync would. The clock stands at NOW (11 Mar 2026 12:00 UTC).

  V1  10 Mar 09:00  referrer https://t.co/…          X       pays $40 at 09:30
  V2  10 Mar 10:00  /?utm_source=twitter             X
  V3  10 Mar 11:00  referrer https://www.google.com  Google
  V4   2 Mar 09:00  no referrer                      Direct
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from postmetric.store.metadata import Annotation

from stats_api_support import NOW, bearer, clock, create_tenant, member_token, pageview, send  # noqa: F401

VISITORS = [str(uuid.uuid4()) for _ in range(4)]
POST_TIME = datetime(2026, 3, 10, 8, 0, tzinfo=timezone.utc)
COMMIT_TIME = datetime(2026, 3, 5, 0, 0, tzinfo=timezone.utc)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.fixture
def tenant(client, settings, site):
    tenant = create_tenant(settings, email="owner@example.com", domain="example.com")
    send(client, tenant, [
        pageview(tenant, "/", visitor=VISITORS[0], at=utc("2026-03-10 09:00:00"), referrer="https://t.co/Ab12Cd"),
        pageview(tenant, "/", visitor=VISITORS[1], at=utc("2026-03-10 10:00:00"), query="?utm_source=twitter"),
        pageview(tenant, "/", visitor=VISITORS[2], at=utc("2026-03-10 11:00:00"),
                 referrer="https://www.google.com/"),
        pageview(tenant, "/", visitor=VISITORS[3], at=utc("2026-03-02 09:00:00")),
    ])
    response = client.post("/api/v1/payments", headers=bearer(tenant.key), json={
        "transaction_id": "pi_1", "amount": 40, "currency": "usd", "datafast_visitor_id": VISITORS[0],
        "timestamp": "2026-03-10T09:30:00Z"})
    assert response.status_code in (200, 201), response.text
    return tenant


def add_annotation(client, site_id: int, kind: str, time: datetime, text: str) -> int:
    with client.app.state.services.metadata() as session:
        annotation = Annotation(site_id=site_id, kind=kind, time=time, text=text,
                                url="https://x.com/someone/status/1" if kind == "x" else None)
        session.add(annotation)
        session.commit()
        return annotation.id


@pytest.fixture
def post_id(client, tenant) -> int:
    return add_annotation(client, tenant.site_id, "x", POST_TIME, "Postmetric is neat")


@pytest.fixture
def commit_id(client, tenant) -> int:
    return add_annotation(client, tenant.site_id, "github", COMMIT_TIME, "Fix the signup form")


@pytest.fixture
def share_token(client, tenant) -> str:
    response = client.put(f"/api/v1/sites/{tenant.public_id}/sharing", json={"enabled": True},
                          headers=bearer(tenant.token))
    assert response.status_code == 200, response.text
    return response.json()["token"]


def impact_path(tenant, annotation_id: object) -> str:
    return f"/api/v1/sites/{tenant.public_id}/annotations/{annotation_id}/impact"


def test_a_posts_impact_is_what_came_from_x_in_the_next_24_hours(client, tenant, post_id):
    response = client.get(impact_path(tenant, post_id), headers=bearer(tenant.token))
    assert response.status_code == 200, response.text
    # V1 (t.co) and V2 (utm_source=twitter), and V1's $40; V3 came from Google.
    assert response.json() == {"window": "24h", "annotation_id": post_id, "start": "2026-03-10T08:00:00Z",
                               "end": "2026-03-11T08:00:00Z", "visitors": 2, "revenue": 40.0, "currency": "USD",
                               "partial": False}


def test_a_commits_impact_compares_the_week_before_with_the_days_since(client, tenant, commit_id):
    answer = client.get(impact_path(tenant, commit_id), headers=bearer(tenant.token)).json()
    assert answer["window"] == "7d" and answer["partial"] is True  # 6.5 days since, up to now
    assert answer["before"] == {"start": "2026-02-26T00:00:00Z", "end": "2026-03-05T00:00:00Z", "visitors": 1,
                                "conversion_rate": 0.0, "revenue": 0.0}
    assert answer["after"] == {"start": "2026-03-05T00:00:00Z", "end": "2026-03-11T12:00:00Z", "visitors": 3,
                               "conversion_rate": 33.33, "revenue": 40.0}


def test_mentions_list_the_posts_by_visitors_from_x(client, tenant, post_id):
    quiet = add_annotation(client, tenant.site_id, "x", utc("2026-03-03 12:00:00"), "Nobody clicked")
    add_annotation(client, tenant.site_id, "note", utc("2026-03-10 08:00:00"), "A note is not a mention")
    path = f"/api/v1/sites/{tenant.public_id}/mentions"
    response = client.get(path, headers=bearer(tenant.token))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [(m["annotation"]["id"], m["visitors"], m["revenue"]) for m in answer["mentions"]] == [
        (post_id, 2, 40.0), (quiet, 0, 0)]
    assert answer["currency"] == "USD"
    post = answer["mentions"][0]["annotation"]  # as the annotations listing gives it
    assert {key: post[key] for key in ("id", "kind", "time", "text", "url")} == {
        "id": post_id, "kind": "x", "time": "2026-03-10T08:00:00Z", "text": "Postmetric is neat",
        "url": "https://x.com/someone/status/1"}
    in_range = client.get(path, params={"from": "2026-03-09T00:00:00Z", "to": "2026-03-11T00:00:00Z"},
                          headers=bearer(tenant.token))
    assert [m["annotation"]["id"] for m in in_range.json()["mentions"]] == [post_id]
    assert len(client.get(path, params={"limit": "1"}, headers=bearer(tenant.token)).json()["mentions"]) == 1


def test_a_viewer_and_the_share_link_read_impact_mentions_and_annotations(client, tenant, post_id, share_token):
    viewer = member_token(client, tenant, "viewer@example.com", "viewer", now=NOW)
    for headers in (bearer(viewer), {"X-Postmetric-Share": share_token}):
        assert client.get(impact_path(tenant, post_id), headers=headers).json()["visitors"] == 2
        mentions = client.get(f"/api/v1/sites/{tenant.public_id}/mentions", headers=headers)
        assert mentions.json()["mentions"][0]["annotation"]["id"] == post_id
        listed = client.get(f"/api/v1/sites/{tenant.public_id}/annotations", headers=headers)
        assert [a["id"] for a in listed.json()["annotations"]] == [post_id]


def test_the_share_link_cannot_write_annotations(client, tenant, post_id, share_token):
    headers = {"X-Postmetric-Share": share_token}
    path = f"/api/v1/sites/{tenant.public_id}/annotations"
    body = {"time": "2026-03-10T08:00:00Z", "text": "From a share link"}
    assert client.post(path, json=body, headers=headers).status_code == 401
    assert client.put(f"{path}/{post_id}", json=body, headers=headers).status_code == 401
    assert client.delete(f"{path}/{post_id}", headers=headers).status_code == 401


def test_a_share_link_of_one_site_reads_nothing_of_another(client, tenant, post_id, settings):
    other = create_tenant(settings, email="other@example.org", domain="other.example.org")
    other_post = add_annotation(client, other.site_id, "x", POST_TIME, "The other site's post")
    response = client.put(f"/api/v1/sites/{other.public_id}/sharing", json={"enabled": True},
                          headers=bearer(other.token))
    other_share = {"X-Postmetric-Share": response.json()["token"]}
    for path in (impact_path(tenant, post_id), f"/api/v1/sites/{tenant.public_id}/mentions",
                 f"/api/v1/sites/{tenant.public_id}/annotations"):
        response = client.get(path, headers=other_share)
        assert response.status_code == 404, (path, response.text)
    # Through its own site's path, another site's annotation is as unknown as a missing one.
    response = client.get(impact_path(other, post_id), headers=other_share)
    assert response.status_code == 404 and "annotation" in response.text
    assert client.get(impact_path(other, other_post), headers=other_share).json()["visitors"] == 0


def test_a_site_key_is_turned_away(client, tenant, post_id):
    for path in (impact_path(tenant, post_id), f"/api/v1/sites/{tenant.public_id}/mentions"):
        response = client.get(path, headers=bearer(tenant.key))
        assert response.status_code == 403, response.text


@pytest.mark.parametrize("annotation_id", ["999999", "abc", "-1", "1" * 30, "1.5"])
def test_an_unknown_annotation_is_a_404(client, tenant, annotation_id):
    response = client.get(impact_path(tenant, annotation_id), headers=bearer(tenant.token))
    assert response.status_code == 404, response.text
    assert response.json()["error"].startswith("annotation")


@pytest.mark.parametrize(("params", "error"), [
    ({"limit": "0"}, "limit: must be a whole number from 1 to 100"),
    ({"limit": "101"}, "limit: must be a whole number from 1 to 100"),
    ({"limit": "ten"}, "limit: must be a whole number"),
    ({"from": "yesterday"}, "from: must be an ISO 8601 date and time"),
    ({"from": "2026-03-10T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "to: must be after from"),
])
def test_bad_mentions_parameters_are_a_400_naming_them(client, tenant, params, error):
    response = client.get(f"/api/v1/sites/{tenant.public_id}/mentions", params=params, headers=bearer(tenant.token))
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(error)
