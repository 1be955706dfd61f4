"""Scale-out: two `postmetric serve` processes on different ports share PostgreSQL (metadata), Redis
(visits and rate limits) and one ClickHouse (events, over HTTP). A visitor's events land on either
node, cookieless or not, and still form one visitor and one visit in one query."""

from __future__ import annotations

import json
import os
import signal
import uuid

import httpx
import pytest

from event_stores import clickhouse_url
from factories import CHROME_UA
from live_app import free_port, wait_for
from live_server import cli, start_server
from postgres import postgres_schema

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


@pytest.fixture
def nodes(tmp_path):
    with postgres_schema() as database_url:
        shared = {**os.environ, "POSTMETRIC_DATABASE_URL": database_url,
                  "POSTMETRIC_CLICKHOUSE_URL": clickhouse_url(tmp_path),
                  "POSTMETRIC_REDIS_URL": "redis://127.0.0.1:6379/0", "POSTMETRIC_SECRET_KEY": "shared " * 8,
                  "POSTMETRIC_TRUSTED_PROXIES": "127.0.0.1", "POSTMETRIC_INGEST_RATE_LIMIT": "",
                  "POSTMETRIC_DATA_DIR": str(tmp_path / "cli")}
        cli(shared, "users", "create", "--email", "owner@example.com", "--password", "correct horse")
        site = cli(shared, "sites", "create", "--owner", "owner@example.com", "--domain", "example.com")
        key = cli(shared, "keys", "create", "--site", site["public_id"])["key"]
        servers, urls = [], []
        try:
            for name in ("node-a", "node-b"):
                port = free_port()
                env = {**shared, "POSTMETRIC_DATA_DIR": str(tmp_path / name)}  # each node its own journal
                servers.append(start_server(env, port, tmp_path / f"{name}.log"))
                urls.append(f"http://127.0.0.1:{port}")
            yield urls, site, key
        finally:
            for server in servers:
                server.send_signal(signal.SIGTERM)
            for server in servers:
                server.wait(timeout=30)


def send(url: str, site: dict, path: str, *, ip: str, user_agent: str = CHROME_UA, **fields) -> None:
    payload = {"websiteId": site["public_id"], "type": "pageview", "href": f"https://example.com{path}"} | fields
    response = httpx.post(f"{url}/api/events", content=json.dumps(payload),
                          headers={"User-Agent": user_agent, "X-Forwarded-For": ip})
    assert response.status_code == 202, response.text


def query(url: str, key: str, site: dict, **fields) -> dict:
    body = {"site_id": site["public_id"], "date_range": "all", "metrics": ["visitors", "visits", "pageviews"]}
    response = httpx.post(f"{url}/api/v1/query", json=body | fields, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_events_sent_to_either_node_form_one_visit_per_visitor(nodes):
    (a, b), site, key = nodes
    # A cookieless visitor whose requests the load balancer spreads over both nodes.
    send(a, site, "/landing", ip="81.2.69.142", referrer="https://news.ycombinator.com/")
    send(b, site, "/pricing", ip="81.2.69.142")
    send(a, site, "/signup", ip="81.2.69.142", type="goal", name="signup")
    send(b, site, "/docs", ip="81.2.69.142")
    # Another one starting on the other node.
    send(b, site, "/blog", ip="8.8.8.8", user_agent=FIREFOX_UA)
    send(a, site, "/pricing", ip="8.8.8.8", user_agent=FIREFOX_UA)
    # A visitor with the tracker's own ids (cookie mode).
    visitor, session = str(uuid.uuid4()), str(uuid.uuid4())
    send(a, site, "/", ip="9.9.9.9", visitorId=visitor, sessionId=session)
    send(b, site, "/about", ip="9.9.9.9", visitorId=visitor, sessionId=session)

    expected = [3, 3, 7]
    for url in (a, b):  # either node answers for all of them
        wait_for(lambda url=url: query(url, key, site)["results"][0]["metrics"] == expected,
                 f"{url} to count 3 visitors, 3 visits and 7 pageviews", timeout=30)
    entry = query(a, key, site, metrics=["visitors", "pageviews"], dimensions=["visit:entry_page"])
    assert {row["dimensions"][0]: row["metrics"] for row in entry["results"]} == {
        "/landing": [1, 3], "/blog": [1, 2], "/": [1, 2]}
    sources = query(b, key, site, metrics=["visitors"], dimensions=["visit:source"])
    assert {row["dimensions"][0]: row["metrics"][0] for row in sources["results"]}["Hacker News"] == 1
