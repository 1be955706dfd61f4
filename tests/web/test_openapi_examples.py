"""Every example in the OpenAPI document is valid against the schema it illustrates: request
bodies, answers (per status and media type), shared answers and parameters.

The schemas come from the contract's Structs (`web/contract/`), with `forbid_unknown_fields` on
every answer, so an example with a misspelt, missing or extra field fails here. Formats (uuid,
email, date-time) are checked too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from postmetric.web.openapi import OPENAPI

JSON_MEDIA = ("application/json", "text/plain")  # /api/events takes its JSON body as text/plain too


def documented_examples() -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every example of the document that has a schema."""
    for path, operations in OPENAPI["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", ()):
                if "example" in parameter:
                    yield f"{name} parameter {parameter['name']}", parameter["schema"], parameter["example"]
            for media, content in operation.get("requestBody", {}).get("content", {}).items():
                if "example" in content:
                    yield f"{name} body ({media})", content["schema"], content["example"]
            for status, answer in operation["responses"].items():
                for media, content in answer.get("content", {}).items():
                    if "example" in content and "schema" in content:
                        yield f"{name} {status} ({media})", content["schema"], content["example"]
    for title, answer in OPENAPI["components"]["responses"].items():
        for media, content in answer["content"].items():
            yield f"components/responses/{title} ({media})", content["schema"], content["example"]


EXAMPLES = list(documented_examples())


def validator(schema: dict[str, Any]):
    """A validator for `schema` that resolves the document's `#/components/…` references."""
    return jsonschema_rs.Draft202012Validator({**schema, "components": OPENAPI["components"]},
                                              validate_formats=True)


@pytest.mark.parametrize(("where", "schema", "example"), EXAMPLES, ids=[where for where, _, _ in EXAMPLES])
def test_the_documented_example_is_valid(where, schema, example):
    errors = [f"{'/'.join(map(str, error.instance_path))}: {error.message}"
              for error in validator(schema).iter_errors(example)]
    assert errors == [], where


def test_every_operation_has_examples_of_its_json_bodies():
    """A JSON request body or answer without an example would go unchecked here (the document
    itself, the answer of /api/openapi.json, excepted)."""
    missing = []
    for path, operations in OPENAPI["paths"].items():
        if path == "/api/openapi.json":
            continue
        for method, operation in operations.items():
            contents = [("body", operation.get("requestBody", {}).get("content", {}))]
            contents += [(status, answer.get("content", {})) for status, answer in operation["responses"].items()]
            for where, content in contents:
                if "application/json" in content and "example" not in content["application/json"]:
                    missing.append(f"{method.upper()} {path} {where}")
    assert missing == []


def test_an_example_with_an_unknown_field_is_refused():
    """The check has teeth: answers are closed objects."""
    schema = OPENAPI["paths"]["/api/v1/sites/{id}/goals"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"]
    goal = {"id": 1, "kind": "event", "event_name": "signup", "page_path": None, "display_name": "Sign up"}
    assert validator(schema).is_valid({"goals": [goal]})
    assert not validator(schema).is_valid({"goals": [goal | {"colour": "red"}]})
    assert not validator(schema).is_valid({"goals": [{k: v for k, v in goal.items() if k != "kind"}]})
