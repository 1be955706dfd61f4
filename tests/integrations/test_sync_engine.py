"""The sync engine, on SQLite and PostgreSQL: when a connected integration syncs, what each outcome does to
the next run (cursor, back-off, rate-limit reset, no retry on a rejected token), one run across nodes, and
a disconnect during a run winning over it.

The provider here is a stand-in for an external API (as GitHub or X are): it fetches from a local HTTP
server whose answers each test scripts, and maps them the way a real provider does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from postmetric.accounts.users import create_user
from postmetric.config import Settings
from postmetric.errors import NotFound, ValidationError
from postmetric.integrations.connections import (
    connect,
    disconnect,
    list_integrations,
    parse_delete_data,
    reseal_tokens,
)
from postmetric.integrations.sync import (
    Connection,
    IntegrationSync,
    RateLimited,
    SyncedAnnotation,
    SyncResult,
    SyncRun,
    TokenRejected,
    UpstreamFailed,
    delete_annotations,
)
from postmetric.secrets_box import SecretBox
from postmetric.sites.service import create_site
from postmetric.store.database import create_engine, session_factory
from postmetric.store.duckdb_events import DuckDBEventStore
from postmetric.store.metadata import Annotation, Integration, Site

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=timezone.utc)


class ScriptedApi:
    """A local HTTP server answering each GET with the next scripted (status, headers, body)."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str], Any]] = []
        self.requests: list[dict[str, str]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
                status, headers, body = api.answers.pop(0) if api.answers else (200, {}, [])
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FeedProvider:
    """Reads `GET /items?after=<cursor>` → `[{"id", "time", "text"}]`, as a provider of a feed would."""

    kind, label, interval_seconds = "feed", "Feed", 900.0

    def __init__(self, api: ScriptedApi) -> None:
        self.api = api

    def parse_config(self, body: dict[str, Any], *, site_domain: str, current: dict[str, Any] | None) -> Connection:
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise ValidationError("name", "is required")
        token = body.get("token")
        return Connection({"name": name}, token, keep_token=token is None)

    def sync(self, run: SyncRun) -> SyncResult:
        response = run.http.get(f"{self.api.url}/items", params={"after": run.cursor.get("after", "")},
                                headers={"Authorization": f"Bearer {run.token}"})
        if response.status_code == 401:
            raise TokenRejected("Feed rejected the token: reconnect")
        if response.status_code == 429:
            raise RateLimited("Feed rate limit", datetime.fromtimestamp(int(response.headers["reset"]), timezone.utc))
        if response.status_code >= 500:
            raise UpstreamFailed(f"Feed answered {response.status_code}")
        items = response.json()
        new = run.save_annotations([SyncedAnnotation(item["id"], datetime.fromisoformat(item["time"]), item["text"],
                                                     None, "someone", {"n": item.get("n", 0)}) for item in items])
        after = max((item["id"] for item in items), default=run.cursor.get("after", ""))
        return SyncResult({"after": after}, f"{new} new items")

    def delete_data(self, Session, events, site_id: int) -> None:
        delete_annotations(Session, site_id, self.kind)


@pytest.fixture
def api() -> Iterator[ScriptedApi]:
    server = ScriptedApi()
    yield server
    server.close()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox("a secret key for the sync engine tests")


@pytest.fixture
def events(tmp_path) -> Iterator[DuckDBEventStore]:
    store = DuckDBEventStore(tmp_path / "events.duckdb")
    yield store
    store.close()


@pytest.fixture
def world(metadata_url, metadata_engine, api, box, events, tmp_path):
    """A site connected to the feed with token "t0k3n", and `engine(holder)` building a node's engine."""
    Session = session_factory(metadata_engine)
    providers = {"feed": FeedProvider(api)}
    with Session.begin() as session:
        owner = create_user(session, email="owner@example.com", password="long enough!")
        site = create_site(session, owner=owner, domain="example.com")
        view = connect(session, site, providers, "feed", {"name": "news", "token": "t0k3n"}, box=box, now=NOW)
        site_id, integration_id = site.id, view.integration.id
    engines = []

    def engine(holder: str = "node-a") -> IntegrationSync:
        engines.append(create_engine(metadata_url))
        return IntegrationSync(session_factory(engines[-1]), events, Settings(data_dir=tmp_path), box, providers,
                               holder=holder)

    yield type("World", (), {"Session": Session, "providers": providers, "site_id": site_id,
                             "integration_id": integration_id, "engine": staticmethod(engine)})
    for made in engines:
        made.dispose()


def item(n: int, day: int = 1) -> dict[str, Any]:
    return {"id": f"item-{n:03d}", "time": f"2026-12-0{day}T10:00:00+00:00", "text": f"Item {n}", "n": n}


def integration(world) -> Integration:
    with world.Session() as session:
        return session.get_one(Integration, world.integration_id)


def annotations(world) -> list[tuple[str, str, dict]]:
    with world.Session() as session:
        return [(a.external_id, a.text, a.details) for a in session.scalars(
            select(Annotation).where(Annotation.site_id == world.site_id).order_by(Annotation.external_id))]


def test_a_connection_is_due_at_once_and_its_token_is_sealed_at_rest(world, box):
    stored = integration(world)
    assert (stored.state, stored.next_sync_at, stored.config) == ("pending", NOW, {"name": "news"})
    assert "t0k3n" not in stored.token
    assert box.open(stored.token, context=f"integrations.token:{world.site_id}:feed") == "t0k3n"


def test_a_sync_stores_items_and_the_next_one_asks_only_for_newer_ones(world, api):
    api.answers = [(200, {}, [item(1), item(2)]), (200, {}, [item(2) | {"text": "Item 2, edited"}, item(3)])]
    engine = world.engine()
    assert engine.sync_due(NOW) == "1 ok"
    assert api.requests[0]["authorization"] == "Bearer t0k3n"
    stored = integration(world)
    assert (stored.state, stored.summary, stored.cursor) == ("ok", "2 new items", {"after": "item-002"})
    assert (stored.last_synced_at, stored.next_sync_at) == (NOW, NOW + timedelta(seconds=900))

    assert engine.sync_due(NOW + timedelta(seconds=899)) == "nothing due"
    assert engine.sync_due(NOW + timedelta(seconds=900)) == "1 ok"
    assert api.requests[1]["path"] == "/items?after=item-002"
    assert annotations(world) == [("item-001", "Item 1", {"n": 1}), ("item-002", "Item 2, edited", {"n": 2}),
                                  ("item-003", "Item 3", {"n": 3})]  # updated in place, never doubled
    assert integration(world).summary == "1 new items"


def test_failures_back_off_exponentially_and_success_resets_them(world, api):
    engine = world.engine()
    api.answers = [(503, {}, {}), (502, {}, {}), (500, {}, {}), (200, {}, [item(1)])]
    at = NOW
    for minutes in (1, 2, 4):
        assert engine.sync_due(at) == "1 error"
        stored = integration(world)
        assert (stored.state, stored.failures, stored.next_sync_at) == ("error", minutes.bit_length(),
                                                                        at + timedelta(minutes=minutes))
        assert stored.message.startswith("Feed answered 5")
        assert engine.sync_due(at + timedelta(minutes=minutes) - timedelta(seconds=1)) == "nothing due"
        at += timedelta(minutes=minutes)
    assert engine.sync_due(at) == "1 ok"
    stored = integration(world)
    assert (stored.state, stored.failures, stored.message) == ("ok", 0, None)


def test_a_rate_limit_waits_for_the_reset_without_sleeping(world, api):
    reset = NOW + timedelta(minutes=14)
    api.answers = [(429, {"reset": str(int(reset.timestamp()))}, {}), (200, {}, [item(1)])]
    engine = world.engine()
    assert engine.sync_due(NOW) == "1 rate_limited"
    stored = integration(world)
    assert (stored.state, stored.next_sync_at, stored.failures) == ("rate_limited", reset, 0)
    assert engine.sync_due(reset - timedelta(seconds=1)) == "nothing due"
    assert engine.sync_due(reset) == "1 ok"


def test_a_rejected_token_is_not_retried_until_the_connection_changes(world, api, box):
    api.answers = [(401, {}, {}), (200, {}, [item(1)])]
    engine = world.engine()
    assert engine.sync_due(NOW) == "1 token_rejected"
    stored = integration(world)
    assert (stored.state, stored.next_sync_at, stored.message) == ("token_rejected", None,
                                                                   "Feed rejected the token: reconnect")
    assert engine.sync_due(NOW + timedelta(days=30)) == "nothing due"
    with world.Session.begin() as session:
        site = session.get_one(Site, world.site_id)
        connect(session, site, world.providers, "feed", {"name": "news", "token": "n3w"}, box=box, now=NOW)
    assert engine.sync_due(NOW) == "1 ok"
    assert api.requests[-1]["authorization"] == "Bearer n3w"


def test_changing_the_connection_without_a_token_keeps_it_and_a_new_source_starts_over(world, api, box):
    api.answers = [(200, {}, [item(1)])]
    world.engine().sync_due(NOW)
    with world.Session.begin() as session:
        site = session.get_one(Site, world.site_id)
        connect(session, site, world.providers, "feed", {"name": "other"}, box=box, now=NOW)
    stored = integration(world)
    assert (stored.config, stored.cursor, stored.state) == ({"name": "other"}, {}, "pending")
    assert box.open(stored.token, context=f"integrations.token:{world.site_id}:feed") == "t0k3n"


def test_an_unreadable_token_says_to_reconnect(world, api, tmp_path, events):
    other_box = SecretBox("another key entirely")
    engine = IntegrationSync(world.Session, events, Settings(data_dir=tmp_path), other_box, world.providers,
                             holder="node-b")
    assert engine.sync_due(NOW) == "1 token_rejected"
    assert "connect again" in integration(world).message
    assert api.requests == []


def test_two_nodes_sync_an_integration_once(world, api):
    """The second node finds the claim held while the first is fetching, and skips it."""
    a, b = world.engine("node-a"), world.engine("node-b")
    outcomes = []
    original = world.providers["feed"].sync

    def sync_while_other_node_tries(run: SyncRun) -> SyncResult:
        outcomes.append(b.sync_due(NOW))  # node b's tick arrives during node a's run
        outcomes.append(b.sync_now(world.integration_id, NOW))
        return original(run)

    world.providers["feed"].sync = sync_while_other_node_tries
    api.answers = [(200, {}, [item(1)])]
    assert a.sync_due(NOW) == "1 ok"
    assert outcomes == ["nothing due", None]
    assert len(api.requests) == 1


def test_a_claim_left_by_a_crashed_node_expires(world, api):
    with world.Session.begin() as session:
        session.get_one(Integration, world.integration_id).claimed_until = NOW + timedelta(minutes=60)
        session.get_one(Integration, world.integration_id).claimed_by = "crashed-node"
    engine = world.engine()
    assert engine.sync_due(NOW) == "nothing due"
    api.answers = [(200, {}, [item(1)])]
    assert engine.sync_due(NOW + timedelta(minutes=60)) == "1 ok"


def test_a_disconnect_during_a_sync_wins(world, api, events):
    """Disconnecting with "delete its data" while a sync runs: what the sync fetched is not stored."""
    original = world.providers["feed"].sync

    def disconnected_meanwhile(run: SyncRun) -> SyncResult:
        disconnect(world.Session, events, world.site_id, world.providers, "feed", delete_data=True)
        return original(run)

    world.providers["feed"].sync = disconnected_meanwhile
    api.answers = [(200, {}, [item(1)])]
    assert world.engine().sync_due(NOW) == "1 abandoned"
    assert annotations(world) == []
    with world.Session() as session:
        assert session.scalars(select(Integration)).all() == []


def test_disconnecting_deletes_the_token_and_on_request_only_the_synced_data(world, api, events):
    api.answers = [(200, {}, [item(1), item(2)])]
    world.engine().sync_due(NOW)
    with world.Session.begin() as session:
        session.add(Annotation(site_id=world.site_id, kind="note", time=NOW, text="kept"))
    disconnect(world.Session, events, world.site_id, world.providers, "feed", delete_data=False)
    assert len(annotations(world)) == 3  # the synced items stay, the connection and its token go
    with world.Session() as session:
        site = session.get_one(Site, world.site_id)
        assert [(view.kind, view.state) for view in list_integrations(session, site, world.providers)] == [
            ("feed", "not_connected")]
    with pytest.raises(NotFound):
        disconnect(world.Session, events, world.site_id, world.providers, "feed", delete_data=True)

    with world.Session.begin() as session:
        connect(session, session.get_one(Site, world.site_id), world.providers, "feed", {"name": "news", "token": "t"},
                box=SecretBox("k"), now=NOW)
    disconnect(world.Session, events, world.site_id, world.providers, "feed", delete_data=True)
    assert annotations(world) == [(None, "kept", None)]


def test_delete_data_is_a_yes_or_no():
    assert parse_delete_data({}) is False
    assert parse_delete_data({"delete_data": "true"}) is True
    with pytest.raises(ValidationError, match="delete_data"):
        parse_delete_data({"delete_data": "yes please"})


def test_rotation_reseals_tokens_under_the_new_key(world, box):
    rotated = SecretBox("the new key", previous=["a secret key for the sync engine tests"])
    with world.Session.begin() as session:
        assert reseal_tokens(session, rotated) == (1, 0, 0)
    with world.Session.begin() as session:
        assert reseal_tokens(session, rotated) == (0, 1, 0)
        assert reseal_tokens(session, SecretBox("a key nobody has")) == (0, 0, 1)
    stored = integration(world).token
    assert SecretBox("the new key").open(stored, context=f"integrations.token:{world.site_id}:feed") == "t0k3n"


def test_a_demo_integration_syncs_nothing_and_says_so(world, api):
    with world.Session.begin() as session:
        session.get_one(Integration, world.integration_id).config = {"name": "news", "demo": True}
    assert world.engine().sync_now(world.integration_id, NOW) == "ok"
    assert (integration(world).summary, api.requests) == ("demo data: nothing to fetch", [])
