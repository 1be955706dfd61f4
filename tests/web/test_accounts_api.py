"""Accounts over HTTP: signup, login, logout, the session, CSRF, login limits, password reset by real SMTP."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from postmetric.app import create_app
from postmetric.config import Settings

from account_support import PASSWORD, browser, signup


@pytest.fixture
def settings(tmp_path, derived_data_dir, smtp) -> Settings:
    controller, _ = smtp
    return Settings(data_dir=tmp_path / "data", cache_dir=derived_data_dir, ingest_rate_limit="",
                    smtp_url=f"smtp://{controller.hostname}:{controller.port}?from=stats@example.com",
                    base_url="http://stats.example.com",
                    signup="open")  # many unrelated people sign up here; test_signup_mode.py tests the policy


@pytest.fixture
def inbox(smtp):
    return smtp[1]


# -- signup and login ------------------------------------------------------------------------


def test_signup_creates_the_user_logs_in_and_sets_a_strict_cookie(client):
    response = client.post("/api/v1/auth/signup", json={"email": "Ada@Example.com", "password": PASSWORD})
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["email"] == "ada@example.com" and isinstance(body["user"]["id"], int)
    assert len(body["csrf_token"]) >= 32
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("pm_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/" in cookie and "Max-Age=2592000" in cookie and "Secure" not in cookie
    assert client.get("/api/v1/auth/session").json() == body


def test_the_cookie_is_secure_over_https(client):
    response = client.post("https://testserver/api/v1/auth/signup",
                           json={"email": "ada@example.com", "password": PASSWORD})
    assert "Secure" in response.headers["set-cookie"]


def test_the_cookie_is_secure_when_the_base_url_is_https(tmp_path, derived_data_dir, clock):
    settings = Settings(data_dir=tmp_path / "tls", cache_dir=derived_data_dir, base_url="https://stats.example.com")
    with TestClient(create_app(settings, clock=clock)) as plain_http:  # TLS ends at the proxy
        response = plain_http.post("/api/v1/auth/signup", json={"email": "ada@example.com", "password": PASSWORD})
    assert "Secure" in response.headers["set-cookie"]


@pytest.mark.parametrize(("body", "status", "error"), [
    ({"email": "nope", "password": PASSWORD}, 400, "email: 'nope' is not an email address"),
    ({"email": "ada@example.com", "password": "short"}, 400, "password: must be at least 10 characters"),
    ({"email": "ada@example.com"}, 400, "password: is required"),
    ({"email": "owner@example.com", "password": PASSWORD}, 409, "a user with email 'owner@example.com'"),
])
def test_signup_refuses_bad_fields_and_taken_emails(client, body, status, error):
    response = client.post("/api/v1/auth/signup", json=body)
    assert response.status_code == status and response.json()["error"].startswith(error)
    assert "set-cookie" not in response.headers


def test_login_answers_the_user_and_a_new_session(client):
    signup(client, "ada@example.com")
    other = browser(client)
    response = other.post("/api/v1/auth/login", json={"email": "ADA@example.com", "password": PASSWORD})
    assert response.status_code == 200 and response.json()["user"]["email"] == "ada@example.com"
    assert other.get("/api/v1/auth/session").status_code == 200


def test_login_with_a_wrong_password_or_unknown_email_is_the_same_401(client):
    signup(client, "ada@example.com")
    for body in ({"email": "ada@example.com", "password": PASSWORD + "!"},
                 {"email": "nobody@example.com", "password": PASSWORD}):
        response = browser(client).post("/api/v1/auth/login", json=body)
        assert (response.status_code, response.json()) == (401, {"error": "email or password is wrong"})


def test_login_is_limited_per_email_then_per_ip(client, clock):
    signup(client, "ada@example.com")
    anonymous = browser(client)
    for _ in range(10):
        assert anonymous.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": "wrong one!"}
                              ).status_code == 401
    response = anonymous.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert response.json()["error"].startswith("too many attempts: 10 per 15 minutes")
    clock.advance(15 * 60)
    assert anonymous.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
                          ).status_code == 200


def test_login_is_limited_per_client_ip_across_emails(client):
    for number in range(10):
        browser(client).post("/api/v1/auth/login", json={"email": f"u{number}@example.com", "password": "x" * 10})
    response = browser(client).post("/api/v1/auth/login", json={"email": "new@example.com", "password": "x" * 10})
    assert response.status_code == 429


def test_session_without_a_cookie_or_with_a_dead_one_is_401(client):
    assert client.get("/api/v1/auth/session").status_code == 401
    client.cookies.set("pm_session", "made-up")
    response = client.get("/api/v1/auth/session")
    assert (response.status_code, response.json()) == (401, {"error": "the session has ended; log in again"})


def test_sessions_slide_for_30_days_of_use_and_end_after_30_idle_days(client, clock):
    signup(client, "ada@example.com")
    for _ in range(3):
        clock.advance(20 * 86400)
        response = client.get("/api/v1/auth/session")
        assert response.status_code == 200 and "pm_session=" in response.headers["set-cookie"]
    clock.advance(30 * 86400 + 1)
    assert client.get("/api/v1/auth/session").status_code == 401


# -- logout and CSRF -------------------------------------------------------------------------


def test_logout_needs_the_csrf_header_then_ends_the_session(client):
    csrf = signup(client, "ada@example.com")
    cookie = client.cookies["pm_session"]
    response = client.post("/api/v1/auth/logout")
    assert response.status_code == 403 and response.json()["error"].startswith("csrf: ")
    response = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": "wrong"})
    assert response.status_code == 403 and response.json()["error"].startswith("csrf: ")
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    replay = browser(client)
    replay.cookies.set("pm_session", cookie)
    assert replay.get("/api/v1/auth/session").status_code == 401


def test_every_state_changing_cookie_request_needs_the_csrf_header(client, site):
    csrf = signup(client, "ada@example.com")
    calls = [("post", "/api/v1/sites", {"domain": "ada.example"}), ("put", f"/api/v1/sites/{site.public_id}", {}),
             ("delete", f"/api/v1/sites/{site.public_id}", None),
             ("post", "/api/v1/query", {"site_id": site.public_id, "date_range": "7d", "metrics": ["visitors"]})]
    for method, path, body in calls:
        response = client.request(method, path, json=body)
        assert (response.status_code, response.json()["error"][:5]) == (403, "csrf:"), path
    response = client.post("/api/v1/sites", json={"domain": "ada.example"}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201


# -- password reset over SMTP ----------------------------------------------------------------


def test_the_reset_mail_arrives_and_its_link_works_once(client, inbox):
    signup(client, "ada@example.com")
    other_browser = browser(client)
    other_browser.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"}).status_code == 202
    [message] = inbox.messages
    assert message["To"] == "ada@example.com" and message["From"] == "stats@example.com"
    link = inbox.link(r"http://stats\.example\.com/reset-password\?token=\S+")
    token = link.split("token=")[1]
    new_password = "a brand new password"
    response = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": new_password})
    assert response.status_code == 204
    assert client.get("/api/v1/auth/session").status_code == 401  # every session ended
    assert other_browser.get("/api/v1/auth/session").status_code == 401
    again = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "another one!"})
    assert again.status_code == 400 and again.json()["error"].startswith("token: ")
    assert client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
                       ).status_code == 401
    assert client.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": new_password}
                       ).status_code == 200


def test_reset_answers_202_for_unknown_emails_and_sends_nothing(client, inbox):
    assert client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.com"}).status_code == 202
    assert inbox.messages == []


def test_a_reset_link_expires_after_an_hour(client, inbox, clock):
    signup(client, "ada@example.com")
    client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
    token = inbox.link(r"token=\S+").split("=", 1)[1]
    clock.advance(3601)
    response = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "long enough!"})
    assert response.status_code == 400


def test_reset_refuses_a_short_new_password_without_using_the_token(client, inbox):
    signup(client, "ada@example.com")
    client.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
    token = inbox.link(r"token=\S+").split("=", 1)[1]
    short = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "short"})
    assert short.status_code == 400 and short.json()["error"].startswith("password: ")
    ok = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "long enough!"})
    assert ok.status_code == 204


def test_reset_without_smtp_is_503(tmp_path, derived_data_dir, clock):
    settings = Settings(data_dir=tmp_path / "bare", cache_dir=derived_data_dir, ingest_rate_limit="")
    with TestClient(create_app(settings, clock=clock)) as bare:
        response = bare.post("/api/v1/auth/password-reset", json={"email": "ada@example.com"})
    assert response.status_code == 503 and "email is not configured" in response.json()["error"]


# -- the session reads stats -----------------------------------------------------------------


def test_the_session_cookie_reads_the_users_sites_stats_with_csrf(client, site):
    other = browser(client)
    other.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "correct horse"})
    csrf = other.get("/api/v1/auth/session").json()["csrf_token"]
    query = {"site_id": site.public_id, "date_range": "7d", "metrics": ["visitors"]}
    response = other.post("/api/v1/query", json=query, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200 and "X-RateLimit-Limit" in response.headers
    assert other.get("/api/v1/realtime", params={"site_id": site.public_id}).status_code == 200
    # another user's session: the same 404 as a site that does not exist
    csrf = signup(client, "mallory@example.com")
    response = client.post("/api/v1/query", json=query, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 404
    assert client.get("/api/v1/realtime", params={"site_id": site.public_id}).status_code == 404


def test_the_session_cookie_is_rate_limited_per_user_across_browsers(tmp_path, derived_data_dir, clock):
    settings = Settings(data_dir=tmp_path / "limited", cache_dir=derived_data_dir, api_rate_limit="3/minute")
    with TestClient(create_app(settings, clock=clock)) as first:
        signup(first, "ada@example.com")
        second = TestClient(first.app)
        second.post("/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
        statuses = [c.get("/api/v1/sites").status_code for c in (first, second, first, second)]
    assert statuses == [200, 200, 200, 429]
