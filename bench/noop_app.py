"""The yardstick of bench/ingest.py: a Starlette endpoint that reads the body and does nothing."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


async def noop(request: Request) -> Response:
    await request.body()
    return Response(b'{"ok":true}', 202, {"Access-Control-Allow-Origin": "*"}, media_type="application/json")


app = Starlette(routes=[Route("/api/events", noop, methods=["POST"])])
