"""The funnels API through the real app: definitions under /api/v1/sites/{id}/funnels, and
GET /api/v1/funnels/{funnel_id}/results over events sent to the ingestion API.

The site (example.com) is in Europe/Berlin (UTC+1 in March); the clock stands at 11 March 2026 12:00 UTC.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from stats_api_support import (  # noqa: F401 - clock, owner: fixtures
    NOW,
    bearer,
    clock,
    create_tenant,
    member_token,
    owner,
    pageview,
    send,
)

SIGNUP_FUNNEL = {"name": "Signup", "steps": [{"type": "page", "match": "/pricing", "label": "Pricing"},
                                             {"type": "goal", "match": "signup"}]}


def funnels_path(site) -> str:
    return f"/api/v1/sites/{site.public_id}/funnels"


def create(client, site, token, body=None) -> dict:
    response = client.post(funnels_path(site), json=body or SIGNUP_FUNNEL, headers=bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


def results(client, funnel_id, token, **params):
    return client.get(f"/api/v1/funnels/{funnel_id}/results", params=params, headers=bearer(token))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)



def test_funnels_are_created_listed_read_replaced_and_deleted(client, site, owner):
    funnel = create(client, site, owner.token)
    assert funnel == {
        "id": funnel["id"], "site_id": site.public_id, "name": "Signup",
        "steps": [{"type": "page", "match": "/pricing", "label": "Pricing"},
                  {"type": "goal", "match": "signup", "label": None}],
        "created_at": funnel["created_at"], "updated_at": funnel["updated_at"],
    }
    assert funnel["created_at"].endswith("Z") and funnel["updated_at"] >= funnel["created_at"]
    blog = create(client, site, owner.token, {"name": "Blog", "steps": [
        {"type": "page", "match": "/blog/*"}, {"type": "page", "match": "/pricing"}, {"type": "goal", "match": "buy"}]})
    listed = client.get(funnels_path(site), headers=bearer(owner.token))
    assert listed.status_code == 200 and listed.json() == {"funnels": [funnel, blog]}
    assert client.get(f"{funnels_path(site)}/{funnel['id']}", headers=bearer(owner.token)).json() == funnel

    replaced = client.put(f"{funnels_path(site)}/{funnel['id']}", headers=bearer(owner.token), json={
        "name": " Trial ", "steps": [{"type": "goal", "match": "trial:start", "label": ""},
                                     {"type": "goal", "match": "signup", "label": "Paid"}]})
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["name"], replaced.json()["steps"]) == (
        "Trial", [{"type": "goal", "match": "trial:start", "label": None},
                  {"type": "goal", "match": "signup", "label": "Paid"}])
    assert replaced.json()["created_at"] == funnel["created_at"]

    assert client.delete(f"{funnels_path(site)}/{funnel['id']}", headers=bearer(owner.token)).status_code == 204
    assert client.get(f"{funnels_path(site)}/{funnel['id']}", headers=bearer(owner.token)).status_code == 404
    assert client.get(funnels_path(site), headers=bearer(owner.token)).json() == {"funnels": [blog]}


def _steps(count: int) -> list[dict]:
    return [{"type": "page", "match": f"/p{i}"} for i in range(count)]


@pytest.mark.parametrize(("body", "error"), [
    ({"steps": _steps(2)}, "name: is required"),
    ({"name": "  ", "steps": _steps(2)}, "name: is required"),
    ({"name": "x" * 121, "steps": _steps(2)}, "name: is longer than 120 characters"),
    ({"name": "F"}, "steps: is required"),
    ({"name": "F", "steps": _steps(1)}, "steps: a funnel has 2 to 8 steps, not 1"),
    ({"name": "F", "steps": _steps(9)}, "steps: a funnel has 2 to 8 steps, not 9"),
    ({"name": "F", "steps": [{"type": "click", "match": "/a"}, _steps(1)[0]]}, "steps[0].type: must be \"page\""),
    ({"name": "F", "steps": [_steps(1)[0], {"type": "page", "match": " "}]}, "steps[1].match: is required"),
    ({"name": "F", "steps": [_steps(1)[0], {"type": "page"}]}, "steps[1].match: is required"),
    ({"name": "F", "steps": [_steps(1)[0], {"type": "page", "match": "/" + "a" * 2048}]},
     "steps[1].match: is longer than 2048 characters"),
    ({"name": "F", "steps": [_steps(1)[0], {"type": "page", "match": "/" + "*a" * 17}]},
     "steps[1].match: '/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a' has more than 16 '*' wildcards"),
    ({"name": "F", "steps": [_steps(1)[0], {"type": "page", "match": "pricing"}]},
     "steps[1].match: 'pricing' must start with '/'"),
    ({"name": "F", "steps": [_steps(1)[0], {"type": "goal", "match": "Sign Up"}]},
     "steps[1].match: 'Sign Up' is not a goal name"),
    ({"name": "F", "steps": [_steps(1)[0], {"type": "goal", "match": "x" * 65}]}, "steps[1].match:"),
    ({"name": "F", "steps": [_steps(1)[0], {"type": "goal", "match": "buy", "label": 3}]},
     "steps[1].label: must be null or 1 to 120 characters"),
    ({"name": "F", "steps": [_steps(1)[0], {"type": "goal", "match": "buy", "goal": "x"}]},
     "steps[1].goal: is not a step field"),
    ({"name": "F", "steps": ["/pricing", "/thanks"]}, "steps[0]: must be an object"),
    ({"name": "F", "steps": _steps(2), "order": "strict"}, "order: is not a funnel field"),
])
def test_a_bad_definition_is_a_400_naming_the_field(client, site, owner, body, error):
    response = client.post(funnels_path(site), json=body, headers=bearer(owner.token))
    assert response.status_code == 400 and response.json()["error"].startswith(error), response.text
    funnel = create(client, site, owner.token)
    response = client.put(f"{funnels_path(site)}/{funnel['id']}", json=body, headers=bearer(owner.token))
    assert response.status_code == 400 and response.json()["error"].startswith(error), response.text
    assert client.get(funnels_path(site), headers=bearer(owner.token)).json() == {"funnels": [funnel]}


def test_a_viewer_reads_funnels_and_results_but_cannot_change_them(client, site, owner):
    funnel = create(client, site, owner.token)
    viewer = member_token(client, site, "vic@example.com", "viewer", now=NOW)
    admin = member_token(client, site, "adam@example.com", "admin", now=NOW)
    assert client.get(funnels_path(site), headers=bearer(viewer)).json() == {"funnels": [funnel]}
    assert results(client, funnel["id"], viewer).status_code == 200
    response = client.post(funnels_path(site), json=SIGNUP_FUNNEL, headers=bearer(viewer))
    assert (response.status_code, response.json()) == (403, {"error": "role: viewers cannot change funnels"})
    path = f"{funnels_path(site)}/{funnel['id']}"
    assert client.put(path, json=SIGNUP_FUNNEL, headers=bearer(viewer)).status_code == 403
    assert client.delete(path, headers=bearer(viewer)).status_code == 403
    assert create(client, site, admin)["name"] == "Signup"
    assert client.delete(path, headers=bearer(admin)).status_code == 204


def test_another_sites_funnel_or_an_unknown_one_is_404(client, site, owner, settings):
    stranger = create_tenant(settings, email="eve@example.net", domain="other.example.net")
    other_site = type(site)(stranger.site_id, stranger.public_id, stranger.key)
    theirs = create(client, other_site, stranger.token)
    mine = create(client, site, owner.token)
    for funnel_id in (theirs["id"], 999, "x"):
        path = f"{funnels_path(site)}/{funnel_id}"
        assert client.get(path, headers=bearer(owner.token)).status_code == 404
        assert client.put(path, json=SIGNUP_FUNNEL, headers=bearer(owner.token)).status_code == 404
        assert client.delete(path, headers=bearer(owner.token)).status_code == 404
        response = results(client, funnel_id, owner.token)
        assert response.status_code == 404 and response.json()["error"].startswith("funnel_id:"), response.text
    # The other site's own key and its own owner see theirs; my site key does not see it either.
    assert results(client, theirs["id"], stranger.key).status_code == 200
    assert results(client, theirs["id"], site.key).status_code == 404
    assert results(client, mine["id"], stranger.token).status_code == 404
    assert client.get(funnels_path(site), headers=bearer(stranger.token)).status_code == 404


def test_results_count_the_steps_of_stored_events(client, site, owner):
    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    send(client, owner, [
        # a: from Google to /pricing, signs up a minute later (10 March, in both ranges below)
        pageview(owner, "/pricing", visitor=a, at=at("2026-03-10 09:00"), referrer="https://www.google.com/"),
        pageview(owner, "/pricing", visitor=a, at=at("2026-03-10 09:01"), type="goal", name="signup"),
        # b: direct to /pricing, no signup
        pageview(owner, "/pricing", visitor=b, at=at("2026-03-10 10:00")),
        # c: signs up first, sees /pricing afterwards (out of order), on 9 March
        pageview(owner, "/", visitor=c, at=at("2026-03-09 08:00"), type="goal", name="signup"),
        pageview(owner, "/pricing", visitor=c, at=at("2026-03-09 08:05")),
    ])
    funnel = create(client, site, owner.token)

    response = results(client, funnel["id"], owner.token, date_range="7d", breakdown="visit:source")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["funnel"] == funnel
    assert body["date_range"] == {"start": "2026-03-05T00:00:00+01:00", "end": "2026-03-12T00:00:00+01:00"}
    assert body["steps"] == [
        {"index": 1, "type": "page", "match": "/pricing", "label": "Pricing", "visitors": 3,
         "conversion_from_previous": 100.0, "conversion_from_first": 100.0, "drop_off": 0,
         "median_seconds_to_next": 60.0},
        {"index": 2, "type": "goal", "match": "signup", "label": None, "visitors": 1,
         "conversion_from_previous": 33.33, "conversion_from_first": 33.33, "drop_off": 2,
         "median_seconds_to_next": None},
    ]
    assert [(group["value"], [step["visitors"] for step in group["steps"]]) for group in body["breakdown"]] == [
        ("", [2, 0]), ("Google", [1, 1])]

    one_day = results(client, funnel["id"], owner.token, date_range="2026-03-10,2026-03-10", timezone="UTC").json()
    assert one_day["date_range"] == {"start": "2026-03-10T00:00:00+00:00", "end": "2026-03-11T00:00:00+00:00"}
    assert [step["visitors"] for step in one_day["steps"]] == [2, 1] and "breakdown" not in one_day
    limited = results(client, funnel["id"], owner.token, date_range="7d", breakdown="visit:source", limit="1").json()
    assert [group["value"] for group in limited["breakdown"]] == [""]
    # All time begins on the day of the site's first event (9 March, in Berlin).
    all_time = results(client, funnel["id"], owner.token, date_range="all").json()
    assert all_time["date_range"] == {"start": "2026-03-09T00:00:00+01:00", "end": "2026-03-12T00:00:00+01:00"}
    assert [step["visitors"] for step in all_time["steps"]] == [3, 1]


def test_results_default_to_the_last_30_days_in_the_sites_time_zone(client, site, owner):
    funnel = create(client, site, owner.token)
    body = results(client, funnel["id"], owner.token).json()
    assert body["date_range"] == {"start": "2026-02-10T00:00:00+01:00", "end": "2026-03-12T00:00:00+01:00"}
    assert [step["visitors"] for step in body["steps"]] == [0, 0]


@pytest.mark.parametrize(("params", "error"), [
    ({"date_range": "3d"}, "date_range: unknown range '3d'"),
    ({"date_range": "2026-03-10,tomorrow"}, "date_range: 'tomorrow' is not an ISO date"),
    ({"date_range": "2026-03-10,2026-03-01"}, "date_range: start must be before end"),
    ({"breakdown": "event:page"}, "breakdown: 'event:page' is not a visit dimension"),
    ({"breakdown": "visit:planet"}, "breakdown: 'visit:planet' is not a visit dimension"),
    ({"timezone": "Mars/Olympus"}, "timezone: 'Mars/Olympus' is not a known IANA time zone"),
    ({"limit": "0"}, "limit: must be an integer between 1 and 1000"),
    ({"limit": "many"}, "limit: must be an integer between 1 and 1000"),
])
def test_a_bad_results_parameter_is_a_400_naming_it(client, site, owner, params, error):
    funnel = create(client, site, owner.token)
    response = results(client, funnel["id"], owner.token, **params)
    assert response.status_code == 400 and response.json()["error"].startswith(error), response.text


def test_a_site_key_reads_funnels_and_results_but_cannot_change_them(client, site, owner):
    funnel = create(client, site, owner.token)
    assert client.get(funnels_path(site), headers=bearer(site.key)).json() == {"funnels": [funnel]}
    assert client.get(f"{funnels_path(site)}/{funnel['id']}", headers=bearer(site.key)).json() == funnel
    response = results(client, funnel["id"], site.key, date_range="30d")
    assert response.status_code == 200 and len(response.json()["steps"]) == 2
    response = client.post(funnels_path(site), json=SIGNUP_FUNNEL, headers=bearer(site.key))
    assert response.status_code == 403 and response.json()["error"].startswith("credential:")
    assert client.delete(f"{funnels_path(site)}/{funnel['id']}", headers=bearer(site.key)).status_code == 403
    assert client.get(funnels_path(site)).status_code == 401
    assert client.get(f"/api/v1/funnels/{funnel['id']}/results").status_code == 401


def test_a_share_link_reads_its_sites_funnels_and_results(client, site, owner):
    funnel = create(client, site, owner.token)
    shared = client.put(f"/api/v1/sites/{site.public_id}/sharing", json={"enabled": True},
                        headers=bearer(owner.token)).json()
    header = {"X-Postmetric-Share": shared["token"]}
    assert client.get(funnels_path(site), headers=header).json() == {"funnels": [funnel]}
    assert client.get(f"/api/v1/funnels/{funnel['id']}/results", headers=header).status_code == 200
    assert client.post(funnels_path(site), json=SIGNUP_FUNNEL, headers=header).status_code == 401


def test_the_dashboard_session_needs_its_csrf_header_to_change_funnels(client, site):
    login = client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "correct horse"})
    csrf = login.json()["csrf_token"]
    assert client.post(funnels_path(site), json=SIGNUP_FUNNEL).status_code == 403
    response = client.post(funnels_path(site), json=SIGNUP_FUNNEL, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201
    assert [f["name"] for f in client.get(funnels_path(site)).json()["funnels"]] == ["Signup"]
    assert client.get(f"/api/v1/funnels/{response.json()['id']}/results").status_code == 200
