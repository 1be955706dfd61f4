"""Small JSON response helpers shared by the routes."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}


def json_response(body: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type="application/json")


def json_error(message: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    return json_response({"error": message}, status, headers)
