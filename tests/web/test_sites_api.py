"""The sites API over HTTP: sites and settings, members and invitations, site keys, share links.

The `site` fixture's owner (owner@example.com) logs in through the API like any user; a second
browser on the same app plays the other users.
"""

from __future__ import annotations

import pytest

from postmetric.config import Settings

from account_support import PASSWORD, browser, signup

QUERY = {"date_range": "7d", "metrics": ["visitors"]}


@pytest.fixture
def settings(tmp_path, derived_data_dir, smtp) -> Settings:
    controller, _ = smtp
    return Settings(data_dir=tmp_path / "data", cache_dir=derived_data_dir, ingest_rate_limit="",
                    smtp_url=f"smtp://{controller.hostname}:{controller.port}", base_url="https://stats.example.com",
                    signup="open")  # many unrelated people sign up here; test_signup_mode.py tests the policy


@pytest.fixture
def inbox(smtp):
    return smtp[1]


class User:
    """A logged-in browser: `.call(method, path, json=…)` sends the CSRF header."""

    def __init__(self, client, email: str, *, password: str = PASSWORD, new: bool = True) -> None:
        self.browser = browser(client)
        if new:
            self.csrf = signup(self.browser, email, password)
        else:
            response = self.browser.post("/api/v1/auth/login", json={"email": email, "password": password})
            self.csrf = response.json()["csrf_token"]
        self.id = self.browser.get("/api/v1/auth/session").json()["user"]["id"]

    def call(self, method: str, path: str, **kwargs):
        return self.browser.request(method, path, headers={"X-CSRF-Token": self.csrf}, **kwargs)


@pytest.fixture
def owner(client) -> User:
    return User(client, "owner@example.com", password="correct horse", new=False)


@pytest.fixture
def stranger(client) -> User:
    return User(client, "mallory@example.com")


def join(client, owner: User, inbox, site_ref: str, email: str, role: str) -> User:
    """A new user who accepted an invitation to `site_ref` with `role`."""
    user = User(client, email)
    assert owner.call("POST", f"/api/v1/sites/{site_ref}/members", json={"email": email, "role": role}
                      ).status_code == 201
    token = inbox.link(r"https://stats\.example\.com/invitations/\S+").rsplit("/", 1)[1]
    assert user.call("POST", f"/api/v1/invitations/{token}/accept").status_code == 200
    return user


# -- sites ---------------------------------------------------------------------------------


def test_list_shows_the_users_sites_with_every_setting_and_role(owner, site):
    [listed] = owner.call("GET", "/api/v1/sites").json()["sites"]
    assert listed["id"] == site.public_id and listed["role"] == "owner"
    assert {"domain": "example.com", "name": "example.com", "timezone": "Europe/Berlin", "currency": "USD",
            "allowed_hostnames": [], "excluded_ips": [], "excluded_countries": [], "excluded_hostnames": [],
            "excluded_paths": [], "cookieless": False, "retention_days": None}.items() <= listed.items()
    assert listed["created_at"].endswith("Z")


def test_create_get_update_and_delete_a_site(owner):
    response = owner.call("POST", "/api/v1/sites", json={"domain": "https://www.Shop.example.org/",
                                                         "name": "Shop", "currency": "eur"})
    assert response.status_code == 201
    created = response.json()
    assert (created["domain"], created["name"], created["currency"], created["role"]) == (
        "shop.example.org", "Shop", "EUR", "owner")
    assert owner.call("GET", f"/api/v1/sites/{created['id']}").json() == created
    assert owner.call("GET", "/api/v1/sites/shop.example.org").json()["id"] == created["id"]
    changed = owner.call("PUT", f"/api/v1/sites/{created['id']}",
                         json={"timezone": "Asia/Tokyo", "excluded_ips": ["10.0.0.0/8"], "cookieless": True}).json()
    assert (changed["timezone"], changed["excluded_ips"], changed["cookieless"]) == ("Asia/Tokyo", ["10.0.0.0/8"],
                                                                                     True)
    assert owner.call("DELETE", f"/api/v1/sites/{created['id']}").status_code == 204
    assert owner.call("GET", f"/api/v1/sites/{created['id']}").status_code == 404


@pytest.mark.parametrize(("body", "error"), [
    ({}, "domain: is required"),
    ({"domain": "not a domain"}, "domain: "),
    ({"domain": "a.example", "timezone": "Mars/Base"}, "timezone: "),
    ({"domain": "a.example", "currency": "dollars"}, "currency: "),
    ({"domain": "a.example", "cookieless": True}, "cookieless: set it with PUT"),
])
def test_create_names_the_invalid_field(owner, body, error):
    response = owner.call("POST", "/api/v1/sites", json=body)
    assert response.status_code == 400 and response.json()["error"].startswith(error)


