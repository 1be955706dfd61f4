"""`postmetric serve`: run the app under uvicorn (uvloop + httptools)."""

from __future__ import annotations

import logging

import uvicorn

from postmetric.app import create_app
from postmetric.config import Settings


class _Server(uvicorn.Server):
    """Uvicorn waits for open responses to finish before it runs the app's shutdown, so an
    event stream told to stop only there would hold shutdown until the graceful timeout.
    The streams are told as soon as shutdown begins."""

    async def shutdown(self, sockets=None) -> None:
        services = getattr(self.config.app, "services", None)
        if services is not None:
            services.stopping.set()
        await super().shutdown(sockets)


def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = uvicorn.Config(
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
    _Server(config).run()
