"""Small JSON response helpers shared by the routes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import orjson
from starlette.responses import Response

CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}


def json_response(body: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type="application/json")


def json_error(message: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    return json_response({"error": message}, status, headers)


def iso_time(value: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 in UTC with a `Z`, as every API answer writes times."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