def test_a_taken_domain_is_409(owner, stranger):
    assert stranger.call("POST", "/api/v1/sites", json={"domain": "example.com"}).status_code == 409
    owner.call("POST", "/api/v1/sites", json={"domain": "b.example"})
    response = owner.call("PUT", "/api/v1/sites/b.example", json={"domain": "example.com"})
    assert response.status_code == 409


@pytest.mark.parametrize(("body", "field"), [
    ({"retention_days": 0}, "retention_days"), ({"retention_days": 10**40}, "retention_days"),
    ({"retention_days": 3651}, "retention_days"), ({"excluded_countries": ["Germany"]}, "excluded_countries"),
    ({"excluded_paths": ["admin"]}, "excluded_paths"), ({"colour": "red"}, "colour"),
    ({"name": "ok", "timezone": "nope"}, "timezone"),
])
def test_update_is_all_or_nothing_and_names_the_invalid_field(owner, site, body, field):
    response = owner.call("PUT", f"/api/v1/sites/{site.public_id}", json=body)
    assert response.status_code == 400 and response.json()["error"].startswith(f"{field}: ")
    assert owner.call("GET", f"/api/v1/sites/{site.public_id}").json()["name"] == "example.com"


def test_another_users_site_is_404_everywhere(stranger, site):
    ref = site.public_id
    calls = [("GET", f"/api/v1/sites/{ref}", None), ("PUT", f"/api/v1/sites/{ref}", {"name": "mine"}),
             ("DELETE", f"/api/v1/sites/{ref}", None), ("GET", f"/api/v1/sites/{ref}/members", None),
             ("POST", f"/api/v1/sites/{ref}/members", {"email": "x@example.com", "role": "viewer"}),
             ("PUT", f"/api/v1/sites/{ref}/members/1", {"role": "viewer"}),
             ("DELETE", f"/api/v1/sites/{ref}/members/1", None), ("GET", f"/api/v1/sites/{ref}/keys", None),
             ("POST", f"/api/v1/sites/{ref}/keys", {"name": "x"}), ("DELETE", f"/api/v1/sites/{ref}/keys/1", None),
             ("GET", f"/api/v1/sites/{ref}/sharing", None), ("PUT", f"/api/v1/sites/{ref}/sharing", {"enabled": True}),
             ("GET", "/api/v1/sites/example.com", None)]
    for method, path, body in calls:
        response = stranger.call(method, path, json=body)
        assert (response.status_code, response.json()) == (
            404, {"error": f"site_id: site {path.split('/')[4]!r} not found"}), (method, path)
    assert stranger.call("GET", "/api/v1/sites").json() == {"sites": []}


def test_the_sites_api_needs_a_user(client, site):
    assert client.get("/api/v1/sites").status_code == 401
    response = client.get("/api/v1/sites", headers={"Authorization": f"Bearer {site.key}"})
    assert response.status_code == 403 and response.json()["error"].startswith("credential: site keys read stats")


def test_an_account_token_manages_its_users_sites_without_csrf(client, site):
    from postmetric.accounts.keys import create_account_token
    from postmetric.accounts.users import get_user_by_email

    with client.app.state.services.metadata() as session:
        _, raw = create_account_token(session, user=get_user_by_email(session, "owner@example.com"), name="ci")
        session.commit()
    auth = {"Authorization": f"Bearer {raw}"}
    assert [s["id"] for s in client.get("/api/v1/sites", headers=auth).json()["sites"]] == [site.public_id]
    response = client.put(f"/api/v1/sites/{site.public_id}", json={"name": "Renamed"}, headers=auth)
    assert response.status_code == 200 and response.json()["name"] == "Renamed"


# -- roles and members ---------------------------------------------------------------------


