"""The X integration against a local X API v2 (x_server.py): connected through the integrations API,
synced by the foundation's engine (`services.integrations`, with the time as a parameter), read back
through the annotations API; and posts added by URL without a token.

The app's own background job is kept off these integrations (another node holds its lease), so every
sync here is one the test asked for, at the time it says.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from postmetric.accounts.keys import create_account_token
from postmetric.accounts.users import create_user
from postmetric.app import create_app
from postmetric.config import Settings
from postmetric.integrations.x import FIRST_SNOWFLAKE, MAX_PAGES, default_query, snowflake_time
from postmetric.sites.members import accept_invitation, invite
from postmetric.sites.service import create_site
from postmetric.store.database import create_engine, session_factory
from postmetric.store.metadata import Annotation, Integration, JobLease

from factories import Clock
from postgres import migrate_like_head, postgres_schema
from x_server import Answer, XApi, fixture, x_api_server

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
TOKEN = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F"
FIRST_WEEK = fixture("search_recent.json")
NEXT_DAY = fixture("search_recent_next_day.json")
NEWEST = FIRST_WEEK["meta"]["newest_id"]


def populate(url: str) -> dict[str, str]:
    """The site example.com with account tokens of its owner and of a viewer, and the owner of another site;
    the integrations job's lease is another node's, for good. The tokens, by who holds them."""
    engine = create_engine(url)
    tokens = {}
    with session_factory(engine)() as session:
        owner = create_user(session, email="owner@example.com", password="correct horse")
        site = create_site(session, owner=owner, domain="example.com", timezone="UTC")
        viewer = create_user(session, email="viewer@example.com", password="correct horse")
        invitation = invite(session, site, email="viewer@example.com", role="viewer", acting_role="owner", now=NOW)[1]
        accept_invitation(session, token=invitation, user=viewer, now=NOW)
        stranger = create_user(session, email="owner@other.example", password="correct horse")
        create_site(session, owner=stranger, domain="other.example", timezone="UTC")
        for name, user in (("owner", owner), ("viewer", viewer), ("stranger", stranger)):
            tokens[name] = create_account_token(session, user=user, name="api")[1]
        session.add(JobLease(name="integrations", holder="another node", expires_at=NOW + timedelta(days=365)))
        session.commit()
    engine.dispose()
    return tokens


@pytest.fixture(scope="module")
def template(tmp_path_factory, migrated_sqlite) -> tuple[Path, dict[str, str]]:
    """A SQLite metadata file populated once (argon2 is slow), copied for each test."""
    path = tmp_path_factory.mktemp("x-metadata") / "metadata.sqlite"
    shutil.copyfile(migrated_sqlite, path)
    return path, populate(f"sqlite:///{path}")


@pytest.fixture
def x_api() -> XApi:
    api = XApi()
    api.tokens.add(TOKEN)
    return api


@pytest.fixture
def settings(tmp_path, derived_data_dir, x_api, template):
    with x_api_server(x_api) as url:
        settings = Settings(data_dir=tmp_path / "data", cache_dir=derived_data_dir, ingest_rate_limit="",
                            x_api_url=url)
        settings.ensure_data_dir()
        shutil.copyfile(template[0], settings.embedded_metadata_path)
        yield settings


@pytest.fixture
def client(settings, template):
    with TestClient(create_app(settings, clock=Clock(NOW.timestamp())),
                    headers={"Authorization": f"Bearer {template[1]['owner']}"}) as test_client:
        yield test_client


@pytest.fixture
def engine(client):
    return client.app.state.services.integrations


def connect(client, **body) -> dict:
    response = client.put("/api/v1/sites/example.com/integrations/x", json={"token": TOKEN} | body)
    assert response.status_code == 200, response.text
    return response.json()


def integration(client) -> dict:
    listed = client.get("/api/v1/sites/example.com/integrations").json()["integrations"]
    return next(item for item in listed if item["kind"] == "x")


def posts(client) -> dict[str, dict]:
    response = client.get("/api/v1/sites/example.com/annotations")
    assert response.status_code == 200, response.text
    return {item["external_id"]: item for item in response.json()["annotations"] if item["kind"] == "x"}


def test_the_first_sync_stores_the_weeks_posts_with_their_authors_and_metrics(client, engine, x_api):
    connected = connect(client, handle="@exampleapp")
    assert connected["config"] == {"query": None, "handle": "exampleapp"}
    assert connected["has_token"] is True and connected["state"] == "pending"

    assert engine.sync_due(NOW) == "1 ok"

    [request] = x_api.requests
    assert request.authorization == f"Bearer {TOKEN}"
    assert request.params == {
        "query": '("example.com" OR url:"example.com" OR @exampleapp) -is:retweet', "max_results": "100",
        "tweet.fields": "created_at,public_metrics,author_id", "expansions": "author_id",
        "user.fields": "username,name,profile_image_url"}
    stored = posts(client)
    assert set(stored) == {post["id"] for post in FIRST_WEEK["data"]}
    assert stored[NEWEST] | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0, "kind": "x", "time": "2026-12-05T09:01:44Z", "external_id": NEWEST,
        "text": "Week one numbers from example.com: 3.2k visitors, 41 signups, and I can finally see which posts "
                "sent them.",
        "url": f"https://x.com/adabuilds/status/{NEWEST}", "author": "@adabuilds",
        "details": {"post_id": NEWEST, "username": "adabuilds", "name": "Ada Builds",
                    "profile_image_url": "https://pbs.twimg.com/profile_images/1712345678901234567/AbCdEf12_normal.jpg",
                    "likes": 95, "reposts": 11, "replies": 17, "quotes": 3, "impressions": 15002},
        "created_at": "", "updated_at": ""}
    state = integration(client)
    assert (state["state"], state["summary"], state["last_synced_at"]) == ("ok", "5 new posts", "2026-12-07T12:00:00Z")
    assert state["next_sync_at"] == "2026-12-07T12:15:00Z"


def test_the_next_sync_asks_only_for_posts_newer_than_the_newest_seen(client, engine, x_api):
    connect(client)
    engine.sync_due(NOW)
    x_api.load("search_recent_next_day.json")

    assert engine.sync_due(NOW + timedelta(minutes=15)) == "1 ok"

    assert x_api.requests[-1].params["since_id"] == NEWEST
    assert x_api.requests[-1].params["query"] == '("example.com" OR url:"example.com") -is:retweet'
    assert len(posts(client)) == 7
    assert integration(client)["summary"] == "2 new posts"
    assert engine.sync_due(NOW + timedelta(minutes=30)) == "1 ok"
    assert x_api.requests[-1].params["since_id"] == NEXT_DAY["meta"]["newest_id"]
    assert integration(client)["summary"] == "no new posts"


def test_pages_are_followed_by_next_token_a_bounded_number_a_run_then_resumed(client, engine, x_api):
    x_api.load("search_recent_next_day.json")  # 7 posts
    x_api.page_limit = 1  # X may send fewer than max_results: here one post a page
    connect(client)

    engine.sync_due(NOW)

    assert len(x_api.requests) == MAX_PAGES == 5
    assert [("next_token" in request.params) for request in x_api.requests] == [False, True, True, True, True]
    assert len(posts(client)) == 5
    assert integration(client)["summary"] == "5 new posts; more on the next sync"

    engine.sync_due(NOW + timedelta(minutes=15))

    resumed = x_api.requests[5:]
    assert len(resumed) == 2 and all("next_token" in request.params and "since_id" not in request.params
                                     for request in resumed)
    assert len(posts(client)) == 7
    engine.sync_due(NOW + timedelta(minutes=30))
    assert x_api.requests[-1].params["since_id"] == NEXT_DAY["meta"]["newest_id"]  # the pass's newest, page one's


def test_a_daily_sweep_brings_the_metrics_of_known_posts_up_to_date_without_doubling_them(client, engine, x_api):
    connect(client)
    engine.sync_due(NOW)
    x_api.load("search_recent_next_day.json")
    later = NOW + timedelta(days=1, minutes=1)

    engine.sync_due(later)

    assert "since_id" not in x_api.requests[-1].params
    stored = posts(client)
    assert len(stored) == 7
    assert stored[NEWEST]["details"]["likes"] == 2 * 95 + 1
    assert stored[NEWEST]["details"]["impressions"] == 2 * 15002 + 1
    assert integration(client)["summary"] == "2 new posts, 5 updated"


def test_a_since_id_older_than_xs_seven_days_is_not_sent(client, engine, x_api):
    """No post for a week: the newest seen is too old for recent search (X answers 400 to it), though the
    daily sweep is not due."""
    written = snowflake_time(int(NEWEST))
    connect(client)
    engine.sync_due(NOW)
    engine.sync_due(written + timedelta(days=6))  # a sweep: nothing newer
    assert "since_id" not in x_api.requests[-1].params
    engine.sync_due(written + timedelta(days=6, hours=1))
    assert x_api.requests[-1].params["since_id"] == NEWEST

    engine.sync_due(written + timedelta(days=6, hours=13))

    assert "since_id" not in x_api.requests[-1].params
    assert integration(client)["state"] == "ok"


def test_a_429_waits_for_the_reset_time_then_the_sync_resumes(client, engine, x_api):
    connect(client)
    reset = NOW + timedelta(minutes=9, seconds=30)
    x_api.script.append(Answer(429, fixture("error_429.json"), {
        "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(reset.timestamp()))}))

    assert engine.sync_due(NOW) == "1 rate_limited"

    state = integration(client)
    assert state["state"] == "rate_limited"
    assert state["next_sync_at"] == "2026-12-07T12:09:30Z"
    assert state["message"].startswith("rate limited by X until 12:09 UTC")
    assert engine.sync_due(reset - timedelta(seconds=1)) == "nothing due"
    assert len(x_api.requests) == 1

    assert engine.sync_due(reset) == "1 ok"

    assert len(posts(client)) == 5
    assert integration(client)["state"] == "ok"


def test_a_429_without_its_reset_header_waits_xs_15_minute_window(client, engine, x_api):
    connect(client)
    x_api.script.append(Answer(429, fixture("error_429.json"), {"x-rate-limit-reset": "soon"}))

    assert engine.sync_due(NOW) == "1 rate_limited"

    assert integration(client)["next_sync_at"] == "2026-12-07T12:15:00Z"


@pytest.mark.parametrize("body", [{"data": {"id": "1"}}, {"data": [{"id": "1", "text": "no time"}]},
                                  {"data": [], "includes": {"users": "nobody"}}])
def test_an_answer_that_is_not_a_search_result_is_retried(client, engine, x_api, body):
    connect(client)
    x_api.script.append(Answer(200, body))

    assert engine.sync_due(NOW) == "1 error"

    state = integration(client)
    assert state["message"].startswith("X answered with")
    assert state["next_sync_at"] == "2026-12-07T12:01:00Z"
    assert posts(client) == {}


def test_a_revoked_token_stops_the_sync_until_a_new_one_is_given(client, engine, x_api):
    connect(client)
    x_api.tokens.clear()

    assert engine.sync_due(NOW) == "1 token_rejected"

    state = integration(client)
    assert state["next_sync_at"] is None
    assert "X rejected the bearer token" in state["message"]
    assert engine.sync_due(NOW + timedelta(days=1)) == "nothing due"
    fresh = "B" * 60
    x_api.tokens.add(fresh)
    assert connect(client, token=fresh)["state"] == "pending"
    assert engine.sync_due(NOW) == "1 ok"
    assert x_api.requests[-1].authorization == f"Bearer {fresh}"


def test_a_5xx_is_retried_with_backoff(client, engine, x_api):
    connect(client)
    x_api.script.extend([Answer(503, fixture("error_503.json")), Answer(503, fixture("error_503.json"))])

    assert engine.sync_due(NOW) == "1 error"
    assert integration(client)["next_sync_at"] == "2026-12-07T12:01:00Z"
    assert engine.sync_due(NOW + timedelta(minutes=1)) == "1 error"
    state = integration(client)
    assert state["next_sync_at"] == "2026-12-07T12:03:00Z"
    assert state["message"] == "X answered 503 (X said: Service Unavailable)"

    assert engine.sync_due(NOW + timedelta(minutes=3)) == "1 ok"
    assert len(posts(client)) == 5


def test_an_access_level_without_search_says_so(client, engine, x_api):
    connect(client)
    x_api.script.append(Answer(403, fixture("error_403_client_not_enrolled.json")))

    assert engine.sync_due(NOW) == "1 forbidden"

    state = integration(client)
    assert "access level includes recent search (Basic or above)" in state["message"]
    assert "attached to a Project" in state["message"]
    assert state["next_sync_at"] is None


def test_a_query_x_refuses_is_a_clear_config_error(client, engine, x_api):
    connect(client, query='("example.com" OR')

    assert engine.sync_due(NOW) == "1 forbidden"

    message = integration(client)["message"]
    assert message.startswith("X refused the search query '(\"example.com\" OR': correct it in the X settings")
    assert "mismatched input" in message


def test_a_200_with_partial_errors_keeps_the_posts_without_their_author(client, engine, x_api):
    x_api.partial_errors = fixture("partial_errors.json")["errors"][0]  # @devtoolsweekly is suspended
    connect(client)

    engine.sync_due(NOW)

    stored = posts(client)
    assert len(stored) == 5
    [orphan] = [post for post in stored.values() if post["author"] is None]
    assert orphan["url"] == f"https://x.com/i/web/status/{orphan['external_id']}"
    assert integration(client)["summary"] == "5 new posts, 1 without their author (X left them out)"


def test_the_token_is_sealed_at_rest_and_never_returned(client, engine, settings):
    connected = connect(client)

    assert TOKEN not in str(connected) and TOKEN not in client.get("/api/v1/sites/example.com/integrations").text
    with client.app.state.services.metadata() as session:
        stored = session.scalar(select(Integration.token).where(Integration.kind == "x"))
    assert stored and TOKEN not in stored
    assert TOKEN.encode() not in settings.embedded_metadata_path.read_bytes()
    assert engine.sync_due(NOW) == "1 ok"  # and it opens for the sync


@pytest.mark.parametrize(("body", "error"), [
    ({"query": "x" * 513, "token": TOKEN}, "query: must be an X search query of at most 512 characters"),
    ({"query": "a\nb", "token": TOKEN}, "query: must be an X search query"),
    ({"handle": "not a handle", "token": TOKEN}, "handle: must be an X username"),
    ({"handle": "@sixteen_letters_", "token": TOKEN}, "handle: must be an X username"),
    ({"handle": 42, "token": TOKEN}, "handle: must be an X username"),
    ({"token": "short"}, "token: must be the app's Bearer Token"),
    ({"token": "two words " + "A" * 30}, "token: must be the app's Bearer Token"),
    ({}, "token: an X API bearer token is needed"),
    ({"token": TOKEN, "repository": "a/b"}, "repository: is not an X setting"),
])
def test_a_bad_connect_body_is_a_400_naming_the_field(client, body, error):
    response = client.put("/api/v1/sites/example.com/integrations/x", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(error)
    assert integration(client)["connected"] is False


def test_a_connection_keeps_its_token_when_none_is_given_and_a_new_query_starts_over(client, engine, x_api):
    connect(client)
    engine.sync_due(NOW)

    changed = client.put("/api/v1/sites/example.com/integrations/x", json={"query": "postmetric -is:retweet"})

    assert changed.status_code == 200 and changed.json()["has_token"] is True
    engine.sync_due(NOW + timedelta(minutes=1))
    assert x_api.requests[-1].params["query"] == "postmetric -is:retweet"
    assert "since_id" not in x_api.requests[-1].params
    assert x_api.requests[-1].authorization == f"Bearer {TOKEN}"


def test_a_post_added_by_url_takes_its_time_from_the_snowflake_and_a_sync_completes_it(client, engine):
    url = f"https://mobile.twitter.com/adabuilds/status/{NEWEST}?s=20&t=abc"

    response = client.post("/api/v1/sites/example.com/integrations/x/posts", json={"url": url})

    assert response.status_code == 201, response.text
    added = response.json()
    assert (added["kind"], added["time"], added["author"], added["url"], added["text"]) == (
        "x", "2026-12-05T09:01:44Z", "@adabuilds", f"https://x.com/adabuilds/status/{NEWEST}",
        "Post by @adabuilds on X")
    assert added["time"] == FIRST_WEEK["data"][0]["created_at"].replace(".000", "")  # X's own time for it
    again = client.post("/api/v1/sites/example.com/integrations/x/posts",
                        json={"url": f"https://twitter.com/adabuilds/status/{NEWEST}", "text": "Ada's numbers"})
    assert again.status_code == 200 and again.json()["id"] == added["id"]

    connect(client)
    engine.sync_due(NOW)

    stored = posts(client)
    assert len(stored) == 5 and stored[NEWEST]["id"] == added["id"]
    assert stored[NEWEST]["details"]["likes"] == 95


@pytest.mark.parametrize("url", [
    "https://example.com/adabuilds/status/2129139143668678663",
    "https://x.com.evil.test/adabuilds/status/2129139143668678663",
    "https://evil.test/x.com/adabuilds/status/2129139143668678663",
    "ftp://x.com/adabuilds/status/2129139143668678663",
    "https://x.com:8443/adabuilds/status/2129139143668678663",
    "https://someone@x.com/adabuilds/status/2129139143668678663",
    "https://x.com/adabuilds",
    "https://x.com/adabuilds/status/",
    "https://x.com/adabuilds/status/12ab",
    "https://x.com/adabuilds/status/99999999999999999999",
    "https://x.com/a_name_far_too_long/status/2129139143668678663",
    "https://x.com/adabuilds/status/20",  # a counter id from 2006: no time in it
    f"https://x.com/adabuilds/status/{(int((NOW + timedelta(days=30)).timestamp() * 1000) - 1288834974657) << 22}",
    "x.com/adabuilds/status/2129139143668678663",
    "https://x.com/adabuilds/status/2129139143668678663 \n",
    "https://x.com/" + "a/" * 2000,
    "",
    42,
    None,
])
def test_a_url_that_is_not_a_post_on_x_is_a_400(client, url):
    response = client.post("/api/v1/sites/example.com/integrations/x/posts", json={"url": url})
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("url: ")
    assert posts(client) == {}


def test_a_post_body_with_an_unknown_field_or_a_bad_note_is_a_400(client):
    path = "/api/v1/sites/example.com/integrations/x/posts"
    url = f"https://x.com/adabuilds/status/{NEWEST}"
    assert client.post(path, json={"url": url, "time": "2026-12-01T00:00:00Z"}).json()["error"].startswith("time: ")
    assert client.post(path, json={"url": url, "text": "x" * 501}).json()["error"].startswith("text: ")
    assert client.post(path, json=[url]).status_code == 400


def test_only_owners_and_admins_add_posts_and_another_sites_owner_cannot_see_the_site(client, template):
    path = "/api/v1/sites/example.com/integrations/x/posts"
    body = {"url": f"https://x.com/adabuilds/status/{NEWEST}"}

    as_viewer = client.post(path, json=body, headers={"Authorization": f"Bearer {template[1]['viewer']}"})
    as_stranger = client.post(path, json=body, headers={"Authorization": f"Bearer {template[1]['stranger']}"})

    assert as_viewer.status_code == 403 and "add posts on X" in as_viewer.json()["error"]
    assert as_stranger.status_code == 404
    assert posts(client) == {}


def test_disconnecting_with_its_data_deletes_the_posts_and_the_token(client, engine):
    connect(client)
    engine.sync_due(NOW)
    client.post("/api/v1/sites/example.com/integrations/x/posts",
                json={"url": "https://x.com/someone/status/2129000000000000000"})
    client.post("/api/v1/sites/example.com/annotations", json={"time": "2026-12-01T00:00:00Z", "text": "Launch"})

    assert client.delete("/api/v1/sites/example.com/integrations/x?delete_data=true").status_code == 204

    assert posts(client) == {}
    with client.app.state.services.metadata() as session:
        assert session.scalar(select(Integration).where(Integration.kind == "x")) is None
        assert [a.kind for a in session.scalars(select(Annotation))] == ["note"]


def test_snowflake_times_and_the_default_query():
    # X's documented example post, "created_at": "Wed Oct 10 20:19:24 +0000 2018"
    assert snowflake_time(1050118621198921728) == datetime(2018, 10, 10, 20, 19, 24, 211000, tzinfo=timezone.utc)
    assert snowflake_time(FIRST_SNOWFLAKE) == datetime(2010, 11, 4, 1, 43, 54, 657000, tzinfo=timezone.utc)
    assert default_query("example.com", None) == '("example.com" OR url:"example.com") -is:retweet'


@pytest.mark.postgres
def test_on_postgresql_posts_are_synced_added_by_url_and_deleted(tmp_path, derived_data_dir, x_api):
    with postgres_schema() as url, x_api_server(x_api) as x_url:
        database = create_engine(url)
        migrate_like_head(database)
        database.dispose()
        tokens = populate(url)
        settings = Settings(data_dir=tmp_path / "data", cache_dir=derived_data_dir, ingest_rate_limit="",
                            database_url=url, x_api_url=x_url)
        with TestClient(create_app(settings, clock=Clock(NOW.timestamp())),
                        headers={"Authorization": f"Bearer {tokens['owner']}"}) as client:
            engine = client.app.state.services.integrations
            connect(client)
            assert engine.sync_due(NOW) == "1 ok"
            x_api.load("search_recent_next_day.json")
            assert engine.sync_due(NOW + timedelta(days=1, minutes=1)) == "1 ok"
            added = client.post("/api/v1/sites/example.com/integrations/x/posts",
                                json={"url": "https://x.com/someone/status/2129000000000000000"})
            again = client.post("/api/v1/sites/example.com/integrations/x/posts",
                                json={"url": f"https://x.com/adabuilds/status/{NEWEST}"})

            assert (added.status_code, again.status_code) == (201, 200)
            stored = posts(client)
            assert len(stored) == 8 and stored[NEWEST]["details"]["likes"] == 2 * 95 + 1
            assert client.delete("/api/v1/sites/example.com/integrations/x?delete_data=true").status_code == 204
            assert posts(client) == {}
