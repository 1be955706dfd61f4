"""Reading JSON request bodies: a size cap, decoding into the contract's Structs, and errors
that say what is wrong.

Secondary responsibility: NUL characters are refused at the edge, in bodies (`read_json`) and in
paths and query strings (`RefuseNulCharacters`): no field needs one, and PostgreSQL refuses them
in text, so one reaching a metadata lookup would fail it with a 500.
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import parse_qsl

import msgspec
import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from postmetric.web.errors import HttpError
from postmetric.web.responses import json_error

MAX_BODY_BYTES = 64 * 1024
Shape = TypeVar("Shape", bound=msgspec.Struct)


async def read_json(request: Request, *, if_empty: str, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The body parsed as JSON; 400 `if_empty` for an empty body or not JSON, 413 past `max_bytes`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and (len(declared) > 15 or int(declared) > max_bytes):
        raise HttpError(413, f"body: larger than {max_bytes} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise HttpError(413, f"body: larger than {max_bytes} bytes")
    if not body.strip():
        raise HttpError(400, if_empty)
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise HttpError(400, f"body: is not valid JSON ({error})") from None
    field = _nul_field(value)
    if field is not None:
        raise HttpError(400, f"{field}: {_NUL}")
    return value


async def json_object(request: Request, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The body as a JSON object; 400 if it is not one, 413 past `max_bytes`."""
    value = await read_json(request, if_empty=_NOT_AN_OBJECT, max_bytes=max_bytes)
    if not isinstance(value, dict):
        raise HttpError(400, _NOT_AN_OBJECT)
    return value


async def decode_body(request: Request, shape: type[Shape], *, max_bytes: int = MAX_BODY_BYTES) -> Shape:
    """The body decoded into `shape` (a Struct of `web/contract/`); 400 naming the first field, in
    the Struct's order, that is missing or wrong, with the Struct's own message for that field
    (its `MESSAGES` ClassVar) where it has one. Unknown fields are ignored unless it forbids them."""
    value = await json_object(request, max_bytes=max_bytes)
    try:
        return msgspec.convert(value, shape)
    except msgspec.ValidationError as error:
        field, problem = _first_problem(value, shape, error)
        messages: dict[str, str] = getattr(shape, "MESSAGES", {})
        raise HttpError(400, f"{field}: {messages.get(field, problem)}") from None


def _first_problem(value: dict[str, Any], shape: type[msgspec.Struct],
                   error: msgspec.ValidationError) -> tuple[str, str]:
    """The first field in declaration order that is missing or wrong, and what is wrong, as a
    hand-written parser would check them (msgspec reports in the body's key order, a missing
    field last)."""
    for field in msgspec.structs.fields(shape):
        if field.encode_name not in value:
            if field.required:
                return field.encode_name, "is required"
            continue
        try:
            msgspec.convert(value[field.encode_name], field.type)
        except msgspec.ValidationError as wrong:  # "… - at `$[0].match`" inside the field's value
            text, _, where = str(wrong).partition(" - at `$")
            return field.encode_name + where.rstrip("`"), _lowered(text)
    # Not a field's own value (an unknown field of a Struct that forbids them): msgspec's words.
    text, _, where = str(error).partition(" - at `$")
    return where.rstrip("`").lstrip(".") or "body", _lowered(text)


def _lowered(text: str) -> str:
    return text[:1].lower() + text[1:]


_NOT_AN_OBJECT = "body: must be a JSON object"
_NUL = "must not contain a NUL character (\\u0000)"


def _nul_field(value: Any) -> str | None:
    """The path (`steps[1].match`) of the first key or string holding a NUL character, or None.
    Iterative: orjson allows 1,024 levels of nesting, more than Python's recursion limit."""
    pending: list[tuple[str, Any]] = [("body", value)]
    while pending:
        path, item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = key if path == "body" else f"{path}.{key}"
                if "\x00" in key:
                    return child_path.replace("\x00", "")
                pending.append((child_path, child))
        elif isinstance(item, list):
            pending.extend((f"{path}[{i}]", child) for i, child in enumerate(item))
    return None


class RefuseNulCharacters:
    """ASGI middleware: 400 for a path or a query parameter holding a NUL character (`%00`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            field = _nul_in_url(scope)
            if field is not None:
                await json_error(f"{field}: {_NUL}", 400)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _nul_in_url(scope: Scope) -> str | None:
    if "\x00" in scope["path"]:
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"%00" not in query and b"\x00" not in query:
        return None
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "") or "query"
    return "query"