def test_a_viewer_reads_but_cannot_change_anything(client, owner, inbox, site):
    viewer = join(client, owner, inbox, site.public_id, "vic@example.com", "viewer")
    assert viewer.call("GET", f"/api/v1/sites/{site.public_id}").json()["role"] == "viewer"
    assert viewer.call("GET", f"/api/v1/sites/{site.public_id}/members").status_code == 200
    response = viewer.call("PUT", f"/api/v1/sites/{site.public_id}", json={"name": "mine"})
    assert (response.status_code, response.json()) == (403, {"error": "role: viewers cannot change settings"})
    for method, path, body in [("DELETE", "", None), ("GET", "/keys", None), ("POST", "/keys", {"name": "k"}),
                               ("PUT", "/sharing", {"enabled": True}),
                               ("POST", "/members", {"email": "x@example.com", "role": "viewer"})]:
        response = viewer.call(method, f"/api/v1/sites/{site.public_id}{path}", json=body)
        assert response.status_code == 403 and response.json()["error"].startswith("role: viewers cannot"), path
    query = {"site_id": site.public_id, **QUERY}
    assert viewer.call("POST", "/api/v1/query", json=query).status_code == 200


def test_an_admin_manages_settings_and_members_but_not_owners_or_deletion(client, owner, inbox, site):
    admin = join(client, owner, inbox, site.public_id, "adam@example.com", "admin")
    assert admin.call("PUT", f"/api/v1/sites/{site.public_id}", json={"name": "Team"}).status_code == 200
    response = admin.call("DELETE", f"/api/v1/sites/{site.public_id}")
    assert (response.status_code, response.json()) == (403, {"error": "role: admins cannot delete the site"})
    response = admin.call("PUT", f"/api/v1/sites/{site.public_id}/members/{owner.id}", json={"role": "viewer"})
    assert response.status_code == 403 and response.json()["error"] == "role: admins cannot change owners"
    response = admin.call("POST", f"/api/v1/sites/{site.public_id}/members",
                          json={"email": "o2@example.com", "role": "owner"})
    assert response.status_code == 403 and response.json()["error"] == "role: admins cannot make owners"


def test_an_invitation_is_mailed_even_to_an_existing_user_who_joins_only_by_accepting(client, owner, inbox, site):
    bob = User(client, "bob@example.com")
    response = owner.call("POST", f"/api/v1/sites/{site.public_id}/members",
                          json={"email": "Bob@Example.com", "role": "admin"})
    assert response.status_code == 201
    assert response.json()["invitation"]["email"] == "bob@example.com" and response.json()["emailed"] is True
    assert inbox.messages[-1]["To"] == "bob@example.com"
    assert bob.call("GET", f"/api/v1/sites/{site.public_id}").status_code == 404  # not added silently
    listing = owner.call("GET", f"/api/v1/sites/{site.public_id}/members").json()
    assert [m["email"] for m in listing["members"]] == ["owner@example.com"]
    assert [i["email"] for i in listing["invitations"]] == ["bob@example.com"]
    token = inbox.link(r"https://stats\.example\.com/invitations/\S+").rsplit("/", 1)[1]
    mallory = User(client, "mallory@example.com")
    response = mallory.call("POST", f"/api/v1/invitations/{token}/accept")
    assert response.status_code == 403 and response.json()["error"].startswith("email: ")
    response = bob.call("POST", f"/api/v1/invitations/{token}/accept")
    assert response.json() == {"site_id": site.public_id, "role": "admin"}
    assert bob.call("POST", f"/api/v1/invitations/{token}/accept").status_code == 404  # single use
    assert bob.call("GET", f"/api/v1/sites/{site.public_id}").json()["role"] == "admin"
    listing = owner.call("GET", f"/api/v1/sites/{site.public_id}/members").json()
    assert [(m["email"], m["role"]) for m in listing["members"]] == [("owner@example.com", "owner"),
                                                                      ("bob@example.com", "admin")]
    assert listing["invitations"] == []


def test_invitations_need_a_valid_role_and_email_and_refuse_members(owner, site):
    path = f"/api/v1/sites/{site.public_id}/members"
    assert owner.call("POST", path, json={"email": "x@example.com", "role": "god"}).json()["error"].startswith(
        "role: 'god' is not a role")
    assert owner.call("POST", path, json={"email": "nope", "role": "viewer"}).status_code == 400
    assert owner.call("POST", path, json={"email": "owner@example.com", "role": "viewer"}).status_code == 409


def test_an_invitation_expires_after_a_week(client, owner, inbox, site, clock):
    bob = User(client, "bob@example.com")
    owner.call("POST", f"/api/v1/sites/{site.public_id}/members", json={"email": "bob@example.com", "role": "viewer"})
    token = inbox.link(r"invitations/\S+").rsplit("/", 1)[1]
    clock.advance(7 * 86400 + 1)
    assert bob.call("POST", f"/api/v1/invitations/{token}/accept").status_code == 404


