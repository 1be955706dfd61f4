"""Account security over HTTP: account tokens listed and revoked, a password reset takes back every
credential, signup by policy, unauthenticated changes only from the dashboard's own origin, and
the headers that keep the dashboard out of frames."""

from __future__ import annotations

import orjson
import pytest
from starlette.testclient import TestClient

from postmetric.app import create_app
from postmetric.config import Settings
from postmetric.web.security_headers import SECURITY_HEADERS

from account_support import PASSWORD, browser, signup

BASE_URL = "https://stats.example.com"


@pytest.fixture
def instance(tmp_path, derived_data_dir, smtp, clock):
    """An empty instance in the default signup mode, with mail; `instance(signup=…)` for another."""
    controller, inbox = smtp
    clients = []

    def start(**changes) -> TestClient:
        settings = Settings(data_dir=tmp_path / f"data{len(clients)}", cache_dir=derived_data_dir, ingest_rate_limit="",
                            smtp_url=f"smtp://{controller.hostname}:{controller.port}", base_url=BASE_URL, **changes)
        client = TestClient(create_app(settings, clock=clock), base_url=BASE_URL)
        clients.append(client.__enter__())
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_token(client: TestClient, csrf: str, name: str) -> dict:
    response = client.post("/api/v1/tokens", json={"name": name}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    return response.json()


# -- account tokens ------------------------------------------------------------------------


def test_tokens_are_listed_without_secrets_and_revoked_at_once(instance, clock):
    client = instance()
    csrf = signup(client, "ada@example.com")
    ci, laptop = new_token(client, csrf, "CI"), new_token(client, csrf, "laptop")
    assert ci["token"].startswith("pmt_") and ci["token"].startswith(ci["prefix"])
    assert client.get("/api/v1/sites", headers=bearer(ci["token"])).status_code == 200
    listed = client.get("/api/v1/tokens").json()["tokens"]
    assert [(t["name"], t["revoked_at"]) for t in listed] == [("CI", None), ("laptop", None)]
    assert listed[0]["last_used_at"] is not None and listed[1]["last_used_at"] is None
    assert all(set(t) == {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at"} for t in listed)
    assert ci["token"] not in client.get("/api/v1/tokens").text

    assert client.delete(f"/api/v1/tokens/{ci['id']}", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/sites", headers=bearer(ci["token"])).status_code == 401
    assert client.get("/api/v1/sites", headers=bearer(laptop["token"])).status_code == 200
    assert [t["revoked_at"] is not None for t in client.get("/api/v1/tokens").json()["tokens"]] == [True, False]
    # A token manages its own account's tokens (a script can revoke a leaked sibling)...
    assert client.get("/api/v1/tokens", headers=bearer(laptop["token"])).status_code == 200
    # ...but cannot mint new ones: a leaked token must not outlive its revocation.
    minted = client.post("/api/v1/tokens", json={"name": "x"}, headers=bearer(laptop["token"]))
    assert minted.status_code == 403 and minted.json()["error"].startswith("credential:")


def test_another_accounts_token_is_404_and_a_site_key_is_403(instance):
    client = instance(signup="open")
    ada_csrf = signup(client, "ada@example.com")
    ada_token = new_token(client, ada_csrf, "CI")
    bob = browser(client)
    bob_csrf = signup(bob, "bob@example.com")
    assert bob.delete(f"/api/v1/tokens/{ada_token['id']}", headers={"X-CSRF-Token": bob_csrf}).status_code == 404
    assert bob.get("/api/v1/tokens").json()["tokens"] == []
    assert client.get("/api/v1/sites", headers=bearer(ada_token["token"])).status_code == 200
    site = client.post("/api/v1/sites", json={"domain": "ada.example"}, headers={"X-CSRF-Token": ada_csrf}).json()
    key = client.post(f"/api/v1/sites/{site['id']}/keys", json={"name": "k"}, headers={"X-CSRF-Token": ada_csrf}).json()
    for method in ("GET", "DELETE"):
        path = "/api/v1/tokens" if method == "GET" else f"/api/v1/tokens/{ada_token['id']}"
        assert client.request(method, path, headers=bearer(key["key"])).status_code == 403
    for bad in ("abc", "-1", "99999"):
        assert client.delete(f"/api/v1/tokens/{bad}", headers={"X-CSRF-Token": ada_csrf}).status_code == 404


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": 7}, {"name": "x" * 256}])
def test_a_token_needs_a_name(instance, body):
    client = instance()
    csrf = signup(client, "ada@example.com")
    response = client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 400 and response.json()["error"].startswith("name:")


# -- a password reset takes back every credential -----------------------------------------


def test_a_reset_ends_sessions_revokes_tokens_and_voids_older_links(instance, smtp):
    _, inbox = smtp
    client = instance()
    csrf = signup(client, "ada@example.com")
    token = new_token(client, csrf, "CI")["token"]
    for _ in range(2):
        assert client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"}).status_code == 202
    older, newer = (message.get_content().split("token=")[1].split()[0] for message in inbox.messages)
    stale = client.post("/api/v1/auth/password-reset/confirm", json={"token": older, "password": "new password!"})
    assert stale.status_code == 400 and stale.json()["error"].startswith("token:")
    assert client.get("/api/v1/sites", headers=bearer(token)).status_code == 200  # nothing happened yet
    done = client.post("/api/v1/auth/password-reset/confirm", json={"token": newer, "password": "new password!"})
    assert done.status_code == 204
    assert client.get("/api/v1/sites", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/auth/session").status_code == 401
    assert client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "new password!"}
                       ).status_code == 200
    assert [t["revoked_at"] is not None for t in client.get("/api/v1/tokens").json()["tokens"]] == [True]


# -- signup by policy ----------------------------------------------------------------------


def invitation_for(owner: TestClient, csrf: str, email: str, inbox) -> str:
    site = owner.post("/api/v1/sites", json={"domain": "ada.example"}, headers={"X-CSRF-Token": csrf}).json()
    invited = owner.post(f"/api/v1/sites/{site['id']}/members", json={"email": email, "role": "viewer"},
                         headers={"X-CSRF-Token": csrf})
    assert invited.status_code == 201, invited.text
    return inbox.link(r"/invitations/\S+").rsplit("/", 1)[1]


def try_signup(client: TestClient, email: str, **extra):
    return client.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD, **extra})


def test_by_default_the_first_account_is_free_and_later_ones_need_an_invitation(instance, smtp):
    owner = instance()
    assert owner.get("/api/v1/auth/signup").json() == {"mode": "invite", "open": True, "reason": None}
    csrf = signup(owner, "ada@example.com")
    policy = owner.get("/api/v1/auth/signup").json()
    assert (policy["mode"], policy["open"]) == ("invite", False) and "invitation" in policy["reason"]
    token = invitation_for(owner, csrf, "bob@example.com", smtp[1])

    stranger = browser(owner)
    for email, extra in [("carol@example.com", {}), ("carol@example.com", {"invitation": token}),
                         ("bob@example.com", {}), ("bob@example.com", {"invitation": "made-up"})]:
        refused = try_signup(stranger, email, **extra)
        assert refused.status_code == 403 and refused.json()["error"].startswith("signup: "), (email, extra)
    assert try_signup(stranger, "bob@example.com", invitation=7).status_code == 400
    assert try_signup(stranger, "BOB@example.com", invitation=token).status_code == 201
    assert stranger.post(f"/api/v1/invitations/{token}/accept", headers={
        "X-CSRF-Token": stranger.get("/api/v1/auth/session").json()["csrf_token"]}).status_code == 200
    # Accepted: the invitation lets nobody else in.
    assert try_signup(browser(owner), "bob2@example.com", invitation=token).status_code == 403


def test_closed_signup_refuses_even_the_first_account_and_open_takes_anyone(instance):
    closed = instance(signup="closed")
    assert closed.get("/api/v1/auth/signup").json()["open"] is False
    refused = try_signup(closed, "ada@example.com")
    assert refused.status_code == 403 and "postmetric users create" in refused.json()["error"]
    opened = instance(signup="open")
    for email in ("ada@example.com", "bob@example.com"):
        assert try_signup(browser(opened), email).status_code == 201
    assert opened.get("/api/v1/auth/signup").json() == {"mode": "open", "open": True, "reason": None}


def test_the_signup_setting_refuses_unknown_modes(tmp_path):
    with pytest.raises(ValueError, match="signup"):
        Settings(data_dir=tmp_path, signup="sometimes")


# -- unauthenticated changes only from this instance's own pages ---------------------------

# Every route that changes something without a session (so without a CSRF token to ask for).
UNAUTHENTICATED_CHANGES = [
    ("/api/v1/auth/signup", {"email": "mallory@example.com", "password": PASSWORD}),
    ("/api/v1/auth/login", {"email": "ada@example.com", "password": PASSWORD}),
    ("/api/v1/auth/password-reset", {"email": "ada@example.com"}),
    ("/api/v1/auth/password-reset/confirm", {"token": "t", "password": PASSWORD}),
    ("/api/v1/share/{share}/unlock", {"password": "share password"}),
]


@pytest.fixture
def shared(instance):
    """An open-signup instance with ada's account and a password-protected share link."""
    client = instance(signup="open")
    csrf = signup(client, "ada@example.com")
    site = client.post("/api/v1/sites", json={"domain": "ada.example"}, headers={"X-CSRF-Token": csrf}).json()
    sharing = client.put(f"/api/v1/sites/{site['id']}/sharing", json={"enabled": True, "password": "share password"},
                         headers={"X-CSRF-Token": csrf})
    assert sharing.status_code == 200, sharing.text
    return browser(client), sharing.json()["token"]


@pytest.mark.parametrize("path, body", UNAUTHENTICATED_CHANGES, ids=[path for path, _ in UNAUTHENTICATED_CHANGES])
@pytest.mark.parametrize("headers, status, field", [
    ({"Content-Type": "text/plain"}, 415, "content-type:"),
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415, "content-type:"),
    ({}, 415, "content-type:"),
    ({"Content-Type": "application/json", "Origin": "https://evil.example"}, 403, "origin:"),
    ({"Content-Type": "application/json", "Origin": "null"}, 403, "origin:"),
    ({"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403, "origin:"),
    ({"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, 403, "origin:"),
])
def test_another_sites_page_cannot_send_it(shared, path, body, headers, status, field):
    client, share = shared
    response = client.post(path.format(share=share), content=orjson.dumps(body), headers=headers)
    assert response.status_code == status and response.json()["error"].startswith(field), response.text
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("path, body", UNAUTHENTICATED_CHANGES, ids=[path for path, _ in UNAUTHENTICATED_CHANGES])
@pytest.mark.parametrize("headers", [
    {}, {"Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"}, {"Origin": "http://testserver"},
], ids=["no-browser-headers", "own-origin", "own-host"])
def test_its_own_pages_and_scripts_still_can(shared, path, body, headers):
    client, share = shared
    if "Origin" in headers and headers["Origin"] == "http://testserver":
        headers = {**headers, "Host": "testserver"}
    response = client.post(path.format(share=share), json=body, headers=headers)
    assert response.status_code not in (403, 415), response.text


# -- headers that keep the dashboard out of frames -----------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/sites/pm_x/settings/keys", "/api/docs", "/api/v1/auth/session",
                                  "/api/health", "/js/script.js"])
def test_pages_and_answers_carry_the_security_headers(instance, path):
    response = instance().get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (path, name)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]


def test_the_tracker_stays_usable_from_any_site(instance):
    client = instance()
    script = client.get("/js/script.js", headers={"Origin": "https://shop.example"})
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]  # nosniff needs it
    preflight = client.options("/api/events", headers={"Origin": "https://shop.example",
                                                       "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
