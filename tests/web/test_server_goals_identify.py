"""POST /api/v1/goals and /api/v1/identify: a backend's event joins the visitor's current visit."""

from __future__ import annotations

import uuid

import orjson
import pytest

from factories import CHROME_UA
from stats_api_support import NOW, bearer, clock, create_tenant  # noqa: F401 (clock: frozen at NOW)
from web_support import stored_events

TODAY = [NOW.date().isoformat(), NOW.date().isoformat()]


def browse(client, site, path="/", *, visitor=None, session=None, referrer="", ip="81.2.69.142") -> None:
    """A tracker pageview, as the script sends it (no key; cookie ids unless None)."""
    body = {"websiteId": site.public_id, "type": "pageview", "href": f"https://example.com{path}",
            "referrer": referrer, "visitorId": visitor, "sessionId": session}
    response = client.post("/api/events", content=orjson.dumps(body), headers={"X-Postmetric-IP": ip})
    assert response.status_code == 202 and "x-postmetric-dropped" not in response.headers


def goal(client, key, **body):
    return client.post("/api/v1/goals", json=body, headers=bearer(key))


def identify(client, key, **body):
    return client.post("/api/v1/identify", json=body, headers=bearer(key))


def query(client, site, **fields) -> list:
    body = {"site_id": site.public_id, "date_range": TODAY, "metrics": ["visits"]} | fields
    response = client.post("/api/v1/query", json=body, headers=bearer(site.key))
    assert response.status_code == 200, response.text
    return [[row["dimensions"], row["metrics"]] for row in response.json()["results"]]


def rows_of(client, event_type: str) -> list[dict]:
    return [row for row in stored_events(client) if row["type"] == event_type]


@pytest.fixture
def ids() -> tuple[str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4())


def test_a_server_goal_joins_the_browsers_visit_on_its_current_page(client, site, clock, ids):
    vid, sid = ids
    browse(client, site, "/", visitor=vid, session=sid, referrer="https://www.google.com/")
    clock.advance(60)
    browse(client, site, "/pricing", visitor=vid, session=sid)
    clock.advance(60)
    response = goal(client, site.key, datafast_visitor_id=vid, name="signup", metadata={"plan": "pro", "seats": 3})
    assert response.status_code == 202, response.text
    assert response.json() == {"ok": True, "visitor_id": vid, "session_id": sid}
    [row] = rows_of(client, "goal")
    assert (str(row["visitor_id"]), str(row["session_id"]), row["name"]) == (vid, sid, "signup")
    assert (row["source"], row["channel"], row["entry_page"]) == ("Google", "Organic Search", "/")
    assert (row["country"], row["browser"], row["device"]) == ("GB", "Chrome", "desktop")
    assert (row["hostname"], row["pathname"]) == ("example.com", "/pricing")
    assert orjson.loads(row["props"]) == {"plan": "pro", "seats": "3"}
    assert query(client, site, metrics=["visits", "visit_duration"]) == [[[], [1, 120]]]
    assert query(client, site, metrics=["visitors", "events"], dimensions=["event:goal"]) == [[["signup"], [1, 1]]]


def test_a_goal_keeps_the_visit_going_past_30_minutes_since_its_last_pageview(client, site, clock, ids):
    vid, sid = ids
    browse(client, site, "/app", visitor=vid, session=sid)
    for _ in range(2):
        clock.advance(20 * 60)
        assert goal(client, site.key, visitor_id=vid, name="export").json()["session_id"] == sid
    clock.advance(20 * 60)
    browse(client, site, "/app/settings", visitor=vid, session=sid)
    assert {str(row["session_id"]) for row in stored_events(client)} == {sid}


def test_without_a_visit_in_the_last_30_minutes_a_goal_starts_one_on_the_home_page(client, site, clock, ids):
    vid, sid = ids
    browse(client, site, "/pricing", visitor=vid, session=sid, referrer="https://www.google.com/")
    clock.advance(31 * 60)
    response = goal(client, site.key, visitor_id=vid, name="renewal")
    assert response.status_code == 202
    new_session = response.json()["session_id"]
    assert new_session != sid and response.json()["visitor_id"] == vid
    [row] = rows_of(client, "goal")
    assert str(row["session_id"]) == new_session
    assert (row["hostname"], row["pathname"], row["entry_page"]) == ("example.com", "/", "/")
    assert (row["source"], row["channel"], row["country"], row["browser"]) == ("", "Direct", "", "")
    assert query(client, site) == [[[], [2]]]


def test_a_new_visit_takes_geo_and_device_from_ip_and_user_agent(client, site):
    vid = str(uuid.uuid4())
    response = goal(client, site.key, visitor_id=vid, name="trial_started", ip="81.2.69.142", userAgent=CHROME_UA,
                    timestamp="2026-03-11T11:50:00Z")
    assert response.status_code == 202
    [row] = rows_of(client, "goal")
    assert (row["country"], row["browser"], row["os"]) == ("GB", "Chrome", "Windows")
    assert str(row["timestamp"]) == "2026-03-11 11:50:00"


