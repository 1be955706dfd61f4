"""The README's "Revenue providers" section names every provider's URL and every event it uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from postmetric.revenue.providers import PROVIDERS

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()
SECTION = README.split("### Revenue providers", 1)[-1].split("\n## ", 1)[0] if "### Revenue providers" in README else ""


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_every_provider_and_its_events_are_documented(provider):
    assert f"`{provider}`" in SECTION
    for event in PROVIDERS[provider].EVENTS:
        assert f"`{event}`" in SECTION, event


def test_the_metadata_keys_and_the_script_call_are_documented():
    for needle in ("postmetric.getVisitorId()", "`postmetric_visitor_id`", "`datafast_visitor_id`", "`visitorId`"):
        assert needle in SECTION


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_the_openapi_example_event_is_one_the_provider_records(provider):
    from postmetric.web.openapi import OPENAPI

    operation = OPENAPI["paths"][f"/api/webhooks/{provider}/{{site_public_id}}"]["post"]
    example = operation["requestBody"]["content"]["application/json"]["example"]
    [payment] = PROVIDERS[provider].parse(example).payments
    assert payment["visitor_id"] == "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"
