"""`Services`: what the routes use, built once in the app's lifespan (`app.create_app`).

`services_of(request)` is the one way a route reaches them, typed, rather than through the
untyped `request.app.state`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import sessionmaker
from starlette.requests import Request

from postmetric.config import Settings
from postmetric.ingest.service import Ingestion
from postmetric.integrations.sync import IntegrationSync, Provider
from postmetric.ingest.sessions import VisitTracker
from postmetric.ingest.writer import EventWriter
from postmetric.mail import Mailer
from postmetric.revenue.currency import Rates
from postmetric.secrets_box import SecretBox
from postmetric.sites.directory import SiteDirectory
from postmetric.sites.settings import SiteSettings
from postmetric.stats.engine import StatsEngine
from postmetric.store.events import EventStore
from postmetric.web.client_ip import TrustedProxies
from postmetric.web.ratelimit import RateLimiter, RedisRateLimiter

Clock = Callable[[], float]


@dataclass
class Services:
    """What the routes use, built once in the lifespan."""

    settings: Settings
    clock: Clock
    sites: Callable[[str], SiteSettings | None]
    site_directory: SiteDirectory  # behind `sites`: invalidated when a site is deleted
    authenticate_site_key: Callable[[str], int | None]
    ingestion: Ingestion
    ingest_limiter: RateLimiter | RedisRateLimiter | None
    trusted_proxies: TrustedProxies
    events: EventStore
    sessions: VisitTracker
    writer: EventWriter
    metadata: sessionmaker  # sessions on the metadata database, for blocking code in threads
    stats: StatsEngine
    api_limiter: RateLimiter | RedisRateLimiter | None  # per site key / account token, for the stats API
    stopping: asyncio.Event  # set when the app shuts down: long-lived responses (event streams) end
    secret_key: str = ""  # POSTMETRIC_SECRET_KEY, or the one generated into the data dir
    secret_box: SecretBox | None = None  # seals webhook secrets and integration tokens at rest
    login_limiter: RateLimiter | RedisRateLimiter | None = None  # per email and per client IP, for login and password reset
    mailer: Mailer | None = None  # None without POSTMETRIC_SMTP_URL
    rates: Rates | None = None  # ECB rates for payments in another currency than the site's
    providers: Mapping[str, Provider] = field(default_factory=dict)  # the integrations, by kind
    integrations: IntegrationSync | None = None  # runs their syncs ("Sync now")


def services_of(request: Request) -> Services:
    """The services of the app serving `request`."""
    return request.app.state.services
