"""Search Console end to end: the app in-process, Google as a local server (google_server.py) over
real HTTP, a DuckDB event store and a SQLite metadata database in a temp dir. The app's clock and
the test server's are the test's; nothing sleeps."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from google_server import MAX_ROW_LIMIT, GoogleServer, daily_rows, recorded_rows
from live_app import serving
from factories import Clock, hold_integrations_job
from postmetric.app import create_app
from postmetric.config import Settings
from postmetric.integrations import google_oauth
from postmetric.integrations.connections import disconnect
from postmetric.integrations.registry import PROVIDERS
from postmetric.integrations.search_console import HISTORY_MONTHS, ROW_LIMIT, months_before
from postmetric.secrets_box import is_sealed
from postmetric.store.metadata import Integration

PASSWORD = "correct horse battery"
# 2026-12-07 18:00 UTC is 10:00 on 2026-12-07 in Pacific time: Google's "today".
NOW = datetime(2026, 12, 7, 18, 0, tzinfo=timezone.utc)
TODAY = date(2026, 12, 7)
PROPERTY = "sc-domain:example.com"


@pytest.fixture
def google():
    server = GoogleServer()
    with serving(server.app) as base_url:
        server.base_url = base_url
        server.now = NOW
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW.timestamp())


@pytest.fixture
def settings(tmp_path, derived_data_dir, google) -> Settings:
    return Settings(data_dir=tmp_path / "data", cache_dir=derived_data_dir, ingest_rate_limit="", api_rate_limit="",
                    signup="open", secret_key="search console test secret key", base_url="https://analytics.example.org",
                    google_api_url=google.base_url, google_oauth_url=google.base_url,
                    google_token_url=google.token_url, google_client_id=google.client_id,
                    google_client_secret=google.client_secret)


class App:
    """The app with a signed-up owner (the client keeps the session cookie) and one site."""

    def __init__(self, client: TestClient, csrf: str, site: dict) -> None:
        self.client, self.csrf, self.site = client, csrf, site
        self.base = f"/api/v1/sites/{site['id']}/integrations"

    @property
    def services(self):
        return self.client.app.state.services

    def put(self, body: dict) -> httpx.Response:
        return self.client.put(f"{self.base}/search_console", json=body, headers={"X-CSRF-Token": self.csrf})

    def sync(self) -> dict:
        response = self.client.post(f"{self.base}/search_console/sync", headers={"X-CSRF-Token": self.csrf})
        assert response.status_code == 200, response.text
        return response.json()

    def integration(self) -> dict:
        listed = self.client.get(self.base).json()["integrations"]
        return next(i for i in listed if i["kind"] == "search_console")

    def stored_row(self) -> Integration:
        with self.services.metadata() as session:
            return session.scalar(select(Integration).where(Integration.kind == "search_console"))

    def search_rows(self) -> list[dict]:
        return self.services.events.fetch(
            "SELECT day, query, page, path, country, device, clicks, impressions, position FROM search_console "
            "ORDER BY day, query, page, country, device")

    def connect_with_google(self, google: GoogleServer) -> httpx.Response:
        """The browser's round trip: authorize → Google's consent (auto-approved) → the callback."""
        to_google = self.client.get(f"{self.base}/search_console/authorize", follow_redirects=False)
        assert to_google.status_code == 302, to_google.text
        back = httpx.get(to_google.headers["location"], follow_redirects=False)
        assert back.status_code == 302, back.text
        callback = urlsplit(back.headers["location"])
        assert callback.netloc == "analytics.example.org"
        return self.client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def signed_up(client: TestClient, email: str) -> str:
    response = client.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return response.json()["csrf_token"]


@pytest.fixture
def app(settings, clock):
    hold_integrations_job(settings)
    with TestClient(create_app(settings, clock=clock), base_url="https://analytics.example.org") as client:
        csrf = signed_up(client, "owner@example.com")
        site = client.post("/api/v1/sites", json={"domain": "example.com", "timezone": "UTC"},
                           headers={"X-CSRF-Token": csrf})
        assert site.status_code == 201, site.text
        yield App(client, csrf, site.json())


def connected_by_oauth(app: App, google: GoogleServer, chosen: str = PROPERTY) -> None:
    assert app.connect_with_google(google).status_code == 303
    assert app.put({"property": chosen}).status_code == 200


# -- OAuth ---------------------------------------------------------------------------------------------

def test_connect_with_google_stores_the_refresh_token_sealed_and_waits_for_a_property(app, google):
    response = app.connect_with_google(google)
    assert response.status_code == 303
    assert response.headers["location"] == f"/sites/{app.site['id']}/settings/integrations"
    authorize = next(r for r in google.requests if r.path == "/o/oauth2/v2/auth").query
    assert authorize["scope"] == google_oauth.SCOPE
    assert authorize["access_type"] == "offline" and authorize["prompt"] == "consent"
    assert authorize["code_challenge_method"] == "S256"
    assert authorize["redirect_uri"] == "https://analytics.example.org/integrations/google/callback"

    [refresh_token] = google.refresh_tokens
    row = app.stored_row()
    assert is_sealed(row.token) and refresh_token not in row.token
    assert app.services.secret_box.open(row.token, context=f"integrations.token:{row.site_id}:search_console") \
        == refresh_token
    shown = app.integration()
    assert shown["connected"] and shown["has_token"]
    assert shown["config"] == {"auth": "oauth", "property": None}
    assert shown["message"] == "choose a Search Console property" and shown["next_sync_at"] is None
    assert refresh_token not in json.dumps(shown)


def test_a_forged_state_changes_nothing(app, google):
    to_google = app.client.get(f"{app.base}/search_console/authorize", follow_redirects=False)
    state = parse_qs(urlsplit(to_google.headers["location"]).query)["state"][0]
    body, _, signature = state.partition(".")
    forged_body = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    for forged in (f"{forged_body}.{signature}", "not-a-state", f"{body}.", ""):
        response = app.client.get(f"/integrations/google/callback?code=4/0Aabc&state={forged}", follow_redirects=False)
        assert response.status_code == 400
        assert "Nothing was changed" in response.text
    assert app.stored_row() is None
    assert not any(r.path == "/token" for r in google.requests)


def test_an_expired_state_changes_nothing(app, google, clock):
    to_google = app.client.get(f"{app.base}/search_console/authorize", follow_redirects=False)
    back = httpx.get(to_google.headers["location"], follow_redirects=False)
    clock.advance(google_oauth.STATE_LIFETIME.total_seconds() + 1)
    callback = urlsplit(back.headers["location"])
    response = app.client.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert response.status_code == 400 and "older than 15 minutes" in response.text
    assert app.stored_row() is None


def test_another_users_state_changes_nothing(app, google, settings):
    to_google = app.client.get(f"{app.base}/search_console/authorize", follow_redirects=False)
    back = httpx.get(to_google.headers["location"], follow_redirects=False)
    callback = urlsplit(back.headers["location"])
    other = TestClient(app.client.app, base_url="https://analytics.example.org")  # another browser, same app
    signed_up(other, "someone-else@example.com")
    response = other.get(f"{callback.path}?{callback.query}", follow_redirects=False)
    assert response.status_code == 400 and "another user" in response.text
    anonymous = TestClient(app.client.app, base_url="https://analytics.example.org")
    assert anonymous.get(f"{callback.path}?{callback.query}", follow_redirects=False).status_code == 400
    assert app.stored_row() is None


def test_a_replayed_callback_changes_nothing(app, google):
    to_google = app.client.get(f"{app.base}/search_console/authorize", follow_redirects=False)
    back = urlsplit(httpx.get(to_google.headers["location"], follow_redirects=False).headers["location"])
    assert app.client.get(f"{back.path}?{back.query}", follow_redirects=False).status_code == 303
    sealed = app.stored_row().token
    again = app.client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert again.status_code == 400 and "refused the authorization code" in again.text
    assert app.stored_row().token == sealed


def test_viewers_cannot_connect_or_list_properties(app, google):
    assert app.connect_with_google(google).status_code == 303
    invited = app.client.post(f"/api/v1/sites/{app.site['id']}/members",
                              json={"email": "viewer@example.com", "role": "viewer"}, headers={"X-CSRF-Token": app.csrf})
    assert invited.status_code in (200, 201), invited.text
    token = invited.json()["url"].rsplit("/invitations/", 1)[1]
    viewer = TestClient(app.client.app, base_url="https://analytics.example.org")
    csrf = signed_up(viewer, "viewer@example.com")
    assert viewer.post(f"/api/v1/invitations/{token}/accept", headers={"X-CSRF-Token": csrf}).status_code == 200
    for path in ("authorize", "properties", "oauth"):
        response = viewer.get(f"{app.base}/search_console/{path}", follow_redirects=False)
        assert response.status_code == 403, path
    # A state the owner started does not let the viewer finish it either.
    to_google = app.client.get(f"{app.base}/search_console/authorize", follow_redirects=False)
    back = urlsplit(httpx.get(to_google.headers["location"], follow_redirects=False).headers["location"])
    assert viewer.get(f"{back.path}?{back.query}", follow_redirects=False).status_code == 400


def test_a_refusal_at_google_changes_nothing(app, google):
    google.deny_next_consent()
    response = app.connect_with_google(google)
    assert response.status_code == 400 and "access_denied" in response.text
    assert app.stored_row() is None


def test_authorize_needs_a_configured_client_and_a_manager(tmp_path, derived_data_dir, google, clock):
    unconfigured = Settings(data_dir=tmp_path / "data", cache_dir=derived_data_dir, ingest_rate_limit="",
                            secret_key="k" * 32, google_api_url=google.base_url, google_oauth_url=google.base_url,
                            google_token_url=google.token_url)
    with TestClient(create_app(unconfigured, clock=clock), base_url="https://analytics.example.org") as client:
        csrf = signed_up(client, "owner@example.com")
        site = client.post("/api/v1/sites", json={"domain": "example.com"}, headers={"X-CSRF-Token": csrf}).json()
        response = client.get(f"/api/v1/sites/{site['id']}/integrations/search_console/authorize",
                              follow_redirects=False)
        assert response.status_code == 409
        assert "POSTMETRIC_GOOGLE_CLIENT_ID" in response.json()["error"]
        setup = client.get(f"/api/v1/sites/{site['id']}/integrations/search_console/oauth").json()
        assert setup == {"configured": False, "redirect_uri": "http://127.0.0.1:8000/integrations/google/callback"}


# -- Properties -----------------------------------------------------------------------------------------

def test_properties_lists_what_the_authorization_may_read(app, google):
    assert app.connect_with_google(google).status_code == 303
    response = app.client.get(f"{app.base}/search_console/properties")
    assert response.status_code == 200, response.text
    assert response.json() == {"properties": [
        {"site_url": "sc-domain:example.com", "permission_level": "siteOwner"},
        {"site_url": "https://blog.example.com/", "permission_level": "siteRestrictedUser"},
        {"site_url": "https://www.example.com/", "permission_level": "siteFullUser"},
    ]}


def test_properties_before_connecting_is_a_conflict(app):
    response = app.client.get(f"{app.base}/search_console/properties")
    assert response.status_code == 409 and "not connected" in response.json()["error"]


def test_a_property_must_be_a_domain_or_url_prefix(app, google):
    assert app.connect_with_google(google).status_code == 303
    for wrong in ("example.com", "sc-domain:", "ftp://example.com/", "https://www.example.com", 42, "x" * 600):
        response = app.put({"property": wrong})
        assert response.status_code == 400 and response.json()["error"].startswith("property:"), wrong
    assert app.put({"property": "https://www.example.com/"}).status_code == 200


# -- Service account -------------------------------------------------------------------------------------

def test_a_service_account_key_signs_a_jwt_the_token_endpoint_verifies(app, google):
    account = google.add_service_account()
    google.rows[PROPERTY] = daily_rows(TODAY - timedelta(days=1), TODAY)
    key_text = json.dumps(account.key_json(google.token_url))
    response = app.put({"service_account_key": key_text, "property": PROPERTY})
    assert response.status_code == 200, response.text
    assert response.json()["config"] == {"auth": "service_account", "client_email": account.client_email,
                                         "property": PROPERTY}
    row = app.stored_row()
    assert is_sealed(row.token) and "PRIVATE KEY" not in row.token

    synced = app.sync()
    assert synced["state"] == "ok", synced["message"]
    [grant] = [r.form for r in google.requests if r.path == "/token"]
    assert grant["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert len(app.search_rows()) == 2 * len(recorded_rows())


def test_a_key_signed_by_another_private_key_is_refused(app, google):
    account = google.add_service_account()
    impostor = GoogleServer().add_service_account(account.client_email)  # same email, another key pair
    assert app.put({"service_account_key": impostor.key_json(google.token_url), "property": PROPERTY}).status_code == 200
    synced = app.sync()
    assert synced["state"] == "token_rejected"
    assert account.client_email in synced["message"]
    assert app.search_rows() == []


def test_a_malformed_key_is_a_400_naming_the_field(app):
    for wrong in ("{not json", {"type": "authorized_user"}, {"type": "service_account", "client_email": "a@b"},
                  {"type": "service_account", "client_email": "a@b", "private_key_id": "1",
                   "private_key": "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"}):
        response = app.put({"service_account_key": wrong})
        assert response.status_code == 400, wrong
        assert response.json()["error"].startswith("service_account_key:")
    assert app.put({"property": PROPERTY}).status_code == 400  # no authorization yet
    assert app.put({"token": "x"}).status_code == 400


# -- Sync ------------------------------------------------------------------------------------------------

def test_first_sync_covers_sixteen_months_a_day_at_a_time(app, google):
    earliest = months_before(TODAY, HISTORY_MONTHS)
    google.rows[PROPERTY] = daily_rows(TODAY - timedelta(days=2), TODAY)
    connected_by_oauth(app, google)
    synced = app.sync()
    assert synced["state"] == "ok", synced["message"]

    queries = google.queries()
    assert [q["startDate"] for q in queries][0] == earliest.isoformat() == "2025-08-07"
    assert queries[-1]["startDate"] == queries[-1]["endDate"] == TODAY.isoformat()
    assert len(queries) == (TODAY - earliest).days + 1
    assert {(q["rowLimit"], q["startRow"], q["dataState"]) for q in queries} == {(25_000, 0, "all")}
    assert queries[0]["dimensions"] == ["date", "query", "page", "country", "device"]

    rows = app.search_rows()
    assert len(rows) == 3 * len(recorded_rows())
    first = rows[0]
    assert {k: first[k] for k in ("day", "query", "page", "path", "country", "device", "clicks", "impressions")} == {
        "day": TODAY - timedelta(days=2), "query": "plausible alternative",
        "page": "https://blog.example.com/posts/alternatives?ref=1", "path": "/posts/alternatives",
        "country": "FR", "device": "tablet", "clicks": 3, "impressions": 140}
    assert first["position"] == pytest.approx(8.9)
    assert {r["country"] for r in rows} == {"US", "DE", "GB", "FR", ""}  # "zzz" is unknown
    assert {r["device"] for r in rows} == {"desktop", "mobile", "tablet"}
    assert "search rows" in synced["summary"]


def test_the_next_sync_starts_three_days_back_and_replaces_them(app, google, clock):
    google.rows[PROPERTY] = daily_rows(TODAY - timedelta(days=5), TODAY)
    connected_by_oauth(app, google)
    assert app.sync()["state"] == "ok"
    before = len(app.search_rows())

    # A day later Google has revised its last days (twice the clicks) and has a new day.
    clock.advance(24 * 3600)
    google.now = NOW + timedelta(days=1)
    tomorrow = TODAY + timedelta(days=1)
    google.rows[PROPERTY] = (daily_rows(TODAY - timedelta(days=5), TODAY - timedelta(days=3))
                             + daily_rows(TODAY - timedelta(days=2), tomorrow, scale=2))
    sent = len(google.queries())
    assert app.sync()["state"] == "ok"
    again = [q["startDate"] for q in google.queries()[sent:]]
    assert again == [(TODAY - timedelta(days=n)).isoformat() for n in (2, 1, 0)] + [tomorrow.isoformat()]

    rows = app.search_rows()
    per_day = len(recorded_rows())
    assert len(rows) == before + per_day  # the re-synced days replaced, not doubled
    clicks = {}
    for row in rows:
        clicks[row["day"]] = clicks.get(row["day"], 0) + row["clicks"]
    total = sum(r["clicks"] for r in recorded_rows())
    assert clicks[TODAY - timedelta(days=3)] == total
    assert clicks[TODAY - timedelta(days=2)] == clicks[tomorrow] == 2 * total


def test_a_day_of_more_than_25000_rows_is_paged(app, google):
    many = [{"date": TODAY.isoformat(), "query": f"query {n}", "page": "https://www.example.com/", "country": "usa",
             "device": "MOBILE", "clicks": 1, "impressions": 10, "position": 2.0} for n in range(ROW_LIMIT + 7)]
    google.rows[PROPERTY] = many
    connected_by_oauth(app, google)
    assert app.sync()["state"] == "ok"
    today = [q for q in google.queries() if q["startDate"] == TODAY.isoformat()]
    assert [q["startRow"] for q in today] == [0, ROW_LIMIT]
    assert len(app.search_rows()) == ROW_LIMIT + 7
    assert ROW_LIMIT == MAX_ROW_LIMIT


def test_a_rate_limit_waits_and_the_sync_resumes_after_it(app, google, clock):
    google.rows[PROPERTY] = daily_rows(TODAY, TODAY)
    connected_by_oauth(app, google)
    google.fail_next("searchAnalytics", 429, "error_429.json")
    synced = app.sync()
    assert synced["state"] == "rate_limited"
    assert "quota" in synced["message"]
    assert synced["next_sync_at"] == "2026-12-07T18:15:00Z"
    assert app.search_rows() == []

    clock.advance(15 * 60)
    report = app.services.integrations.sync_due(datetime.fromtimestamp(clock(), timezone.utc))
    assert report == "1 ok"
    assert len(app.search_rows()) == len(recorded_rows())


def test_a_revoked_refresh_token_asks_to_reconnect(app, google):
    connected_by_oauth(app, google)
    [refresh_token] = google.refresh_tokens
    google.revoke(refresh_token)
    synced = app.sync()
    assert synced["state"] == "token_rejected"
    assert synced["message"] == "the Google authorization was revoked — reconnect"
    assert synced["next_sync_at"] is None


def test_a_property_the_account_cannot_read_is_forbidden(app, google):
    google.forbidden.add(PROPERTY)
    connected_by_oauth(app, google)
    synced = app.sync()
    assert synced["state"] == "forbidden"
    assert "sufficient permission" in synced["message"]


def test_a_google_5xx_is_retried_with_backoff(app, google, clock):
    google.rows[PROPERTY] = daily_rows(TODAY, TODAY)
    connected_by_oauth(app, google)
    google.fail_next("searchAnalytics", 500, "error_500.json")
    synced = app.sync()
    assert synced["state"] == "error"
    assert "500" in synced["message"] and "Internal error" in synced["message"]
    assert synced["next_sync_at"] == "2026-12-07T18:01:00Z"
    clock.advance(60)
    assert app.services.integrations.sync_due(datetime.fromtimestamp(clock(), timezone.utc)) == "1 ok"


def test_a_rotated_refresh_token_is_stored_sealed(app, google):
    connected_by_oauth(app, google)
    [first] = google.refresh_tokens
    google.rotate_refresh_tokens = True
    assert app.sync()["state"] == "ok"
    [second] = google.refresh_tokens - {first}
    row = app.stored_row()
    assert app.services.secret_box.open(row.token, context=f"integrations.token:{row.site_id}:search_console") \
        == second
    google.rotate_refresh_tokens = False
    assert app.sync()["state"] == "ok"  # the new token works; the old one is revoked at Google


def test_changing_the_property_starts_over(app, google):
    google.rows[PROPERTY] = daily_rows(TODAY, TODAY)
    google.rows["https://www.example.com/"] = daily_rows(TODAY - timedelta(days=1), TODAY - timedelta(days=1))
    connected_by_oauth(app, google)
    assert app.sync()["state"] == "ok"
    assert app.put({"property": "https://www.example.com/"}).status_code == 200
    assert app.sync()["state"] == "ok"
    assert {r["day"] for r in app.search_rows()} == {TODAY - timedelta(days=1)}
    sent = google.queries()[-((TODAY - months_before(TODAY, HISTORY_MONTHS)).days + 1)]
    assert sent["startDate"] == months_before(TODAY, HISTORY_MONTHS).isoformat()


def test_disconnecting_with_delete_data_forgets_the_rows_and_the_token(app, google):
    google.rows[PROPERTY] = daily_rows(TODAY, TODAY)
    connected_by_oauth(app, google)
    assert app.sync()["state"] == "ok"
    response = app.client.delete(f"{app.base}/search_console?delete_data=true", headers={"X-CSRF-Token": app.csrf})
    assert response.status_code == 204
    assert app.stored_row() is None
    assert app.search_rows() == []


def test_a_disconnect_during_the_sync_is_not_undone_by_it(app, google):
    google.rows[PROPERTY] = daily_rows(TODAY - timedelta(days=3), TODAY)
    connected_by_oauth(app, google)
    site_id = app.stored_row().site_id
    google.before_query = lambda body: disconnect(
        app.services.metadata, app.services.events, site_id, PROVIDERS, "search_console", delete_data=True)
    response = app.client.post(f"{app.base}/search_console/sync", headers={"X-CSRF-Token": app.csrf})
    assert response.status_code == 200 and response.json()["connected"] is False
    assert app.stored_row() is None
    assert app.search_rows() == []
    assert len(google.queries()) == 1  # the sync stopped at its next day
