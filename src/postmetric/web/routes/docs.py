"""`GET /api/openapi.json` and `GET /api/docs`: the API described, for machines and for people."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from postmetric.web.openapi import OPENAPI, docs_html

_DOCUMENT = orjson.dumps(OPENAPI)
_PAGE = docs_html(OPENAPI)


async def get_openapi(request: Request) -> Response:
    return Response(_DOCUMENT, media_type="application/json", headers={"Access-Control-Allow-Origin": "*"})


async def get_docs(request: Request) -> Response:
    return HTMLResponse(_PAGE)


routes = [
    Route("/api/openapi.json", get_openapi, methods=["GET"]),
    Route("/api/docs", get_docs, methods=["GET"]),
]