def test_a_cookieless_visitor_is_joined_by_the_id_the_server_gave_it(client, site):
    browse(client, site, "/docs")  # no ids: the server derives the visitor from IP and user agent
    [pageview] = stored_events(client)
    vid, sid = str(pageview["visitor_id"]), str(pageview["session_id"])
    response = goal(client, site.key, visitor_id=vid, name="copied_snippet")
    assert response.json() == {"ok": True, "visitor_id": vid, "session_id": sid}
    assert rows_of(client, "goal")[0]["pathname"] == "/docs"


def test_identify_joins_the_visit_and_shows_in_the_visitor_profile(client, site, clock, ids):
    vid, sid = ids
    browse(client, site, "/signup", visitor=vid, session=sid)
    response = identify(client, site.key, visitor_id=vid, user_id=42, email=" Ada@Example.com ", name="Ada",
                        plan="pro")
    assert response.status_code == 202, response.text
    assert response.json() == {"ok": True, "visitor_id": vid, "session_id": sid}
    [row] = rows_of(client, "identify")
    assert (row["name"], row["pathname"]) == ("identify", "/signup")
    profile = client.get(f"/api/v1/visitors/{vid}", params={"site_id": site.public_id}, headers=bearer(site.key))
    assert profile.status_code == 200, profile.text
    identity = profile.json()["identity"]
    assert (identity["user_id"], identity["email"], identity["name"]) == ("42", "Ada@Example.com", "Ada")
    assert identity["props"]["plan"] == "pro"
    assert profile.json()["totals"]["visits"] == 1


def test_a_later_payment_by_email_or_customer_id_links_to_the_identified_visitor(client, site, clock, ids):
    vid, sid = ids
    browse(client, site, "/", visitor=vid, session=sid)
    assert identify(client, site.key, visitor_id=vid, email="ada@example.com", user_id="cus_42").status_code == 202
    clock.advance(2 * 3600)  # days later in spirit: no visit is active, so only identity can link
    client.app.state.services.writer.flush()
    for body in ({"transaction_id": "pi_1", "email": "ADA@example.com"}, {"transaction_id": "pi_2",
                                                                          "customer_id": "cus_42"}):
        response = client.post("/api/v1/payments", json=body | {"amount": 29, "currency": "EUR"},
                               headers=bearer(site.key))
        assert response.status_code == 201, response.text
        payment = response.json()["payment"]
        assert (payment["visitor_id"], payment["link_method"]) == (vid, "identity")


def test_an_identify_after_the_payment_links_it_too(client, site, clock, ids):
    vid, sid = ids
    response = client.post("/api/v1/payments", json={"transaction_id": "pi_1", "amount": 9, "currency": "EUR",
                                                     "email": "grace@example.com"}, headers=bearer(site.key))
    assert response.json()["payment"]["link_method"] == "none"
    clock.advance(60)
    browse(client, site, "/welcome", visitor=vid, session=sid)
    assert identify(client, site.key, visitor_id=vid, email="grace@example.com").status_code == 202
    client.app.state.services.writer.flush()
    [payment] = client.app.state.services.events.payments(site.id)
    assert (payment.visitor_id, payment.link_method) == (vid, "identity")


def test_202_means_committed_a_failing_journal_answers_503(client, site):
    client.app.state.services.writer._journal.close()  # appends now fail with a real OSError
    response = goal(client, site.key, visitor_id=str(uuid.uuid4()), name="signup")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"


# -- refused requests ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/goals", "/api/v1/identify"])
def test_a_site_key_is_required(client, site, settings, path):
    body = {"visitor_id": str(uuid.uuid4()), "name": "signup", "email": "ada@example.com"}
    assert client.post(path, json=body).status_code == 401
    bad = client.post(path, json=body, headers=bearer("pmk_wrong"))
    assert bad.status_code == 401 and "unknown or revoked" in bad.json()["error"]
    owner = create_tenant(settings, email="owner@example.com", domain="example.com")
    token = client.post(path, json=body, headers=bearer(owner.token))
    assert token.status_code == 403 and token.json()["error"].startswith("authorization:")
    assert stored_events(client) == []


def test_a_key_writes_to_its_own_site_only(client, site, settings, ids):
    vid, sid = ids
    browse(client, site, "/", visitor=vid, session=sid)
    other = create_tenant(settings, email="eve@example.org", domain="other.example")
    response = goal(client, other.key, visitor_id=vid, name="signup")
    assert response.status_code == 202 and response.json()["session_id"] != sid
    [row] = rows_of(client, "goal")
    assert (row["site_id"], row["hostname"]) == (other.site_id, "other.example")
    assert query(client, site, metrics=["events"], dimensions=["event:goal"]) == []


