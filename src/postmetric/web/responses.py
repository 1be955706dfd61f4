"""Small JSON response helpers shared by the routes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec
import orjson
from starlette.responses import Response

CORS_HEADERS = {"Access-Control-Allow-Origin": "*"}


def json_response(body: object, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """`body` as JSON; a Struct of `web/contract/` (anywhere in it) is written as its fields."""
    return Response(orjson.dumps(body, default=_contract_shape), status_code=status, headers=headers,
                    media_type="application/json")


def _contract_shape(value: object) -> object:
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)  # UNSET fields are left out
    raise TypeError(f"{type(value).__name__} is not JSON")


def json_error(message: str, status: int, headers: Mapping[str, str] | None = None) -> Response:
    return json_response({"error": message}, status, headers)


def iso_time(value: datetime | None) -> str | None:
    """An aware datetime as ISO 8601 in UTC with a `Z`, as every API answer writes times."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None
