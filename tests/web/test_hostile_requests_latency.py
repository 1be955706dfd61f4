"""One hostile request must not freeze every tenant: measured on the real server, by another client's latency.

A site owner can set excluded-path patterns, and anyone holding a site key or a webhook secret
can send amounts: both used to be worked on the event loop with unbounded cost (a backtracking
regex over a long path; "1e300000" turned into an integer). Here hostile requests run in a loop
against a real `postmetric serve` while another client checks that the health endpoint and a
plain tracked page view still answer within a second (a generous margin on a shared machine:
a frozen loop takes seconds to minutes).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest

from factories import CHROME_UA
from live_app import free_port
from live_server import cli, start_server

pytestmark = pytest.mark.slow

PAYLOADS = Path(__file__).resolve().parents[1] / "revenue" / "payloads"
PADDLE_SECRET = "pdl_ntfset_hostile_latency_secret"
STRIPE_SECRET = "whsec_hostile_latency_secret"
# Patterns a site owner may set (within the bounds), which a backtracking regex cannot match in time.
HOSTILE_PATTERNS = ["/*a*a*a*a*a*a*a*a*b", "/*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c", "/*/*/*/*/*/*/*/*/x"]
HOSTILE_PATHS = ["/" + "a" * 2000, "/" + "a/" * 1000, "/" + "ab" * 1000]
HOSTILE_AMOUNTS = ["1e300000", "9" * 5000, "-1e999", "NaN", "Infinity", "1e-999999999"]
MAX_LATENCY = 1.0  # seconds


@pytest.fixture
def server(tmp_path):
    env = {**os.environ, "POSTMETRIC_DATA_DIR": str(tmp_path / "data"), "POSTMETRIC_INGEST_RATE_LIMIT": "",
           "POSTMETRIC_API_RATE_LIMIT": ""}
    cli(env, "users", "create", "--email", "owner@example.com", "--password", "correct horse")
    site = cli(env, "sites", "create", "--owner", "owner@example.com", "--domain", "example.com")
    key = cli(env, "keys", "create", "--site", "example.com")["key"]
    token = cli(env, "tokens", "create", "--user", "owner@example.com")["token"]
    port, log = free_port(), tmp_path / "server.log"
    process = start_server(env, port, log)
    base = f"http://127.0.0.1:{port}"
    owner = {"Authorization": f"Bearer {token}"}
    try:
        response = httpx.put(f"{base}/api/v1/sites/{site['public_id']}", json={"excluded_paths": HOSTILE_PATTERNS},
                             headers=owner)
        assert response.status_code == 200, response.text
        for provider, secret in (("paddle", PADDLE_SECRET), ("stripe", STRIPE_SECRET)):
            response = httpx.put(f"{base}/api/v1/sites/{site['public_id']}/revenue/{provider}",
                                 json={"webhook_secret": secret}, headers=owner)
            assert response.status_code == 200, response.text
        yield base, site["public_id"], key
    finally:
        process.kill()
        process.wait(timeout=30)


def _hostile_requests(kind: str, base: str, public_id: str, key: str) -> list[tuple[str, str, dict, bytes]]:
    """(label, url, headers, body) of each hostile request of `kind` ("paths" or "amounts")."""
    requests = []
    for path in HOSTILE_PATHS if kind == "paths" else ():
        body = orjson.dumps({"websiteId": public_id, "type": "pageview", "href": f"https://example.com{path}"})
        # A browser's user agent: a bot's page view is dropped before the excluded paths are tried.
        requests.append((f"ingest {path[:12]}…", f"{base}/api/events",
                         {"Content-Type": "text/plain", "User-Agent": CHROME_UA}, body))
    now = int(time.time())
    paddle_event = json.loads((PAYLOADS / "paddle" / "transaction.completed.json").read_text())
    stripe_event = json.loads((PAYLOADS / "stripe" / "checkout.session.completed.json").read_text())
    for amount in HOSTILE_AMOUNTS if kind == "amounts" else ():
        paddle_event["data"]["details"]["totals"]["grand_total"] = amount
        body = json.dumps(paddle_event).encode()
        signature = hmac.new(PADDLE_SECRET.encode(), f"{now}:".encode() + body, hashlib.sha256).hexdigest()
        requests.append((f"paddle {amount[:12]}", f"{base}/api/webhooks/paddle/{public_id}",
                         {"Paddle-Signature": f"ts={now};h1={signature}"}, body))
        stripe_event["data"]["object"]["amount_total"] = amount
        body = json.dumps(stripe_event).encode()
        signature = hmac.new(STRIPE_SECRET.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
        requests.append((f"stripe {amount[:12]}", f"{base}/api/webhooks/stripe/{public_id}",
                         {"Stripe-Signature": f"t={now},v1={signature}"}, body))
        requests.append((f"payments {amount[:12]}", f"{base}/api/v1/payments", {"Authorization": f"Bearer {key}"},
                         orjson.dumps({"transaction_id": f"pi_{amount[:8]}", "amount": amount, "currency": "USD"})))
    return requests


@pytest.mark.parametrize("kind", ["paths", "amounts"])
def test_another_client_is_answered_within_a_second_while_hostile_requests_run(server, kind):
    base, public_id, key = server
    stop = threading.Event()
    answers: dict[str, set] = {}
    errors: list[str] = []

    def attack(label: str, url: str, headers: dict, body: bytes) -> None:
        with httpx.Client(timeout=120) as client:
            while not stop.is_set():
                try:
                    answers.setdefault(label, set()).add(client.post(url, content=body, headers=headers).status_code)
                except httpx.HTTPError as error:
                    errors.append(f"{label}: {error!r}")
                    return

    attackers = [threading.Thread(target=attack, args=request, daemon=True)
                 for request in _hostile_requests(kind, base, public_id, key)]
    for attacker in attackers:
        attacker.start()
    latencies = []
    try:
        time.sleep(0.5)  # every hostile request is in flight
        with httpx.Client(timeout=10) as other_client:
            page_view = orjson.dumps({"websiteId": public_id, "type": "pageview", "href": "https://example.com/pricing"})
            for _ in range(10):
                started = time.monotonic()
                health = other_client.get(f"{base}/api/health")
                ingest = other_client.post(f"{base}/api/events", content=page_view,
                                           headers={"Content-Type": "text/plain", "User-Agent": CHROME_UA})
                latencies.append(time.monotonic() - started)
                assert (health.status_code, ingest.status_code) == (200, 202), (health.text, ingest.text)
                time.sleep(0.1)
    except httpx.TimeoutException:
        latencies.append(float("inf"))
    finally:
        stop.set()
        for attacker in attackers:
            attacker.join(timeout=10)
    assert max(latencies) < MAX_LATENCY, f"another client waited {max(latencies):.1f} s: {latencies}"
    assert not errors, errors
    # Every hostile request was answered, and never with a 5xx.
    assert set(answers) == {label for label, *_ in _hostile_requests(kind, base, public_id, key)}
    assert all(status < 500 for statuses in answers.values() for status in statuses), answers
    assert all(statuses <= {202} for label, statuses in answers.items() if label.startswith("ingest")), answers
    assert all(statuses == {400} for label, statuses in answers.items() if not label.startswith("ingest")), answers
