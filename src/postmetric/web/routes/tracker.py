"""`GET /js/script.js`: the tracking script, as built by `tracker/build.mjs`.

The build writes `script.js` with `.gz` (gzip -9) and `.br` (brotli 11) beside it; the
route picks the smallest the client accepts, so nothing is compressed per request. The
ETag is the content hash, so a browser revalidates cheaply after the hour it may cache.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.web.responses import json_error

SCRIPT_DIR = Path(str(files("postmetric"))) / "static" / "js"
CACHE_CONTROL = "public, max-age=3600, stale-while-revalidate=86400"


@dataclass(frozen=True)
class BuiltScript:
    etag: str
    encodings: dict[str, bytes]  # "identity" | "gzip" | "br" -> body


@cache
def built_script(directory: Path = SCRIPT_DIR) -> BuiltScript | None:
    plain = directory / "script.js"
    if not plain.exists():
        return None
    encodings = {"identity": plain.read_bytes()}
    for encoding, suffix in (("br", ".br"), ("gzip", ".gz")):
        compressed = directory / f"script.js{suffix}"
        if compressed.exists():
            encodings[encoding] = compressed.read_bytes()
    return BuiltScript(etag=f'"{hashlib.sha256(encodings["identity"]).hexdigest()[:32]}"', encodings=encodings)


async def get_script(request: Request) -> Response:
    script = built_script()
    if script is None:
        return json_error("the tracking script is not built; run `make install`", 503)
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "ETag": script.etag,
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
    }
    if script.etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    encoding = _best_encoding(request.headers.get("accept-encoding", ""), script.encodings)
    if encoding != "identity":
        headers["Content-Encoding"] = encoding
    return Response(script.encodings[encoding], headers=headers, media_type="application/javascript")


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _best_encoding(accept_encoding: str, available: dict[str, bytes]) -> str:
    accepted = set()
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        if params.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            continue
        accepted.add(name.strip().lower())
    for encoding in ("br", "gzip"):
        if encoding in available and (encoding in accepted or "*" in accepted):
            return encoding
    return "identity"


routes = [Route("/js/script.js", get_script, methods=["GET", "HEAD"])]
