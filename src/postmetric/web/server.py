"""`postmetric serve`: run the app under uvicorn (uvloop + httptools)."""

from __future__ import annotations

import logging

import uvicorn

from postmetric.app import create_app
from postmetric.config import Settings


def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        # Client addresses are decided by postmetric.web.client_ip from POSTMETRIC_TRUSTED_PROXIES;
        # uvicorn's own X-Forwarded-For rewriting would bypass that setting.
        proxy_headers=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
