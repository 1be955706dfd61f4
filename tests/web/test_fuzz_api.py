"""Schema-driven fuzzing: schemathesis generates requests from the served OpenAPI document and
sends them to a real server (uvicorn on a free port) holding a site with events and payments.

The contract under test: no input, however malformed, gets a 5xx. Every operation is called with
an account token and with a site key (each credential reaches different code), with a bounded
number of examples so `make test` stays within about a minute; `make fuzz` raises the count
(POSTMETRIC_FUZZ_EXAMPLES). Responses are also checked against the document's status codes, content
types and response schemas (the contract's Structs, closed objects: an answer with a field the
contract does not declare, or without one it does, fails).

Left out of the generated calls, on purpose:
1. `GET /api/v1/realtime/stream`: an endless event stream (its parameters are the realtime ones).
2. Operations that would end the run's own access (deleting the site, revoking its key, removing
   its owner), so the later examples still reach the code behind authentication.

Generated values stay within what JSON and URLs carry; the classes schemathesis rarely reaches
(ids past 64 bits, year 1 with an offset, invalid UTF-8, NUL characters…) are each tested on
every endpoint in test_hostile_input.py.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from postmetric.app import create_app
from postmetric.config import Settings
from postmetric.store.database import migrate

from factories import CHROME_UA, Clock
from live_app import serving
from smtp_server import start_smtp
from stats_api_support import create_tenant

EXAMPLES = int(os.environ.get("POSTMETRIC_FUZZ_EXAMPLES", "20"))
SKIPPED = {
    ("GET", "/api/v1/realtime/stream"),
    ("DELETE", "/api/v1/sites/{id}"),
    ("DELETE", "/api/v1/sites/{id}/keys/{key_id}"),
    ("DELETE", "/api/v1/sites/{id}/members/{user_id}"),
    ("PUT", "/api/v1/sites/{id}/members/{user_id}"),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A running server with one site holding a pageview and a payment; its URL and credentials."""
    data = tmp_path_factory.mktemp("fuzz")
    smtp, _ = start_smtp()  # so that a password reset is sent, not refused for want of mail
    settings = Settings(data_dir=data / "data", cache_dir=data / "cache", ingest_rate_limit="", api_rate_limit="",
                        login_rate_limit="", smtp_url=f"smtp://127.0.0.1:{smtp.port}")
    settings.ensure_data_dir()
    migrate(settings.metadata_url)
    tenant = create_tenant(settings, email="owner@example.com", domain="example.com")
    app = create_app(settings, clock=Clock(time.time()))
    with serving(app) as base_url:
        with httpx.Client(base_url=base_url, headers={"user-agent": CHROME_UA}) as http:
            now = datetime.now(timezone.utc).isoformat()
            http.post("/api/events", json={"websiteId": tenant.public_id, "type": "pageview",
                                           "href": "https://example.com/pricing"}).raise_for_status()
            http.post("/api/v1/payments", headers={"authorization": f"Bearer {tenant.key}"},
                      json={"transaction_id": "pi_1", "amount": 29.99, "currency": "USD", "timestamp": now,
                            "email": "buyer@example.com"}).raise_for_status()
        yield base_url, tenant
    smtp.stop()


def _operations(base_url: str):
    schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json")
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) not in SKIPPED:
            yield operation


def test_no_input_gets_a_5xx(served):
    """Every operation, with every credential: a 4xx at worst, in the shape the document promises."""
    base_url, tenant = served
    failures: dict[str, str] = {}

    for operation in _operations(base_url):
        @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                              operation.as_strategy(GenerationMode.NEGATIVE)))
        @hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def call(case):
            for credential in (tenant.token, tenant.key):
                response = case.call(headers={"authorization": f"Bearer {credential}"}, timeout=30)
                assert response.status_code < 500, (
                    f"{response.status_code}: {response.text[:300]}\n{case.as_curl_command()}")
                case.validate_response(response, checks=[status_code_conformance, content_type_conformance,
                                                         response_schema_conformance])

        try:
            call()
        except (AssertionError, BaseExceptionGroup) as error:  # one report for the whole API
            failures[f"{operation.method.upper()} {operation.path}"] = str(error)[:2000]
    if failures:
        pytest.fail("\n\n".join(f"{name}\n{reason}" for name, reason in failures.items()), pytrace=False)
