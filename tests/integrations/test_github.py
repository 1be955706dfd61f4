"""The GitHub integration against a local GitHub API (github_server.py), through the sync engine and
the integrations routes, on SQLite and PostgreSQL: first and incremental syncs, paging through
`Link`, 304 reuse, line counts, releases, rate limits (the engine resumes after the reset, the clock
advanced, never a sleep), a revoked token, 403/404, a 5xx backing off, one sync across two nodes,
the token sealed at rest, and what a connect body may hold.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from starlette.testclient import TestClient

from postmetric.accounts.keys import create_account_token
from postmetric.accounts.users import create_user
from postmetric.app import create_app
from postmetric.config import Settings
from postmetric.errors import ValidationError
from postmetric.integrations.connections import connect
from postmetric.integrations.github import PROVIDER, STATS_PER_RUN_WITHOUT_TOKEN
from postmetric.integrations.registry import PROVIDERS
from postmetric.integrations.sync import IntegrationSync
from postmetric.sites.service import create_site
from postmetric.store.database import create_engine, session_factory
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.store.metadata import Annotation, Integration, Site

from factories import Clock, hold_integrations_job
from github_server import GitHubFake, Repository

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
TOKEN = "github_pat_11AAAAAAA0123456789_abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = "a secret key for the GitHub integration tests"


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW.timestamp())


@pytest.fixture
def github(clock) -> Iterator[GitHubFake]:
    fake = GitHubFake(clock)
    fake.start()
    fake.tokens.add(TOKEN)
    yield fake
    fake.close()


@pytest.fixture
def shop(github) -> Repository:
    return github.repository("acme/shop")


@pytest.fixture
def settings(tmp_path, metadata_url, github) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=metadata_url, github_api_url=github.base_url,
                    secret_key=SECRET_KEY)


@pytest.fixture
def events(tmp_path) -> Iterator[DuckDBEventStore]:
    store = DuckDBEventStore(tmp_path / "events.duckdb")
    yield store
    store.close()


class World:
    """A site (example.com) and, per node, an engine on the shared metadata database."""

    def __init__(self, Session, settings: Settings, events, metadata_url: str) -> None:
        self.Session, self.settings, self.events, self.metadata_url = Session, settings, events, metadata_url
        self.engines: list = []
        with Session.begin() as session:
            owner = create_user(session, email="owner@example.com", password="long enough!")
            self.site_id = create_site(session, owner=owner, domain="example.com").id

    def connect(self, body: dict, at: datetime = NOW) -> int:
        with self.Session.begin() as session:
            view = connect(session, session.get_one(Site, self.site_id), PROVIDERS, "github", body,
                           box=self.settings.secret_box(), now=at)
            return view.integration.id

    def node(self, holder: str = "node-a") -> IntegrationSync:
        self.engines.append(create_engine(self.metadata_url))
        return IntegrationSync(session_factory(self.engines[-1]), self.events, self.settings,
                               self.settings.secret_box(), PROVIDERS, holder=holder)

    def integration(self) -> Integration:
        with self.Session() as session:
            return session.scalars(select(Integration).where(Integration.site_id == self.site_id)).one()

    def annotations(self) -> list[Annotation]:
        with self.Session() as session:
            return list(session.scalars(select(Annotation).where(Annotation.site_id == self.site_id)
                                        .order_by(Annotation.time.desc(), Annotation.external_id)))


@pytest.fixture
def world(metadata_url, metadata_engine, settings, events) -> Iterator[World]:
    made = World(session_factory(metadata_engine), settings, events, metadata_url)
    yield made
    for engine in made.engines:
        engine.dispose()


def commits_requests(github: GitHubFake) -> list:
    return [request for request in github.requests if request.path.endswith("/commits")]


# -- syncing --------------------------------------------------------------------------------------------


def test_a_first_sync_pages_through_90_days_of_commits_and_stores_them_with_releases(world, github, shop):
    for hour in range(250):  # three pages of 100
        shop.commit(f"Change {hour}\n\nThe body is not stored.", NOW - timedelta(hours=hour + 1),
                    additions=hour, deletions=1)
    shop.commit("Too old to show", NOW - timedelta(days=91))
    shop.commit("On another branch", NOW - timedelta(hours=2), branch="experiment")
    shop.commit("By an email GitHub cannot tie to an account", NOW - timedelta(minutes=30), login=None,
                name="Ada Lovelace")
    shop.release("v2.0.0", NOW - timedelta(days=2), name="Checkout, rebuilt")
    shop.release("v1.0.0", NOW - timedelta(days=120))
    shop.release("v2.1.0-rc1", NOW - timedelta(hours=3), draft=True)
    world.connect({"repository": "acme/shop"})

    assert world.node().sync_due(NOW) == "1 ok"

    stored = world.integration()
    assert (stored.state, stored.summary) == ("ok", "251 new commits on main, 1 new release")
    listing = commits_requests(github)
    assert [request.query.get("page") for request in listing] == [None, "2", "3"]  # followed from `Link`
    assert listing[0].query == {"sha": "main", "since": "2026-09-02T12:00:00Z", "per_page": "100"}
    assert listing[0].headers["accept"] == "application/vnd.github+json"
    assert listing[0].headers["x-github-api-version"] == "2022-11-28"
    assert "authorization" not in listing[0].headers  # a public repository, no token

    annotations = world.annotations()
    assert len(annotations) == 252
    newest = annotations[0]
    assert (newest.kind, newest.text, newest.author, newest.time.replace(tzinfo=timezone.utc)) == (
        "github", "By an email GitHub cannot tie to an account", "Ada Lovelace", NOW - timedelta(minutes=30))
    assert newest.url == f"https://github.com/acme/shop/commit/{newest.external_id}"
    assert newest.details == {"type": "commit", "sha": newest.external_id, "additions": 10, "deletions": 2,
                              "tag": None}
    change = next(a for a in annotations if a.text == "Change 0")
    assert (change.author, change.details["additions"], change.details["deletions"]) == ("octocat", 0, 1)
    counted = [a for a in annotations if a.details["type"] == "commit" and a.details["additions"] is not None]
    assert len(counted) == STATS_PER_RUN_WITHOUT_TOKEN  # the newest only: each costs a request
    release = next(a for a in annotations if a.details["type"] == "release")
    assert (release.external_id, release.text, release.url, release.details["tag"]) == (
        f"release:{shop.releases[0].id}", "Release v2.0.0: Checkout, rebuilt",
        "https://github.com/acme/shop/releases/v2.0.0", "v2.0.0")
    assert {a.text for a in annotations}.isdisjoint({"Too old to show", "On another branch", "Release v1.0.0",
                                                     "Release v2.1.0-rc1"})


def test_the_next_sync_asks_only_for_commits_since_the_newest_and_stores_only_new_ones(world, github, shop):
    first = shop.commit("First", NOW - timedelta(hours=2))
    shop.commit("Second", NOW - timedelta(hours=1))
    world.connect({"repository": "acme/shop"})
    node = world.node()
    node.sync_due(NOW)
    later = NOW + timedelta(minutes=15)
    shop.commit("Third", later - timedelta(minutes=5))
    shop.commit("Fourth", later - timedelta(minutes=1))
    github.requests.clear()

    assert node.sync_due(later) == "1 ok"

    listing = commits_requests(github)
    assert [request.query["since"] for request in listing] == ["2026-12-01T11:00:00Z"]  # the newest seen
    assert world.integration().summary == "2 new commits on main"
    assert [a.text for a in world.annotations()] == ["Fourth", "Third", "Second", "First"]
    assert first in {a.external_id for a in world.annotations()}
    # Line counts were fetched for the two new commits only.
    assert sorted(r.path.rsplit("/", 1)[1] for r in github.requests if "/commits/" in r.path) == sorted(
        a.external_id for a in world.annotations()[:2])


def test_an_unchanged_repository_answers_304_and_nothing_changes(world, github, shop):
    shop.commit("Only one", NOW - timedelta(hours=1))
    shop.release("v1", NOW - timedelta(hours=1))
    world.connect({"repository": "acme/shop"})
    node = world.node()
    node.sync_due(NOW)
    node.sync_due(NOW + timedelta(minutes=15))  # the cursor moved to the newest commit: a new URL
    before = [(a.external_id, a.updated_at, a.details) for a in world.annotations()]
    github.requests.clear()

    assert node.sync_due(NOW + timedelta(minutes=30)) == "1 ok"

    assert [(request.path, request.status) for request in github.requests] == [
        ("/repos/acme/shop", 304), ("/repos/acme/shop/commits", 304), ("/repos/acme/shop/releases", 304)]
    assert all(request.headers.get("if-none-match", "").startswith('W/"') for request in github.requests)
    assert [(a.external_id, a.updated_at, a.details) for a in world.annotations()] == before
    stored = world.integration()
    assert (stored.state, stored.summary, stored.last_synced_at) == ("ok", "0 new commits on main",
                                                                     NOW + timedelta(minutes=30))


def test_a_configured_branch_is_synced_without_asking_for_the_default(world, github, shop):
    shop.commit("On main", NOW - timedelta(hours=1))
    shop.commit("On release", NOW - timedelta(hours=1), branch="release/2026")
    world.connect({"repository": "https://github.com/acme/shop.git", "branch": "release/2026"})
    assert world.node().sync_due(NOW) == "1 ok"
    assert [request.path for request in github.requests][0] == "/repos/acme/shop/commits"
    assert [a.text for a in world.annotations()] == ["On release"]
    assert world.integration().config == {"repository": "acme/shop", "branch": "release/2026"}


def test_an_empty_repository_syncs_nothing(world, github):
    github.repository("acme/new")
    world.connect({"repository": "acme/new"})
    assert world.node().sync_due(NOW) == "1 ok"
    assert (world.integration().summary, world.annotations()) == ("0 new commits on main", [])


# -- failures -------------------------------------------------------------------------------------------


def test_a_rate_limit_waits_for_the_reset_and_the_engine_resumes_after_it(world, github, shop, clock):
    shop.commit("Waiting", NOW - timedelta(hours=1))
    world.connect({"repository": "acme/shop"})
    reset = NOW + timedelta(minutes=37)
    github.rate_limit_until(reset)
    node = world.node()

    assert node.sync_due(NOW) == "1 rate_limited"
    stored = world.integration()
    assert (stored.state, stored.next_sync_at, stored.failures) == ("rate_limited", reset, 0)
    assert stored.message == "rate limited by GitHub until 12:37 UTC"
    asked = len(github.requests)
    assert node.sync_due(reset - timedelta(seconds=1)) == "nothing due"
    assert len(github.requests) == asked  # nothing is asked before the reset

    clock.advance((reset - NOW).total_seconds())  # GitHub's clock (the fake's) and the engine's move on
    assert node.sync_due(reset) == "1 ok"
    assert [a.text for a in world.annotations()] == ["Waiting"]


def test_a_secondary_rate_limit_honours_retry_after(world, github, shop):
    shop.commit("x", NOW - timedelta(hours=1))
    world.connect({"repository": "acme/shop"})
    github.secondary_retry_after = 90
    assert world.node().sync_due(NOW) == "1 rate_limited"
    assert world.integration().next_sync_at == NOW + timedelta(seconds=90)


def test_a_revoked_token_is_token_rejected_and_not_retried(world, github, shop):
    shop.commit("x", NOW - timedelta(hours=1))
    world.connect({"repository": "acme/shop", "token": TOKEN})
    node = world.node()
    assert node.sync_due(NOW) == "1 ok"
    assert github.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    github.tokens.clear()  # revoked on GitHub

    assert node.sync_due(NOW + timedelta(minutes=15)) == "1 token_rejected"
    stored = world.integration()
    assert (stored.state, stored.next_sync_at) == ("token_rejected", None)
    assert stored.message.startswith("token rejected by GitHub (bad credentials)")
    asked = len(github.requests)
    assert node.sync_due(NOW + timedelta(days=7)) == "nothing due"
    assert len(github.requests) == asked


def test_a_private_repository_without_a_token_is_not_found_and_with_one_syncs(world, github):
    private = github.repository("acme/secret", private=True)
    private.commit("Hidden", NOW - timedelta(hours=1))
    world.connect({"repository": "acme/secret"})
    node = world.node()

    assert node.sync_due(NOW) == "1 not_found"
    stored = world.integration()
    assert (stored.state, stored.next_sync_at) == ("not_found", None)
    assert stored.message == ("repository acme/secret not found, or private and the token cannot see it "
                              "(no token is set) (GitHub: Not Found)")

    world.connect({"repository": "acme/secret", "token": TOKEN})
    assert node.sync_due(NOW) == "1 ok"
    assert [a.text for a in world.annotations()] == ["Hidden"]


def test_a_token_without_access_is_forbidden_and_says_which_permission(world, github, shop):
    shop.commit("x", NOW - timedelta(hours=1))
    shop.denied_tokens.add(TOKEN)
    world.connect({"repository": "acme/shop", "token": TOKEN})
    assert world.node().sync_due(NOW) == "1 forbidden"
    message = world.integration().message
    assert "Resource not accessible by personal access token" in message
    assert '"Contents: Read-only"' in message


def test_a_server_error_backs_off_and_a_recovery_resets_it(world, github, shop):
    shop.commit("x", NOW - timedelta(hours=1))
    world.connect({"repository": "acme/shop"})
    github.fail_with(502)
    node = world.node()
    at = NOW
    for minutes in (1, 2):
        assert node.sync_due(at) == "1 error"
        stored = world.integration()
        assert (stored.state, stored.next_sync_at) == ("error", at + timedelta(minutes=minutes))
        assert stored.message == "GitHub answered 502 (GitHub: Server Error)"
        at += timedelta(minutes=minutes)
    github.fail_with(None)
    assert node.sync_due(at) == "1 ok"
    assert (world.integration().failures, [a.text for a in world.annotations()]) == (0, ["x"])


def test_an_unreachable_github_is_an_error_retried(world, github, shop):
    world.connect({"repository": "acme/shop"})
    github.close()
    assert world.node().sync_due(NOW) == "1 error"
    assert world.integration().message.startswith(f"could not reach GitHub at {github.base_url}")


def test_a_next_page_on_another_host_is_not_followed_with_the_token(world, github, shop):
    for hour in range(150):
        shop.commit(f"Change {hour}", NOW - timedelta(hours=hour + 1))
    world.connect({"repository": "acme/shop", "token": TOKEN})
    github.link_base = "http://collector.invalid:9"
    assert world.node().sync_due(NOW) == "1 error"
    assert world.integration().message == f"GitHub's next page is on another host than {github.base_url}"
    assert world.annotations() == []


def test_an_answer_of_another_shape_is_an_error_retried(world, github, shop):
    shop.commit("x", NOW - timedelta(hours=1))
    world.connect({"repository": "acme/shop"})
    github.malformed = True
    assert world.node().sync_due(NOW) == "1 error"
    stored = world.integration()
    assert (stored.message, stored.next_sync_at) == (
        "GitHub answered a list request with something else than a list", NOW + timedelta(minutes=1))


# -- across nodes, at rest ------------------------------------------------------------------------------


def test_two_nodes_sync_an_integration_once(world, github, shop):
    """Node B's tick comes while node A's requests are in flight: B finds the claim held and skips."""
    shop.commit("x", NOW - timedelta(hours=1))
    world.connect({"repository": "acme/shop"})
    a, b = world.node("node-a"), world.node("node-b")
    github.hold()
    outcome: list[str] = []
    first = threading.Thread(target=lambda: outcome.append(a.sync_due(NOW)))
    first.start()
    assert github.arrived.wait(timeout=30)
    assert b.sync_due(NOW) == "nothing due"
    assert b.sync_now(world.integration().id, NOW) is None
    github.release.set()
    first.join(timeout=60)
    assert outcome == ["1 ok"]
    assert [request.path for request in github.requests].count("/repos/acme/shop/commits") == 1


def test_the_token_is_sealed_at_rest(world, github, metadata_engine):
    world.connect({"repository": "acme/shop", "token": TOKEN})
    with metadata_engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM integrations")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert "acme/shop" in stored and TOKEN not in stored and TOKEN[12:30] not in stored


# -- the connect body -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "config"), [
    ({"repository": "octocat/Hello-World"}, {"repository": "octocat/Hello-World", "branch": None}),
    ({"repository": " https://github.com/octocat/hello.world.git ", "branch": ""},
     {"repository": "octocat/hello.world", "branch": None}),
    ({"repository": "a-b/c_d", "branch": "feature/x-1"}, {"repository": "a-b/c_d", "branch": "feature/x-1"}),
])
def test_a_connect_body_is_read(body, config):
    connection = PROVIDER.parse_config(body, site_domain="example.com", current=None)
    assert (connection.config, connection.token, connection.keep_token) == (config, None, False)


@pytest.mark.parametrize(("body", "error"), [
    ({}, "repository: is required"),
    ({"repository": 42}, "repository: is required"),
    ({"repository": "octocat"}, "repository: must be owner/name"),
    ({"repository": "octocat/../admin"}, "repository: must be owner/name"),
    ({"repository": "octo cat/x"}, "repository: must be owner/name"),
    ({"repository": "-octocat/x"}, "repository: must be owner/name"),
    ({"repository": "octocat/.."}, "repository: must be owner/name"),
    ({"repository": "o/" + "x" * 101}, "repository: must be owner/name"),
    ({"repository": "o/x", "branch": "a..b"}, "branch: is not a branch name"),
    ({"repository": "o/x", "branch": "with space"}, "branch: is not a branch name"),
    ({"repository": "o/x", "branch": ["main"]}, "branch: is not a branch name"),
    ({"repository": "o/x", "token": "two words"}, "token: must be a GitHub token"),
    ({"repository": "o/x", "token": 7}, "token: must be a GitHub token"),
    ({"repository": "o/x", "owner": "me"}, "owner: is not a GitHub setting"),
])
def test_a_bad_connect_body_names_its_field(body, error):
    with pytest.raises(ValidationError) as raised:
        PROVIDER.parse_config(body, site_domain="example.com", current=None)
    assert str(raised.value).startswith(error)


def test_a_token_left_empty_keeps_the_stored_one():
    current = {"repository": "o/x", "branch": None}
    kept = PROVIDER.parse_config({"repository": "o/x", "token": ""}, site_domain="example.com", current=current)
    assert (kept.token, kept.keep_token) == (None, True)
    replaced = PROVIDER.parse_config({"repository": "o/x", "token": f" {TOKEN} "}, site_domain="example.com",
                                     current=current)
    assert (replaced.token, replaced.keep_token) == (TOKEN, False)


# -- the routes -----------------------------------------------------------------------------------------


@pytest.fixture
def api(settings, clock, metadata_engine) -> Iterator[tuple[TestClient, str, dict]]:
    """The app (its own engine on the test's metadata database), a site and its owner's account token."""
    Session = session_factory(metadata_engine)
    with Session.begin() as session:
        owner = create_user(session, email="owner@example.com", password="long enough!")
        site = create_site(session, owner=owner, domain="example.com")
        _, raw = create_account_token(session, user=owner, name="api")
        public_id = site.public_id
    hold_integrations_job(settings)
    with TestClient(create_app(settings, clock=clock)) as client:
        yield client, f"/api/v1/sites/{public_id}/integrations", {"Authorization": f"Bearer {raw}"}


def github_of(client: TestClient, path: str, headers: dict) -> dict:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return next(i for i in response.json()["integrations"] if i["kind"] == "github")


def test_connect_sync_read_and_disconnect_through_the_api(api, github, shop, metadata_engine):
    client, path, headers = api
    shop.commit("Through the API", NOW - timedelta(hours=1))
    assert github_of(client, path, headers)["state"] == "not_connected"

    response = client.put(f"{path}/github", json={"repository": "acme/shop", "token": TOKEN}, headers=headers)
    assert response.status_code == 200, response.text
    connected = response.json()
    assert (connected["state"], connected["has_token"], connected["config"]) == (
        "pending", True, {"repository": "acme/shop", "branch": None})
    assert TOKEN not in response.text

    response = client.post(f"{path}/github/sync", headers=headers)
    assert response.status_code == 200, response.text
    synced = response.json()
    assert (synced["state"], synced["summary"], synced["last_synced_at"]) == (
        "ok", "1 new commit on main", "2026-12-01T12:00:00Z")
    assert github.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"
    notes = client.get(path.replace("/integrations", "/annotations"), headers=headers).json()["annotations"]
    assert [(n["kind"], n["text"], n["author"], n["details"]["type"]) for n in notes] == [
        ("github", "Through the API", "octocat", "commit")]

    response = client.put(f"{path}/github", json={"repository": "acme/shop", "branch": "main"}, headers=headers)
    assert response.json()["has_token"] is True  # no token in the body: the stored one stays
    response = client.put(f"{path}/github", json={"repository": "acme"}, headers=headers)
    assert (response.status_code, response.json()["error"][:30]) == (400, "repository: must be owner/name")

    assert client.delete(f"{path}/github?delete_data=false", headers=headers).status_code == 204
    assert github_of(client, path, headers)["state"] == "not_connected"
    with metadata_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM integrations")).scalar() == 0
        assert connection.execute(text("SELECT count(*) FROM annotations WHERE kind = 'github'")).scalar() == 1
    client.put(f"{path}/github", json={"repository": "acme/shop"}, headers=headers)
    assert client.delete(f"{path}/github?delete_data=true", headers=headers).status_code == 204
    with metadata_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM annotations WHERE kind = 'github'")).scalar() == 0


def test_a_bad_token_shows_as_token_rejected_through_the_api(api, github, shop):
    client, path, headers = api
    client.put(f"{path}/github", json={"repository": "acme/shop", "token": "ghp_revoked"}, headers=headers)
    response = client.post(f"{path}/github/sync", headers=headers)
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["next_sync_at"]) == ("token_rejected", None)
    assert response.json()["message"].startswith("token rejected by GitHub")
