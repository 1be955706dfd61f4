"""The path table's row, and the OpenAPI document built from a list of rows.

An `Operation` names its method, path, summary, auth, parameters, request shape and one `Answer`
per status; shapes are msgspec types (Structs, mostly), turned into JSON Schema by
`msgspec.json.schema_components`, so the document, the routes' decoding and the dashboard's
generated types read one definition. Examples sit next to the Structs in each area module;
tests/web/test_openapi_examples.py validates every one against the document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec

JSON = "application/json"
SCHEMA_REF = "#/components/schemas/{name}"

# Any JSON object. Said explicitly: openapi-typescript reads a bare `{"type": "object"}` as an
# object without keys.
JsonObject = Annotated[dict[str, Any], msgspec.Meta(extra_json_schema={"additionalProperties": True})]


class Error(msgspec.Struct, forbid_unknown_fields=True):
    """Every 4xx and 5xx answer of the API: `"<field>: <what is wrong>"`."""

    error: str


@dataclass(frozen=True)
class Answer:
    """One documented status of an operation: its shape (None: no body) and an example of it."""

    description: str
    shape: Any = None
    example: Any = None
    media: str = JSON
    headers: dict[str, Any] | None = None
    schema: dict[str, Any] | None = None  # for a body that is not JSON (a zip, a stream), instead of `shape`


@dataclass(frozen=True)
class Ref:
    """A shared response of `components/responses` (BadRequest, Unauthorized…)."""

    name: str


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    tag: str
    summary: str
    answers: dict[int, Answer | Ref]
    description: str | None = None
    security: list[dict[str, list]] | None = None  # None: no `security` key (public)
    parameters: list[dict[str, Any]] = field(default_factory=list)
    body: Any = None  # the request shape; None: no body
    body_example: Any = None
    body_media: tuple[str, ...] = (JSON,)
    body_description: str | None = None


def error(description: str, example: str) -> Answer:
    return Answer(description, Error, {"error": example})


def build_document(*, info: dict[str, Any], tags: list[dict[str, Any]], operations: Iterable[Operation],
                   security_schemes: dict[str, Any], responses: dict[str, Answer]) -> dict[str, Any]:
    """The OpenAPI 3.1 document: the paths in table order, every shape a component schema."""
    operations = list(operations)
    shapes = [*responses_shapes(responses.values()), *(shape for op in operations for shape in _shapes(op))]
    unique = list(dict.fromkeys(shapes))
    schemas, components = msgspec.json.schema_components(unique, ref_template=SCHEMA_REF)
    schema_of = dict(zip(unique, schemas))
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method] = _operation(op, schema_of)
    return {
        "openapi": "3.1.0",
        "info": info,
        "tags": tags,
        "paths": paths,
        "components": {
            "securitySchemes": security_schemes,
            "schemas": dict(sorted(components.items())),
            "responses": {name: _answer(answer, schema_of) for name, answer in responses.items()},
        },
    }


def responses_shapes(answers: Iterable[Answer]) -> list[Any]:
    return [answer.shape for answer in answers if answer.shape is not None]


def _shapes(op: Operation) -> list[Any]:
    found = [op.body] if op.body is not None else []
    return found + responses_shapes(a for a in op.answers.values() if isinstance(a, Answer))


def _operation(op: Operation, schema_of: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    operation: dict[str, Any] = {"tags": [op.tag], "operationId": op.operation_id, "summary": op.summary}
    if op.description:
        operation["description"] = op.description
    if op.security is not None:
        operation["security"] = op.security
    if op.parameters:
        operation["parameters"] = op.parameters
    if op.body is not None:
        content = {media: {"schema": schema_of[op.body], "example": op.body_example} for media in op.body_media}
        operation["requestBody"] = {"required": True, "content": content}
        if op.body_description:
            operation["requestBody"]["description"] = op.body_description
    operation["responses"] = {
        str(status): ({"$ref": f"#/components/responses/{answer.name}"} if isinstance(answer, Ref)
                      else _answer(answer, schema_of))
        for status, answer in op.answers.items()
    }
    return operation


def _answer(answer: Answer, schema_of: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": answer.description}
    if answer.headers:
        out["headers"] = answer.headers
    if answer.shape is not None:
        media: dict[str, Any] | None = {"schema": schema_of[answer.shape]}
    elif answer.schema is not None:
        media = {"schema": answer.schema}
    else:  # no body, or one that is named but not described (a GIF, an HTML page)
        media = {} if answer.media != JSON else None
    if media is not None:
        if answer.example is not None:
            media["example"] = answer.example
        out["content"] = {answer.media: media}
    return out