def test_roles_change_and_members_leave_but_a_site_keeps_an_owner(client, owner, inbox, site):
    bob = join(client, owner, inbox, site.public_id, "bob@example.com", "viewer")
    members = f"/api/v1/sites/{site.public_id}/members"
    response = owner.call("PUT", f"{members}/{owner.id}", json={"role": "admin"})
    assert response.status_code == 403 and response.json()["error"].startswith("role: a site needs an owner")
    assert owner.call("DELETE", f"{members}/{owner.id}").status_code == 403
    response = owner.call("PUT", f"{members}/{bob.id}", json={"role": "owner"})
    assert response.json() == {**response.json(), "email": "bob@example.com", "role": "owner"}
    assert owner.call("DELETE", f"{members}/{owner.id}").status_code == 204  # bob owns it now
    assert owner.call("GET", f"/api/v1/sites/{site.public_id}").status_code == 404
    assert bob.call("DELETE", f"/api/v1/sites/{site.public_id}").status_code == 204
    assert bob.call("PUT", f"{members}/999", json={"role": "viewer"}).status_code == 404


def test_an_unknown_member_is_404_and_a_bad_role_400(owner, site):
    members = f"/api/v1/sites/{site.public_id}/members"
    assert owner.call("PUT", f"{members}/424242", json={"role": "viewer"}).status_code == 404
    assert owner.call("DELETE", f"{members}/abc").status_code == 404
    assert owner.call("PUT", f"{members}/{owner.id}", json={"role": "boss"}).status_code == 400


# -- site keys -------------------------------------------------------------------------------


def test_keys_are_listed_created_once_and_revoked(client, owner, site):
    keys = f"/api/v1/sites/{site.public_id}/keys"
    response = owner.call("POST", keys, json={"name": "backend"})
    assert response.status_code == 201
    created = response.json()
    assert created["key"].startswith("pmk_") and created["prefix"] == created["key"][:8]
    listed = owner.call("GET", keys).json()["keys"]
    assert [k["name"] for k in listed] == ["server", "backend"] and all("key" not in k for k in listed)
    auth = {"Authorization": f"Bearer {created['key']}"}
    assert client.get("/api/v1/realtime", headers=auth).status_code == 200
    assert owner.call("GET", keys).json()["keys"][1]["last_used_at"] is not None
    assert owner.call("DELETE", f"{keys}/{created['id']}").status_code == 204
    assert client.get("/api/v1/realtime", headers=auth).status_code == 401
    assert owner.call("GET", keys).json()["keys"][1]["revoked_at"] is not None
    assert owner.call("DELETE", f"{keys}/424242").status_code == 404
    assert owner.call("POST", keys, json={"name": ""}).json()["error"].startswith("name: ")


# -- sharing ---------------------------------------------------------------------------------


def test_a_share_link_reads_its_sites_stats_and_nothing_else(client, owner, site):
    sharing = f"/api/v1/sites/{site.public_id}/sharing"
    assert owner.call("GET", sharing).json() == {"enabled": False, "url": None, "has_password": False}
    shared = owner.call("PUT", sharing, json={"enabled": True}).json()
    assert shared["url"] == f"https://stats.example.com/share/{shared['token']}" and not shared["has_password"]
    other = owner.call("POST", "/api/v1/sites", json={"domain": "other.example"}).json()
    visitor = browser(client)
    header = {"X-Postmetric-Share": shared["token"]}
    assert visitor.get(f"/api/v1/share/{shared['token']}").json() == {
        "site": {"id": site.public_id, "domain": "example.com", "name": "example.com",
                 "timezone": "Europe/Berlin", "currency": "USD"}, "has_password": False}
    assert visitor.post("/api/v1/query", json={"site_id": site.public_id, **QUERY}, headers=header).status_code == 200
    assert visitor.get("/api/v1/realtime", headers=header).status_code == 200
    assert visitor.post("/api/v1/query", json={"site_id": other["id"], **QUERY}, headers=header).status_code == 404
    for path in ("/api/v1/sites", f"/api/v1/sites/{site.public_id}", f"/api/v1/sites/{site.public_id}/keys",
                 "/api/v1/analytics/pages", "/api/v1/visitors/3f1c2a9e-8b7d-4c6e-9f00-1a2b3c4d5e6f"):
        assert visitor.get(path, headers=header).status_code == 401, path
    owner.call("PUT", sharing, json={"enabled": False})
    assert visitor.post("/api/v1/query", json={"site_id": site.public_id, **QUERY}, headers=header).status_code == 401
    renewed = owner.call("PUT", sharing, json={"enabled": True}).json()
    assert renewed["token"] != shared["token"]
    assert visitor.get(f"/api/v1/share/{shared['token']}").status_code == 404


