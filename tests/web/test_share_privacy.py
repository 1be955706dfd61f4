"""A share link is a public dashboard: it shows aggregates, never a person, and one client cannot lock it.

1. Every route a share link may call (`api_endpoint(share=True)`, found by walking the app's routes,
   so a new one joins this test or fails it) is called as a share viewer over a site with identified
   visitors and their payments; no answer holds a visitor id, an email, a name, a user or customer id,
   or any other field an identify call sent.
2. Guessing a share password from one address exhausts that address's budget only: other viewers
   still unlock with the right password.
"""

from __future__ import annotations

import uuid

import orjson
import pytest
from starlette.testclient import TestClient

from postmetric.stats import registry
from postmetric.web.auth import accepts_share

from stats_api_support import bearer, create_tenant, pageview, read_frame, send

PASSWORD = "open sesame!"
VISITORS = [str(uuid.uuid4()) for _ in range(3)]
PEOPLE = [  # what identify calls and payments say about each visitor
    {"user_id": "usr_7Hq2Lk9", "email": "ada.lovelace@example.org", "name": "Ada Lovelace",
     "company": "Analytical Ltd"},
    {"user_id": "usr_3Mx8Pz1", "email": "grace.hopper@example.net", "name": "Grace Hopper", "company": "Cobol Corp"},
]
CUSTOMER_IDS = ["cus_Q4wLk2Zr8", "cus_B7nTy5Vx1"]
PERSONAL = [*VISITORS, *CUSTOMER_IDS, *(value for person in PEOPLE for value in person.values())]
PROP_KEYS = ["user_id", "email", "name", "company", "customer_id", "url", "plan"]


@pytest.fixture
def tenant(client, settings, site, clock):
    tenant = create_tenant(settings, email="owner@example.com", domain="example.com")
    send(client, tenant, [pageview(tenant, "/pricing", visitor=visitor) for visitor in VISITORS])
    send(client, tenant, [pageview(tenant, "/pricing", visitor=VISITORS[0], type="outbound",
                                   props={"url": "https://docs.example.org/start"})])
    for visitor, person, customer_id in zip(VISITORS, PEOPLE, CUSTOMER_IDS):
        response = client.post("/api/v1/identify", json={"visitor_id": visitor, **person}, headers=bearer(tenant.key))
        assert response.status_code == 202, response.text
        response = client.post("/api/v1/goals", json={"visitor_id": visitor, "name": "signup",
                                                      "props": {"plan": "pro", "email": person["email"]}},
                               headers=bearer(tenant.key))
        assert response.status_code == 202, response.text
        response = client.post("/api/v1/payments", headers=bearer(tenant.key), json={
            "transaction_id": f"pi_{customer_id}", "amount": 29.99, "currency": "usd", "datafast_visitor_id": visitor,
            "email": person["email"], "customer_id": customer_id, "name": person["name"]})
        assert response.status_code in (200, 201), response.text
    client.app.state.services.writer.flush()
    clock.advance(1)  # realtime counts up to now, exclusive
    return tenant


