"""A 202 means durable: SIGKILL the real server mid-stream, restart it, and every acknowledged
event is in the store."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess

import duckdb
import httpx
import pytest

from factories import CHROME_UA
from live_app import free_port
from live_server import cli, start_server

pytestmark = pytest.mark.slow


async def send_until_killed(port: int, public_id: str, server: subprocess.Popen, kill_after: int) -> set[str]:
    """64 concurrent senders; the server is SIGKILLed once `kill_after` events were acknowledged."""
    acknowledged: set[str] = set()
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=5,
                                 headers={"User-Agent": CHROME_UA}) as client:
        async def sender() -> None:
            while True:
                path = f"/p{next(counter)}"
                payload = {"websiteId": public_id, "type": "pageview", "href": f"https://example.com{path}"}
                try:
                    response = await client.post("/api/events", content=json.dumps(payload))
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 202:
                    acknowledged.add(path)
                    if len(acknowledged) >= kill_after and server.poll() is None:
                        server.send_signal(signal.SIGKILL)

        await asyncio.gather(*(sender() for _ in range(64)))
    return acknowledged


def test_sigkill_loses_no_acknowledged_event(tmp_path):
    data_dir = tmp_path / "data"
    env = {**os.environ, "POSTMETRIC_DATA_DIR": str(data_dir), "POSTMETRIC_INGEST_RATE_LIMIT": ""}
    cli(env, "users", "create", "--email", "owner@example.com", "--password", "correct horse")
    site = cli(env, "sites", "create", "--owner", "owner@example.com", "--domain", "example.com")
    port, log = free_port(), tmp_path / "server.log"

    server = start_server(env, port, log)
    acknowledged = asyncio.run(send_until_killed(port, site["public_id"], server, kill_after=2_000))
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
