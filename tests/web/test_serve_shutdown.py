"""Stopping the real server while a realtime stream is open: the stream ends at once and
shutdown completes, instead of waiting out uvicorn's graceful-shutdown timeout."""

from __future__ import annotations

import os
import signal

import httpx
import pytest

from live_app import free_port
from live_server import cli, start_server

pytestmark = pytest.mark.slow


def test_sigterm_ends_open_event_streams(tmp_path):
    env = {**os.environ, "POSTMETRIC_DATA_DIR": str(tmp_path / "data")}
    cli(env, "users", "create", "--email", "owner@example.com", "--password", "correct horse")
    cli(env, "sites", "create", "--owner", "owner@example.com", "--domain", "example.com")
    key = cli(env, "keys", "create", "--site", "example.com")["key"]
    port, log = free_port(), tmp_path / "server.log"
    server = start_server(env, port, log)
    try:
        with httpx.stream("GET", f"http://127.0.0.1:{port}/api/v1/realtime/stream?site_id=example.com",
                          headers={"Authorization": f"Bearer {key}"}, timeout=30) as stream:
            lines = stream.iter_lines()
            assert next(lines) == "event: realtime"
            server.send_signal(signal.SIGTERM)
            rest = list(lines)  # returns once the server closes the stream
        assert all(not line.startswith("event: error") for line in rest)
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
    output = log.read_text()
    assert "Application shutdown complete" in output
    assert "timeout graceful shutdown exceeded" not in output.lower()
