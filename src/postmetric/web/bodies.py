"""Reading JSON request bodies: a size cap, and errors that say what is wrong."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from postmetric.web.auth import ApiError

MAX_BODY_BYTES = 64 * 1024


async def json_object(request: Request, *, max_bytes: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The body as a JSON object; 400 if it is not one, 413 past `max_bytes`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ApiError(413, f"body: larger than {max_bytes} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise ApiError(413, f"body: larger than {max_bytes} bytes")
    try:
        value = orjson.loads(body) if body.strip() else None
    except orjson.JSONDecodeError as error:
        raise ApiError(400, f"body: is not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ApiError(400, "body: must be a JSON object")
    return value
