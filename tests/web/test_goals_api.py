"""GET/POST /api/v1/sites/{id}/goals and PUT/DELETE …/goals/{goal_id}: a site's goal definitions.

Members read, owners and admins change; names and patterns are checked on the way in.
"""

from __future__ import annotations

import pytest

from stats_api_support import NOW, bearer, clock, create_tenant, member_token, pageview, send  # noqa: F401 - clock: a fixture

GOALS_PANEL_QUERY = {"dimensions": ["event:goal"], "metrics": ["visitors", "conversions", "conversion_rate", "revenue"]}


@pytest.fixture
def tenant(client, settings, site):
    return create_tenant(settings, email="owner@example.com", domain="example.com")



def goals_path(site) -> str:
    return f"/api/v1/sites/{site.public_id}/goals"


def post(client, site, token, body):
    return client.post(goals_path(site), json=body, headers=bearer(token))


def listed(client, site, token) -> list[dict]:
    response = client.get(goals_path(site), headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()["goals"]


def test_event_and_page_goals_are_created_listed_replaced_and_deleted(client, site, tenant):
    signup = post(client, site, tenant.token, {"kind": "event", "event_name": "signup", "display_name": "Sign up"})
    assert signup.status_code == 201
    assert signup.json() == {"id": signup.json()["id"], "kind": "event", "event_name": "signup", "page_path": None,
                             "display_name": "Sign up"}
    thanks = post(client, site, tenant.token, {"kind": "page", "page_path": "/thank-you"}).json()
    assert thanks["display_name"] == "Visit /thank-you" and thanks["event_name"] is None
    trial = post(client, site, tenant.token, {"kind": "event", "event_name": "trial:start"}).json()
    assert trial["display_name"] == "trial:start"
    assert listed(client, site, tenant.token) == [signup.json(), thanks, trial]

    response = client.put(f"{goals_path(site)}/{thanks['id']}", headers=bearer(tenant.token),
                          json={"kind": "page", "page_path": "/thanks/*", "display_name": "Thanked"})
    assert response.status_code == 200
    assert response.json() == {"id": thanks["id"], "kind": "page", "event_name": None, "page_path": "/thanks/*",
                               "display_name": "Thanked"}
    response = client.delete(f"{goals_path(site)}/{signup.json()['id']}", headers=bearer(tenant.token))
    assert response.status_code == 204
    assert [goal["display_name"] for goal in listed(client, site, tenant.token)] == ["Thanked", "trial:start"]


@pytest.mark.parametrize(("body", "error"), [
    ({}, "kind: must be \"event\""),
    ({"kind": "click", "event_name": "signup"}, "kind: must be \"event\""),
    ({"kind": "event"}, "event_name: None is not a goal name"),
    ({"kind": "event", "event_name": "Sign Up"}, "event_name: 'Sign Up' is not a goal name"),
    ({"kind": "event", "event_name": "x" * 65}, "event_name:"),
    ({"kind": "event", "event_name": "signup\n"}, "event_name: 'signup\\n' is not a goal name"),
    ({"kind": "event", "event_name": "signup", "page_path": "/a"}, "page_path: only page goals have one"),
    ({"kind": "page"}, "page_path: None must start with '/'"),
    ({"kind": "page", "page_path": "thank-you"}, "page_path: 'thank-you' must start with '/'"),
    ({"kind": "page", "page_path": "/" + "a" * 2048}, "page_path: is longer than 2048 characters"),
    ({"kind": "page", "page_path": "/" + "*a" * 17, "display_name": "Stars"},
     "page_path: '/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a' has more than 16 '*' wildcards"),
    ({"kind": "page", "page_path": "/" + "a" * 200}, "display_name: is needed for so long a path"),
    ({"kind": "page", "page_path": "/a", "event_name": "signup"}, "event_name: only event goals have one"),
    ({"kind": "event", "event_name": "signup", "display_name": "  "}, "display_name: must be 1 to 120 characters"),
    ({"kind": "event", "event_name": "signup", "display_name": 7}, "display_name: must be 1 to 120 characters"),
    ({"kind": "event", "event_name": "signup", "goal": "x"}, "goal: is not a goal field"),
])
def test_a_bad_body_is_a_400_naming_the_field(client, site, tenant, body, error):
    response = post(client, site, tenant.token, body)
    assert response.status_code == 400 and response.json()["error"].startswith(error), response.text
    assert listed(client, site, tenant.token) == []
    response = client.post(goals_path(site), content=b"[]", headers=bearer(tenant.token))
    assert (response.status_code, response.json()) == (400, {"error": "body: must be a JSON object"})


def test_a_taken_display_name_event_name_or_page_path_is_409(client, site, tenant):
    post(client, site, tenant.token, {"kind": "event", "event_name": "signup", "display_name": "Sign up"})
    thanks = post(client, site, tenant.token, {"kind": "page", "page_path": "/thanks"}).json()
    for body, taken in [
        ({"kind": "page", "page_path": "/welcome", "display_name": "Sign up"}, "display_name 'Sign up'"),
        ({"kind": "event", "event_name": "signup", "display_name": "Joined"}, "event_name 'signup'"),
        ({"kind": "page", "page_path": "/thanks", "display_name": "Thanked"}, "page_path '/thanks'"),
    ]:
        response = post(client, site, tenant.token, body)
        assert (response.status_code, response.json()) == (409, {"error": f"a goal with {taken} already exists"})
    # A goal keeps its own names when replaced.
    response = client.put(f"{goals_path(site)}/{thanks['id']}", headers=bearer(tenant.token),
                          json={"kind": "page", "page_path": "/thanks"})
    assert response.status_code == 200
    response = client.put(f"{goals_path(site)}/{thanks['id']}", headers=bearer(tenant.token),
                          json={"kind": "event", "event_name": "signup"})
    assert response.status_code == 409


def test_another_sites_goal_or_an_unknown_one_is_404(client, site, tenant, settings):
    stranger = create_tenant(settings, email="eve@example.net", domain="other.example.net")
    other_site = type(site)(stranger.site_id, stranger.public_id, stranger.key)
    theirs = post(client, other_site, stranger.token, {"kind": "event", "event_name": "signup"}).json()
    for goal_id in (theirs["id"], 999, "x"):
        path = f"{goals_path(site)}/{goal_id}"
        assert client.delete(path, headers=bearer(tenant.token)).status_code == 404
        response = client.put(path, json={"kind": "event", "event_name": "buy"}, headers=bearer(tenant.token))
        assert response.status_code == 404
    assert listed(client, other_site, stranger.token) == [theirs]
    # And a site the caller is not a member of is as unknown as a missing one.
    assert client.get(goals_path(site), headers=bearer(stranger.token)).status_code == 404
    assert post(client, site, stranger.token, {"kind": "event", "event_name": "buy"}).status_code == 404


def test_a_viewer_reads_but_cannot_change_and_an_admin_can(client, site, tenant):
    goal = post(client, site, tenant.token, {"kind": "event", "event_name": "signup"}).json()
    viewer = member_token(client, site, "vic@example.com", "viewer")
    admin = member_token(client, site, "adam@example.com", "admin")
    assert listed(client, site, viewer) == [goal]
    response = post(client, site, viewer, {"kind": "event", "event_name": "buy"})
    assert (response.status_code, response.json()) == (403, {"error": "role: viewers cannot change goals"})
    path = f"{goals_path(site)}/{goal['id']}"
    assert client.put(path, json={"kind": "event", "event_name": "buy"}, headers=bearer(viewer)).status_code == 403
    assert client.delete(path, headers=bearer(viewer)).status_code == 403
    assert post(client, site, admin, {"kind": "event", "event_name": "buy"}).status_code == 201
    assert client.delete(path, headers=bearer(admin)).status_code == 204


def test_site_keys_and_anonymous_callers_are_refused(client, site):
    assert client.get(goals_path(site)).status_code == 401
    response = client.get(goals_path(site), headers=bearer(site.key))
    assert response.status_code == 403 and response.json()["error"].startswith("credential:")


def test_the_dashboard_session_needs_its_csrf_header_to_add_a_goal(client, site):
    login = client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "correct horse"})
    csrf = login.json()["csrf_token"]
    body = {"kind": "page", "page_path": "/pricing"}
    assert client.post(goals_path(site), json=body).status_code == 403
    response = client.post(goals_path(site), json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201 and response.json()["display_name"] == "Visit /pricing"
    assert [goal["page_path"] for goal in client.get(goals_path(site)).json()["goals"]] == ["/pricing"]


@pytest.fixture
def converted(client, site, tenant):
    """Goals defined through the API; A sees the pricing table (a data-postmetric-scroll visibility
    goal, sent as a goal event like any other), signs up and pays $49; B reaches /thank-you/pro;
    C only visits."""
    for body in ({"kind": "event", "event_name": "signup", "display_name": "Sign up"},
                 {"kind": "page", "page_path": "/thank-you*", "display_name": "Thanked"}):
        assert post(client, site, tenant.token, body).status_code == 201
    a, b, c = (f"00000000-0000-4000-8000-00000000000{x}" for x in "abc")
    at = NOW.replace(hour=9)
    send(client, tenant, [
        pageview(tenant, "/pricing", visitor=a, at=at),
        pageview(tenant, "/pricing", visitor=a, at=at, type="goal", name="pricing-table-seen"),
        pageview(tenant, "/pricing", visitor=a, at=at, type="goal", name="signup"),
        pageview(tenant, "/thank-you/pro", visitor=b, at=at),
        pageview(tenant, "/", visitor=c, at=at),
    ])
    paid = client.post("/api/v1/payments", headers=bearer(tenant.key), json={
        "transaction_id": "pi_1", "amount": 49, "currency": "USD", "visitor_id": a,
        "timestamp": at.replace(minute=30).isoformat()})
    assert paid.status_code == 201, paid.text
    return tenant


def test_the_goals_panel_query_reads_the_definitions_and_lists_visibility_goals(client, converted):
    response = client.post("/api/v1/query", headers=bearer(converted.key),
                           json={"site_id": converted.public_id, "date_range": "day", **GOALS_PANEL_QUERY})
    assert response.status_code == 200, response.text
    # Each goal: 1 converter of 3 visitors; A paid $49 after seeing the table and signing up.
    assert response.json()["results"] == [
        {"dimensions": ["Sign up"], "metrics": [1, 1, 33.33, 49.0]},
        {"dimensions": ["Thanked"], "metrics": [1, 1, 33.33, 0.0]},
        {"dimensions": ["pricing-table-seen"], "metrics": [1, 1, 33.33, 49.0]},
    ]


def test_the_goals_report_and_a_goal_filter_use_the_definitions(client, converted):
    day = {"startAt": NOW.date().isoformat(), "endAt": NOW.date().isoformat()}
    response = client.get("/api/v1/analytics/goals", params=day, headers=bearer(converted.key))
    assert response.status_code == 200, response.text
    assert response.json()["data"] == [
        {"goal": "Sign up", "completions": 1, "visitors": 1, "conversion_rate": 33.33, "revenue": 49.0},
        {"goal": "Thanked", "completions": 1, "visitors": 1, "conversion_rate": 33.33, "revenue": 0.0},
        {"goal": "pricing-table-seen", "completions": 1, "visitors": 1, "conversion_rate": 33.33, "revenue": 49.0},
    ]
    overview = client.get("/api/v1/analytics/overview", params=day | {"filter_goal": "is:Thanked"},
                          headers=bearer(converted.key))
    assert overview.json()["data"][0]["conversion_rate"] == 33.33  # B, of A, B and C
