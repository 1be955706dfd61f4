"""GET/POST /api/v1/sites/{id}/annotations and PUT/DELETE …/annotations/{annotation_id}: dated notes.

Members read, owners and admins write (as for goals); another site's annotation is 404; every
mistake is a 400 naming its field.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from postmetric.store.metadata import Annotation

from stats_api_support import bearer, create_tenant, member_token

LAUNCH = {"time": "2026-12-01T10:30:00+01:00", "text": "Launched on Product Hunt",
          "url": "https://www.producthunt.com/posts/postmetric"}


@pytest.fixture
def tenant(client, settings, site):
    return create_tenant(settings, email="owner@example.com", domain="example.com")



def path(site, annotation_id: object | None = None) -> str:
    base = f"/api/v1/sites/{site.public_id}/annotations"
    return base if annotation_id is None else f"{base}/{annotation_id}"


def post(client, site, token, body):
    return client.post(path(site), json=body, headers=bearer(token))


def listed(client, site, token, **params) -> list[dict]:
    response = client.get(path(site), params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["annotations"]


def test_a_note_is_written_listed_rewritten_and_deleted(client, site, tenant):
    response = post(client, site, tenant.token, LAUNCH)
    assert response.status_code == 201, response.text
    launch = response.json()
    assert launch == {"id": launch["id"], "kind": "note", "time": "2026-12-01T09:30:00Z",
                      "text": "Launched on Product Hunt", "url": LAUNCH["url"], "external_id": None,
                      "author": None, "details": None, "created_at": launch["created_at"], "updated_at": launch["updated_at"]}
    assert launch["created_at"].endswith("Z")
    release = post(client, site, tenant.token, {"time": "2026-12-03T12:00:00Z", "text": "v2.0", "kind": "note"}).json()
    assert release["url"] is None
    assert listed(client, site, tenant.token) == [release, launch]
    assert listed(client, site, tenant.token, **{"from": "2026-12-02T00:00:00Z"}) == [release]
    assert listed(client, site, tenant.token, to="2026-12-02T00:00:00Z") == [launch]
    assert listed(client, site, tenant.token, limit="1") == [release]

    response = client.put(path(site, launch["id"]), headers=bearer(tenant.token),
                          json={"time": "2026-12-01T08:00:00Z", "text": "Launched (HN too)"})
    assert response.status_code == 200, response.text
    assert {key: response.json()[key] for key in ("id", "time", "text", "url")} == {
        "id": launch["id"], "time": "2026-12-01T08:00:00Z", "text": "Launched (HN too)", "url": None}
    assert client.delete(path(site, release["id"]), headers=bearer(tenant.token)).status_code == 204
    assert [annotation["text"] for annotation in listed(client, site, tenant.token)] == ["Launched (HN too)"]


@pytest.mark.parametrize(("body", "error"), [
    ({}, "time: must be an ISO 8601 date and time"),
    ({"time": "2026-12-01T10:00:00", "text": "x"}, "time: must be an ISO 8601 date and time with its offset"),
    ({"time": 1733000000, "text": "x"}, "time: must be an ISO 8601 date and time"),
    ({"time": "1999-01-01T00:00:00Z", "text": "x"}, "time: must be from 2000 to 2099"),
    ({"time": "2026-12-01T00:00:00Z"}, "text: must be 1 to 500 characters"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x" * 501}, "text: must be 1 to 500 characters"),
    ({"time": "2026-12-01T00:00:00Z", "text": 5}, "text: must be 1 to 500 characters"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x", "url": "ftp://example.com/"}, "url: must be an http or https URL"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x", "url": ["https://example.com/"]}, "url: must be an http"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x", "kind": "x"}, "kind: 'x' annotations come from their integration"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x", "kind": "memo"}, "kind: must be one of note, x, github"),
    ({"time": "2026-12-01T00:00:00Z", "text": "x", "colour": "red"}, "colour: is not an annotation field"),
])
def test_a_bad_body_is_a_400_naming_the_field(client, site, tenant, body, error):
    response = post(client, site, tenant.token, body)
    assert response.status_code == 400 and response.json()["error"].startswith(error), response.text
    assert listed(client, site, tenant.token) == []


def test_a_body_that_is_not_a_json_object_is_a_400(client, site, tenant):
    for content in (b"[]", b"{", b""):
        response = client.post(path(site), content=content, headers=bearer(tenant.token))
        assert response.status_code == 400 and response.json()["error"].startswith("body:"), response.text


@pytest.mark.parametrize(("params", "error"), [
    ({"from": "2026-12-01"}, "from: must be an ISO 8601 date and time with its offset"),
    ({"to": "tomorrow"}, "to: must be an ISO 8601 date and time"),
    ({"from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z"}, "to: must be after from"),
    ({"limit": "0"}, "limit: must be a whole number from 1 to 1000"),
    ({"limit": "many"}, "limit: must be a whole number from 1 to 1000"),
])
def test_a_bad_listing_query_is_a_400_naming_the_parameter(client, site, tenant, params, error):
    response = client.get(path(site), params=params, headers=bearer(tenant.token))
    assert response.status_code == 400 and response.json()["error"].startswith(error), response.text


def test_another_sites_annotation_or_an_unknown_one_is_404(client, site, tenant, settings):
    stranger = create_tenant(settings, email="eve@example.net", domain="other.example.net")
    other_site = type(site)(stranger.site_id, stranger.public_id, stranger.key)
    theirs = post(client, other_site, stranger.token, LAUNCH).json()
    for annotation_id in (theirs["id"], 999, "x", "1" * 40):
        response = client.delete(path(site, annotation_id), headers=bearer(tenant.token))
        assert response.status_code == 404 and "annotation" in response.json()["error"], response.text
        response = client.put(path(site, annotation_id), json=LAUNCH, headers=bearer(tenant.token))
        assert response.status_code == 404, response.text
    assert listed(client, other_site, stranger.token) == [theirs]
    # A site the caller is not a member of is as unknown as a missing one.
    assert client.get(path(site), headers=bearer(stranger.token)).status_code == 404
    assert post(client, site, stranger.token, LAUNCH).status_code == 404
    assert client.delete(path(site, theirs["id"]), headers=bearer(stranger.token)).status_code == 404


def test_a_viewer_reads_but_cannot_change_and_an_admin_can(client, site, tenant):
    note = post(client, site, tenant.token, LAUNCH).json()
    viewer = member_token(client, site, "vic@example.com", "viewer")
    admin = member_token(client, site, "adam@example.com", "admin")
    assert listed(client, site, viewer) == [note]
    response = post(client, site, viewer, LAUNCH)
    assert (response.status_code, response.json()) == (403, {"error": "role: viewers cannot change annotations"})
    assert client.put(path(site, note["id"]), json=LAUNCH, headers=bearer(viewer)).status_code == 403
    assert client.delete(path(site, note["id"]), headers=bearer(viewer)).status_code == 403
    assert post(client, site, admin, LAUNCH).status_code == 201
    assert client.put(path(site, note["id"]), json=LAUNCH, headers=bearer(admin)).status_code == 200
    assert client.delete(path(site, note["id"]), headers=bearer(admin)).status_code == 204
    assert len(listed(client, site, viewer)) == 1


def test_site_keys_and_anonymous_callers_are_refused(client, site):
    assert client.get(path(site)).status_code == 401
    response = client.get(path(site), headers=bearer(site.key))
    assert response.status_code == 403 and response.json()["error"].startswith("credential:")
    assert client.post(path(site), json=LAUNCH, headers=bearer(site.key)).status_code == 403


def test_the_dashboard_session_needs_its_csrf_header_to_write_a_note(client, site, tenant):
    login = client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "correct horse"})
    csrf = login.json()["csrf_token"]
    assert client.post(path(site), json=LAUNCH).status_code == 403
    response = client.post(path(site), json=LAUNCH, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    assert [note["text"] for note in client.get(path(site)).json()["annotations"]] == [LAUNCH["text"]]


def test_deleting_the_site_deletes_its_annotations(client, site, tenant, settings):
    other = create_tenant(settings, email="bob@example.net", domain="kept.example.net")
    other_site = type(site)(other.site_id, other.public_id, other.key)
    post(client, site, tenant.token, LAUNCH)
    kept = post(client, other_site, other.token, LAUNCH).json()
    response = client.delete(f"/api/v1/sites/{tenant.public_id}", headers=bearer(tenant.token))
    assert response.status_code == 204, response.text
    with client.app.state.services.metadata() as session:
        rows = session.execute(select(Annotation.site_id, Annotation.id)).all()
    assert rows == [(other.site_id, kept["id"])]
