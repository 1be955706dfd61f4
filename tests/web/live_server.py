"""The real `postmetric` command as a subprocess: for tests of what only a real process does."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx


def cli(env: dict, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "postmetric", *args], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def start_server(env: dict, port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "postmetric", "serve", "--port", str(port)],
        env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited with {server.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise AssertionError(f"server did not start: {log.read_text()[-2000:]}")