VID = "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"


@pytest.mark.parametrize("path, body, message", [
    ("/api/v1/goals", b"{not json", "body: is not valid JSON"),
    ("/api/v1/goals", b"[]", "body: must be a JSON object"),
    ("/api/v1/goals", b"", "the request body is empty"),
    ("/api/v1/goals", {"name": "signup"}, "visitor_id: is required"),
    ("/api/v1/goals", {"visitor_id": "abc", "name": "signup"}, "visitor_id: 'abc' is not a visitor id"),
    ("/api/v1/goals", {"datafast_visitor_id": 7, "name": "signup"}, "datafast_visitor_id: 7 is not a visitor id"),
    ("/api/v1/goals", {"visitor_id": VID, "datafast_visitor_id": str(uuid.uuid4()), "name": "x"},
     "datafast_visitor_id: differs from visitor_id"),
    ("/api/v1/goals", {"visitor_id": VID}, "name: is required"),
    ("/api/v1/goals", {"visitor_id": VID, "name": "Sign Up"}, "name: 'Sign Up' must be 1-64 characters"),
    ("/api/v1/goals", {"visitor_id": VID, "name": "x" * 65}, "name: "),
    ("/api/v1/goals", {"visitor_id": VID, "name": "x", "props": ["a"]}, "props: must be a flat JSON object"),
    ("/api/v1/goals", {"visitor_id": VID, "name": "x", "metadata": {"a": {"b": 1}}}, "metadata.a: must be a string"),
    ("/api/v1/goals", {"visitor_id": VID, "name": "x", "props": {"Bad Key": "v"}}, "props.Bad Key: prop names"),
    ("/api/v1/goals", {"visitor_id": VID, "name": "x", "props": {"k": "v" * 256}}, "props.k: is longer than 255"),
    ("/api/v1/goals", {"visitor_id": VID, "name": "x", "props": {f"k{i}": i for i in range(21)}},
     "props: at most 20 props, got 21"),
    ("/api/v1/goals", {"visitor_id": VID, "name": "x", "props": {}, "metadata": {}}, "metadata: send props or"),
    ("/api/v1/goals", {"visitor_id": VID, "name": "x", "timestamp": "yesterday"}, "timestamp: 'yesterday' is not"),
    ("/api/v1/goals", {"visitor_id": VID, "name": "x", "timestamp": "2027-01-01T00:00:00Z"}, "timestamp: is in the future"),
    ("/api/v1/goals", {"visitor_id": VID, "name": "x", "ip": "localhost"}, "ip: 'localhost' is not an IP address"),
    ("/api/v1/goals", {"visitor_id": VID, "name": "x", "userAgent": 5}, "userAgent: must be a string"),
    ("/api/v1/goals", {"visitor_id": VID, "name": "x", "properties": {}}, "properties: unknown field; accepted:"),
    ("/api/v1/identify", {"visitor_id": VID, "name": "Ada"}, "user_id: user_id or email is required"),
    ("/api/v1/identify", {"user_id": "u1"}, "visitor_id: is required"),
    ("/api/v1/identify", {"visitor_id": VID, "email": "nobody"}, "email: 'nobody' is not an email address"),
    ("/api/v1/identify", {"visitor_id": VID, "user_id": "u1", "company": {"id": 1}}, "company: must be a string"),
    ("/api/v1/identify", {"visitor_id": VID, "user_id": "u1", "firstName": "Ada"}, "firstName: prop names must"),
])
def test_every_invalid_body_is_a_400_naming_the_field(client, site, path, body, message):
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    response = client.post(path, content=content, headers=bearer(site.key))
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(message), response.json()
    assert stored_events(client) == []


@pytest.mark.parametrize("path", ["/api/v1/goals", "/api/v1/identify"])
def test_the_documented_example_is_accepted(client, site, path):
    operation = client.get("/api/openapi.json").json()["paths"][path]["post"]
    example = operation["requestBody"]["content"]["application/json"]["example"]
    response = client.post(path, json=example, headers=bearer(site.key))
    assert response.status_code == 202, response.text
    assert response.json().keys() == operation["responses"]["202"]["content"]["application/json"]["example"].keys()


def test_a_trailing_newline_is_not_part_of_a_valid_name(client, site):
    response = goal(client, site.key, visitor_id=VID, name="signup\n", props={"plan\n": "pro"})
    assert response.status_code == 400 and response.json()["error"].startswith("name: 'signup\\n'")
    response = goal(client, site.key, visitor_id=VID, name="signup", props={"plan\n": "pro"})
    assert response.status_code == 400 and response.json()["error"].startswith("props.plan\n: prop names")