@pytest.fixture
def share_token(client, tenant) -> str:
    response = client.put(f"/api/v1/sites/{tenant.public_id}/sharing", json={"enabled": True},
                          headers=bearer(tenant.token))
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture
def funnel_id(client, tenant) -> int:
    response = client.post(f"/api/v1/sites/{tenant.public_id}/funnels", headers=bearer(tenant.token), json={
        "name": "Signup", "steps": [{"type": "page", "match": "/pricing"}, {"type": "goal", "match": "signup"}]})
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def annotation_id(client, tenant) -> int:
    response = client.post(f"/api/v1/sites/{tenant.public_id}/annotations", headers=bearer(tenant.token),
                           json={"time": "2026-03-11T09:00:00Z", "text": "Launched"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def queries(public_id: str) -> list[dict]:
    """Every dimension, and every property a person's data could sit in, as a dimension and as a filter."""
    base = {"site_id": public_id, "date_range": "day"}
    dimensions = [*registry.TIME_DIMENSIONS, *registry.EVENT_DIMENSIONS, *registry.VISIT_DIMENSIONS,
                  *(f"event:props:{key}" for key in PROP_KEYS)]
    asked = [base | {"metrics": ["visitors", "events", "revenue", "customers", "payments"], "dimensions": [name]}
             for name in dimensions if name not in ("time",)]
    asked += [base | {"metrics": ["visitors"], "filters": [["contains", f"event:props:{key}", ["@", "a", "_"]]],
                      "dimensions": [f"event:props:{key}"]} for key in PROP_KEYS]
    return asked


def share_requests(tenant, funnel_id: int, annotation_id: int) -> dict[str, list[tuple[str, str, dict | None]]]:
    """The requests a share viewer makes of each share route, by route path."""
    site_query = f"?site_id={tenant.public_id}"
    return {
        "/api/v1/query": [("POST", "/api/v1/query", body) for body in queries(tenant.public_id)],
        "/api/v1/realtime": [("GET", f"/api/v1/realtime{site_query}", None)],
        "/api/v1/realtime/stream": [("STREAM", f"/api/v1/realtime/stream{site_query}", None)],
        "/api/v1/sites/{id}/funnels": [("GET", f"/api/v1/sites/{tenant.public_id}/funnels", None)],
        "/api/v1/sites/{id}/funnels/{funnel_id}": [
            ("GET", f"/api/v1/sites/{tenant.public_id}/funnels/{funnel_id}", None)],
        "/api/v1/funnels/{funnel_id}/results": [("GET", f"/api/v1/funnels/{funnel_id}/results?date_range=day", None)],
        "/api/v1/sites/{id}/annotations": [("GET", f"/api/v1/sites/{tenant.public_id}/annotations", None)],
        "/api/v1/sites/{id}/annotations/{annotation_id}/impact": [
            ("GET", f"/api/v1/sites/{tenant.public_id}/annotations/{annotation_id}/impact", None)],
        "/api/v1/sites/{id}/mentions": [("GET", f"/api/v1/sites/{tenant.public_id}/mentions", None)],
    }


def share_routes(client) -> set[str]:
    app = client.app.app if hasattr(client.app, "app") else client.app
    return {route.path for route in app.routes if accepts_share(getattr(route, "endpoint", None))}


def answer(viewer: TestClient, method: str, path: str, body: dict | None, token: str) -> tuple[int, str]:
    headers = {"X-Postmetric-Share": token}
    if method == "STREAM":
        with viewer.stream("GET", path, headers=headers) as response:
            event, data = read_frame(response.iter_bytes(), bytearray())
            return response.status_code, orjson.dumps(data).decode()
    response = viewer.request(method, path, json=body, headers=headers)
    return response.status_code, response.text


def test_no_route_open_to_a_share_link_reveals_a_person(client, tenant, share_token, funnel_id, annotation_id):
    # The data is there: the site's own key sees the people (so the test can fail).
    owner_view = client.post("/api/v1/query", headers=bearer(tenant.key), json={
        "site_id": tenant.public_id, "date_range": "day", "metrics": ["visitors"], "dimensions": ["event:props:email"]})
    assert PEOPLE[0]["email"] in owner_view.text
    requests = share_requests(tenant, funnel_id, annotation_id)
    assert share_routes(client) == set(requests), "a share route without a request here: add it"
    viewer = TestClient(client.app, base_url="https://testserver")
    statuses = []
    for path, calls in requests.items():
        for method, url, body in calls:
            status, text = answer(viewer, method, url, body, share_token)
            assert status in (200, 400), (url, body, status, text)
            leaked = [value for value in PERSONAL if value in text]
            assert leaked == [], (url, body, leaked)
            statuses.append(status)
    assert statuses.count(200) > len(statuses) // 2  # real answers, not only refusals


def test_a_share_viewer_still_sees_the_aggregates(client, tenant, share_token):
    viewer = TestClient(client.app, base_url="https://testserver")
    headers = {"X-Postmetric-Share": share_token}
    realtime = viewer.get(f"/api/v1/realtime?site_id={tenant.public_id}", headers=headers).json()
    assert realtime["visitors"] == len(VISITORS) and realtime["pages"][0]["page"] == "/pricing"
    assert "recent_visitors" not in realtime
    own = client.get(f"/api/v1/realtime?site_id={tenant.public_id}", headers=bearer(tenant.key)).json()
    assert {row["visitor_id"] for row in own["recent_visitors"]} == set(VISITORS)  # members still see them
    outbound = viewer.post("/api/v1/query", headers=headers, json={
        "site_id": tenant.public_id, "date_range": "day", "metrics": ["events"], "dimensions": ["event:props:url"]})
    assert outbound.status_code == 200
    assert ["https://docs.example.org/start"] in [row["dimensions"] for row in outbound.json()["results"]]
    refused = viewer.post("/api/v1/query", headers=headers, json={
        "site_id": tenant.public_id, "date_range": "day", "metrics": ["events"],
        "filters": [["not", ["is", "event:props:plan", ["pro"]]]]})
    assert refused.status_code == 400 and refused.json()["error"].startswith("filters: event:props:plan ")


def at(client: TestClient, address: str) -> TestClient:
    """A browser whose connection comes from `address`."""
    return TestClient(client.app, base_url="https://testserver", client=(address, 50000))


def test_a_client_guessing_a_share_password_does_not_lock_other_viewers_out(client, tenant):
    sharing = f"/api/v1/sites/{tenant.public_id}/sharing"
    response = client.put(sharing, json={"enabled": True, "password": PASSWORD}, headers=bearer(tenant.token))
    token = response.json()["token"]
    unlock = f"/api/v1/share/{token}/unlock"
    attacker = at(client, "203.0.113.66")
    statuses = [attacker.post(unlock, json={"password": f"guess {n}"}).status_code for n in range(12)]
    assert statuses[0] == 401 and statuses[-1] == 429
    assert attacker.post(unlock, json={"password": PASSWORD}).status_code == 429  # its budget is spent
    for address in ("198.51.100.7", "2001:db8::7", "203.0.113.67"):
        assert at(client, address).post(unlock, json={"password": PASSWORD}).status_code == 204, address


def test_a_client_guessing_across_share_links_meets_its_own_cap(client, tenant, settings):
    other = create_tenant(settings, email="other@example.com", domain="other.example")
    links = []
    for owner in (tenant, other):
        response = client.put(f"/api/v1/sites/{owner.public_id}/sharing", json={"enabled": True, "password": PASSWORD},
                              headers=bearer(owner.token))
        links.append(f"/api/v1/share/{response.json()['token']}/unlock")
    attacker = at(client, "203.0.113.66")
    statuses = [attacker.post(links[n % 2], json={"password": f"guess {n}"}).status_code for n in range(12)]
    assert statuses[-1] == 429  # ten guesses per address, however many links they are spread over


def test_every_other_api_route_turns_a_share_viewer_away(client, tenant, share_token):
    app = client.app.app if hasattr(client.app, "app") else client.app
    closed = [route for route in app.routes
              if hasattr(getattr(route, "endpoint", None), "accepts_share") and not accepts_share(route.endpoint)]
    values = {"id": tenant.public_id, "visitor_id": VISITORS[0], "token": share_token}
    viewer = TestClient(client.app, base_url="https://testserver", cookies={"pm_share": f"{share_token}."})
    checked = []
    for route in closed:
        path = route.path
        for name in route.param_convertors:
            path = path.replace("{" + name + "}", values.get(name, "1"))
        for method in sorted(route.methods - {"HEAD"}):
            response = viewer.request(method, f"{path}?site_id={tenant.public_id}", json={},
                                      headers={"X-Postmetric-Share": share_token})
            assert response.status_code == 401, (method, path, response.status_code, response.text)
            checked.append(path)
    assert any("/visitors/" in path for path in checked) and "/api/v1/customers" in checked
