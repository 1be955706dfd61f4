"""The dashboard SPA, as built by `vite build` from `dashboard/` into `static/dashboard/`.

`/assets/…` are the build's content-hashed files: cached for a year, never revalidated.
Every other GET path that no API route took (`/`, `/login`, `/sites/…`, `/share/…`) gets
`index.html` with `no-cache`, so a new build is picked up at the next page load and the
client-side router draws the page.

Secondary responsibilities:
1. Keeping API and tracker paths honest: an unknown `/api/…` or `/js/…` path keeps the app's
   JSON 404 (or 405), never the SPA's HTML.
2. Saying what to do when the build is missing: a 503 page naming `make install`.
3. Sending less: scripts and styles go gzipped to clients that accept it, compressed once per
   file and kept in memory (the chart chunk: 405 KB plain, 111 KB gzipped).
4. Staying inside the build directory: asset paths with `..` or other tricks are a 404.
"""

from __future__ import annotations

import functools
import gzip
import mimetypes
from importlib.resources import files
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Match, Route
from starlette.types import Scope

from postmetric.web.responses import json_error

DASHBOARD_DIR = Path(str(files("postmetric"))) / "static" / "dashboard"
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"
PAGE_CACHE_CONTROL = "no-cache"
NOT_SPA_PREFIXES = ("/api/", "/js/")
COMPRESSIBLE = frozenset({".js", ".css", ".svg", ".json", ".map"})

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Postmetric: dashboard not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem">
<h1>The dashboard is not built</h1>
<p>This server has no dashboard build in <code>src/postmetric/static/dashboard/</code>.
Run <code>make install</code> (it runs <code>npm ci</code> and <code>vite build</code> in
<code>dashboard/</code>), then reload this page.</p>
<p>The APIs under <code>/api/</code> and the tracking script work without it.</p>
</body></html>
"""


def _not_built() -> Response:
    return HTMLResponse(NOT_BUILT_PAGE, status_code=503, headers={"Cache-Control": "no-store"})


def _inside(directory: Path, relative: str) -> Path | None:
    """`directory / relative` if it is a file inside `directory`, else None."""
    if not relative or "\\" in relative or "\x00" in relative:
        return None
    candidate = (directory / relative).resolve()
    if not candidate.is_relative_to(directory.resolve()) or not candidate.is_file():
        return None
    return candidate


async def get_asset(request: Request) -> Response:
    directory = DASHBOARD_DIR
    if not (directory / "index.html").is_file():
        return _not_built()
    asset = _inside(directory / "assets", request.path_params["path"])
    if asset is None:
        return Response("not found", status_code=404, media_type="text/plain", headers={"Cache-Control": "no-store"})
    headers = {"Cache-Control": ASSET_CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if asset.suffix in COMPRESSIBLE and _accepts_gzip(request.headers.get("accept-encoding", "")):
        body = await run_in_threadpool(_gzipped, asset, asset.stat().st_mtime_ns)  # the first time takes ~50 ms
        media_type = mimetypes.guess_type(asset.name)[0] or "application/octet-stream"
        return Response(body, headers={**headers, "Content-Encoding": "gzip"}, media_type=media_type)
    return FileResponse(asset, headers=headers)


@functools.lru_cache(maxsize=64)
def _gzipped(path: Path, mtime_ns: int) -> bytes:
    """Each asset is compressed once per build (the name and mtime key the cache)."""
    return gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


async def get_page(request: Request) -> Response:
    path: str = request.path_params["path"]
    if request.method not in ("GET", "HEAD"):
        return json_error(f"{request.method} is not allowed on {request.url.path}", 405, {"Allow": "GET, HEAD"})
    directory = DASHBOARD_DIR
    index = directory / "index.html"
    if not index.is_file():
        return _not_built()
    if "/" not in path and path != "index.html":
        top_level = _inside(directory, path)  # favicon.svg and the like, copied from dashboard/public/
        if top_level is not None:
            return FileResponse(top_level, headers={"Cache-Control": PAGE_CACHE_CONTROL})
    return HTMLResponse(index.read_bytes(), headers={"Cache-Control": PAGE_CACHE_CONTROL})


class PageRoute(Route):
    """Every path but `/api…` and `/js/…`: those keep the app's own 404 and 405 answers."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path: str = scope.get("path", "")
        if path == "/api" or path.startswith(NOT_SPA_PREFIXES):
            return Match.NONE, {}
        return super().matches(scope)


# Registered after every other route: the fallback takes whatever they did not.
routes = [
    Route("/assets/{path:path}", get_asset, methods=["GET", "HEAD"]),
    PageRoute("/{path:path}", get_page, methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
]
