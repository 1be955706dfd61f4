"""A 202 means durable: SIGKILL the real server mid-stream (with room on the disk, or with its
disk full and answering 503), restart it, and every acknowledged event is in the store."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass, field

import duckdb
import httpx
import pytest

from factories import CHROME_UA
from live_app import free_port
from live_server import cli, start_server
from small_disk import fill, free, small_disk

pytestmark = pytest.mark.slow


@dataclass
class Outcome:
    acknowledged: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)  # answered 503: not stored
    errors: Counter[str] = field(default_factory=Counter)  # the 503s' messages
    other: Counter[int] = field(default_factory=Counter)


async def send_until(port: int, public_id: str, prefix: str, enough, server: subprocess.Popen | None = None) -> Outcome:
    """64 concurrent senders until `enough(outcome)`; then SIGKILL `server` if given, else stop."""
    outcome = Outcome()
    counter = iter(range(10**9))
    stop = asyncio.Event()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=httpx.Limits(max_connections=64),
                                 timeout=10, headers={"User-Agent": CHROME_UA}) as client:
        async def sender() -> None:
            while not stop.is_set():
                path = f"/{prefix}{next(counter)}"
                payload = {"websiteId": public_id, "type": "pageview", "href": f"https://example.com{path}"}
                try:
                    response = await client.post("/api/events", content=json.dumps(payload))
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 202:
                    outcome.acknowledged.add(path)
                elif response.status_code == 503:
                    outcome.refused.add(path)
                    outcome.errors[response.json()["error"]] += 1
                else:
                    outcome.other[response.status_code] += 1
                if enough(outcome):
                    if server is not None and server.poll() is None:
                        server.send_signal(signal.SIGKILL)
                    stop.set()

        await asyncio.gather(*(sender() for _ in range(64)))
    return outcome


def test_sigkill_loses_no_acknowledged_event(tmp_path):
    data_dir = tmp_path / "data"
    env = {**os.environ, "POSTMETRIC_DATA_DIR": str(data_dir), "POSTMETRIC_INGEST_RATE_LIMIT": ""}
    cli(env, "users", "create", "--email", "owner@example.com", "--password", "correct horse")
    site = cli(env, "sites", "create", "--owner", "owner@example.com", "--domain", "example.com")
    port, log = free_port(), tmp_path / "server.log"

    server = start_server(env, port, log)
    acknowledged = asyncio.run(send_until(port, site["public_id"], "p", lambda o: len(o.acknowledged) >= 2_000,
                                          server)).acknowledged
    assert server.wait(timeout=30) == -signal.SIGKILL
    assert len(acknowledged) >= 2_000

    # The server comes back on the same files, loads what the killed one had only journaled,
    # and keeps accepting events.
    server = start_server(env, port, log)
    try:
        response = httpx.post(f"http://127.0.0.1:{port}/api/events", headers={"User-Agent": CHROME_UA},
                              content=json.dumps({"websiteId": site["public_id"], "type": "pageview",
                                                  "href": "https://example.com/after-restart"}))
        assert response.status_code == 202 and "x-postmetric-dropped" not in response.headers
    finally:
        server.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in log.read_text()
    with duckdb.connect(str(data_dir / "events.duckdb")) as db:
        paths = {row[0] for row in db.execute("SELECT pathname FROM events").fetchall()}
    missing = (acknowledged | {"/after-restart"}) - paths
    assert not missing, f"{len(missing)} acknowledged events were lost, e.g. {sorted(missing)[:5]}"
    assert "journaled events left by the previous run" in log.read_text()


@pytest.mark.parametrize("mounted,size", [("data", "48m"), ("data/journal", "2m")],
                         ids=["the data dir is full", "the journal's disk is full"])
def test_a_full_disk_acknowledges_only_what_it_kept_and_ingestion_resumes_when_space_returns(tmp_path, mounted, size):
    """A real small file system: fill it while the server ingests, free it, fill it again and
    SIGKILL the server while it answers 503; after a restart every 202 is stored and no 503.
    With the whole data dir full, the store cannot load either, so the restart replays the journal."""
    data_dir = tmp_path / "data"
    # The geolocation database (tens of MB, derived) is unpacked outside the small disk.
    env = {**os.environ, "POSTMETRIC_DATA_DIR": str(data_dir), "POSTMETRIC_CACHE_DIR": str(tmp_path / "cache"),
           "POSTMETRIC_INGEST_RATE_LIMIT": ""}
    port, log = free_port(), tmp_path / "server.log"

    with small_disk(tmp_path / mounted, size) as disk:
        cli(env, "users", "create", "--email", "owner@example.com", "--password", "correct horse")
        site = cli(env, "sites", "create", "--owner", "owner@example.com", "--domain", "example.com")
        server = start_server(env, port, log)
        try:
            fill(disk, leave=192 * 1024)
            first = asyncio.run(send_until(port, site["public_id"], "a", lambda o: len(o.refused) >= 300))
            assert len(first.acknowledged) >= 100 and not first.other
            [message] = first.errors
            assert "No space left on device" in message and "not stored" in message

            free(disk)  # the same server takes events again, with no restart
            second = asyncio.run(send_until(port, site["public_id"], "b", lambda o: len(o.acknowledged) >= 300))
            assert not second.refused and not second.other

            fill(disk, leave=64 * 1024)
            third = asyncio.run(send_until(port, site["public_id"], "c", lambda o: len(o.refused) >= 300, server))
            assert server.wait(timeout=30) == -signal.SIGKILL
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        assert third.acknowledged and not third.other

        free(disk)
        server = start_server(env, port, log)
        try:
            response = httpx.post(f"http://127.0.0.1:{port}/api/events", headers={"User-Agent": CHROME_UA},
                                  content=json.dumps({"websiteId": site["public_id"], "type": "pageview",
                                                      "href": "https://example.com/after-restart"}))
            assert response.status_code == 202
        finally:
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=30) in (0, -signal.SIGTERM)
        with duckdb.connect(str(data_dir / "events.duckdb")) as db:
            paths = {row[0] for row in db.execute("SELECT pathname FROM events").fetchall()}

    acknowledged = first.acknowledged | second.acknowledged | third.acknowledged | {"/after-restart"}
    missing = acknowledged - paths
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged events lost, e.g. {sorted(missing)[:5]}"
    refused = first.refused | third.refused
    assert not refused & paths, f"{len(refused & paths)} events answered 503 were stored all the same"
    # Said once each time the disk fills, not once per refused request.
    assert 2 <= log.read_text().count("journaling events fails (No space left on device") < 10
    if mounted == "data":  # the store could not load either: the acknowledged events came back from the journal
        assert "journaled events left by the previous run" in log.read_text()
