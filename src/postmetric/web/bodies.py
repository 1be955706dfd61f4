"""Reading JSON request bodies: a size cap, and errors that say what is wrong."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from postmetric.web.auth import ApiError

MAX_BODY_BYTES = 64 * 1024


async def read_json(request: Request, *, if_empty: str, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The body parsed as JSON; 400 `if_empty` for an empty body or not JSON, 413 past `max_bytes`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and (len(declared) > 15 or int(declared) > max_bytes):
        raise ApiError(413, f"body: larger than {max_bytes} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise ApiError(413, f"body: larger than {max_bytes} bytes")
    if not body.strip():
        raise ApiError(400, if_empty)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ApiError(400, f"body: is not valid JSON ({error})") from None


async def json_object(request: Request, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The body as a JSON object; 400 if it is not one, 413 past `max_bytes`."""
    value = await read_json(request, if_empty=_NOT_AN_OBJECT, max_bytes=max_bytes)
    if not isinstance(value, dict):
        raise ApiError(400, _NOT_AN_OBJECT)
    return value


_NOT_AN_OBJECT = "body: must be a JSON object"