def test_a_password_protected_link_needs_unlocking_and_a_new_password_ends_old_access(client, owner, site):
    sharing = f"/api/v1/sites/{site.public_id}/sharing"
    shared = owner.call("PUT", sharing, json={"enabled": True, "password": "open sesame!"}).json()
    assert shared["has_password"] is True
    visitor = browser(client)
    token = shared["token"]
    query = {"site_id": site.public_id, **QUERY}
    assert visitor.post("/api/v1/query", json=query, headers={"X-Postmetric-Share": token}).status_code == 401
    response = visitor.post(f"/api/v1/share/{token}/unlock", json={"password": "wrong password"})
    assert (response.status_code, response.json()) == (401, {"error": "password: is wrong"})
    response = visitor.post(f"/api/v1/share/{token}/unlock", json={"password": "open sesame!"})
    assert response.status_code == 204 and "HttpOnly" in response.headers["set-cookie"]
    assert visitor.post("/api/v1/query", json=query).status_code == 200  # the cookie alone
    assert visitor.post("/api/v1/query", json=query, headers={"X-Postmetric-Share": token}).status_code == 200
    assert owner.call("PUT", sharing, json={"enabled": True, "password": "new secret!!"}).json()["token"] == token
    assert visitor.post("/api/v1/query", json=query).status_code == 401
    assert owner.call("PUT", sharing, json={"enabled": True, "password": None}).json()["has_password"] is False
    assert browser(client).post("/api/v1/query", json=query, headers={"X-Postmetric-Share": token}).status_code == 200


def test_sharing_validates_its_fields_and_unknown_links_are_404(client, owner, site):
    sharing = f"/api/v1/sites/{site.public_id}/sharing"
    assert owner.call("PUT", sharing, json={"enabled": "yes"}).json()["error"].startswith("enabled: ")
    assert owner.call("PUT", sharing, json={"enabled": True, "password": "short"}).status_code == 400
    assert client.post("/api/v1/share/nope/unlock", json={"password": "x"}).status_code == 404
    assert client.get("/api/v1/share/nope").status_code == 404
    assert client.post("/api/v1/query", json={"site_id": site.public_id, **QUERY},
                       headers={"X-Postmetric-Share": "nope"}).status_code == 401


def test_a_shared_realtime_stream_ends_when_sharing_is_turned_off(client, owner, site, monkeypatch):
    from postmetric.web.routes import stats as stats_routes

    from stats_api_support import read_frame

    sharing = f"/api/v1/sites/{site.public_id}/sharing"
    token = owner.call("PUT", sharing, json={"enabled": True}).json()["token"]
    real_snapshot = stats_routes.realtime_snapshot

    def snapshot_then_unshare(*args, **kwargs):
        owner.call("PUT", sharing, json={"enabled": False})
        return real_snapshot(*args, **kwargs)

    monkeypatch.setattr(stats_routes, "realtime_snapshot", snapshot_then_unshare)
    monkeypatch.setattr(stats_routes, "STREAM_INTERVAL_SECONDS", 0)
    visitor = browser(client)
    with visitor.stream("GET", "/api/v1/realtime/stream", headers={"X-Postmetric-Share": token}) as response:
        chunks, buffer = response.iter_bytes(), bytearray()
        assert read_frame(chunks, buffer)[0] == "realtime"
        assert read_frame(chunks, buffer) == ("error", {"error": "the share link is disabled, changed or needs "
                                                                  "its password"})


def test_share_passwords_are_rate_limited_like_logins(client, owner, site):
    sharing = f"/api/v1/sites/{site.public_id}/sharing"
    token = owner.call("PUT", sharing, json={"enabled": True, "password": "open sesame!"}).json()["token"]
    guesser = browser(client)
    statuses = [guesser.post(f"/api/v1/share/{token}/unlock", json={"password": f"guess {n}"}).status_code
                for n in range(11)]
    # The owner's login came from the same (test client) IP and counts too: the 10th attempt is refused.
    assert statuses == [401] * 9 + [429] * 2


def test_routes_for_users_answer_401_without_a_login(client, site):
    for method, path in [("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/invitations/abc/accept"),
                         ("GET", f"/api/v1/sites/{site.public_id}/members"), ("POST", "/api/v1/sites")]:
        response = client.request(method, path, json={})
        assert response.status_code == 401, path
