"""`create_app(settings)`: the whole server as one ASGI app.

Nothing is built at import time: the stores, caches and the event writer are created in
the app's lifespan from the settings passed in, and closed when it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timezone
from urllib.parse import urlsplit

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.accounts.keys import authenticate_site_key
from postmetric.config import Settings
from postmetric.errors import DomainError
from postmetric.integrations.registry import PROVIDERS
from postmetric.integrations.sync import IntegrationSync, integrations_job
from postmetric.jobs import JobRunner, default_holder
from postmetric.mail import Mailer
from postmetric.revenue.currency import Rates
from postmetric.revenue.providers.settings import seal_stored_secrets
from postmetric.secrets_box import SecretBox, derive_key
from postmetric.ingest.geo import GeoDatabase
from postmetric.ingest.pipeline import Enrichers
from postmetric.ingest.service import Ingestion
from postmetric.ingest.redis_sessions import RedisSessionTracker
from postmetric.ingest.sessions import SESSION_TIMEOUT_SECONDS, SessionTracker, VisitTracker
from postmetric.ingest.useragent import UserAgentParser
from postmetric.ingest.writer import EventWriter
from postmetric.sites.directory import SiteDirectory
from postmetric.sites.goals import GoalDefinition, goal_definitions
from postmetric.sites.purge import purge_deleted_sites, reserve_stored_site_ids
from postmetric.sites.salts import cookieless_salts
from postmetric.sites.retention import retention_job
from postmetric.stats.engine import StatsEngine
from postmetric.store.database import create_engine, migrate, scrub_free_space, session_factory
from postmetric.store.engines import open_event_store
from postmetric.store.metadata import Site
from postmetric.store.journal import EventJournal
from postmetric.web.bodies import RefuseNulCharacters
from postmetric.web.client_ip import TrustedProxies
from postmetric.web.ratelimit import RateLimiter, RedisRateLimiter
from postmetric.web.errors import INTERNAL_ERROR, HttpError, handle_error
from postmetric.web.responses import json_error, json_response
from postmetric.web.security_headers import SecurityHeaders
from postmetric.web.services import Clock, Services, services_of
from postmetric.web.routes import accounts, dashboard, docs, ingest, payments, sites, stats, tracker
from postmetric.web.routes import customers, goals, revenue_settings, server_events, webhooks
from postmetric.web.routes import annotations, funnels, google_oauth, impact, integrations, privacy, x_posts
from postmetric.web.routes.ingest import FastEventsEndpoint

log = logging.getLogger(__name__)


def create_app(settings: Settings, *, clock: Clock = time.time) -> FastEventsEndpoint:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with _services(settings, clock) as services:
            app.state.services = endpoint.services = services
            yield

    endpoint = FastEventsEndpoint(
        Starlette(
            routes=[
                *ingest.routes, *tracker.routes, *stats.routes, *payments.routes, *docs.routes, Route("/api/health", health),
                *server_events.routes,
                *accounts.routes, *sites.routes, *goals.routes, *annotations.routes, *impact.routes, *funnels.routes,
                *integrations.routes, *google_oauth.routes, *x_posts.routes,
                *revenue_settings.routes, *webhooks.routes, *customers.routes,
                *privacy.routes,
                *dashboard.routes,  # last: the SPA fallback takes every GET path the others did not
            ],
            lifespan=lifespan,
            middleware=[Middleware(SecurityHeaders), Middleware(RefuseNulCharacters)],
            exception_handlers={HttpError: handle_error, DomainError: handle_error, HTTPException: _http_error,
                                Exception: _unexpected_error},
        )
    )
    return endpoint


async def health(request: Request) -> Response:
    return json_response({"status": "ok", "events_pending": services_of(request).writer.pending})


@contextlib.asynccontextmanager
async def _services(settings: Settings, clock: Clock) -> AsyncIterator[Services]:
    settings.ensure_data_dir()
    migrate(settings.metadata_url)
    engine = create_engine(settings.metadata_url)
    Session = session_factory(engine)
    secret_box = settings.secret_box()
    _seal_plaintext_secrets(engine, Session, secret_box)
    journal = EventJournal(settings.journal_dir)
    events = open_event_store(settings, journal_id=journal.journal_id)
    geo = GeoDatabase.open(settings.derived_data_dir)
    writer = EventWriter(events, journal, max_pending=settings.ingest_queue_size)
    recovered = writer.recover()
    if recovered:
        log.info("loaded %d journaled events left by the previous run", recovered)
    purge_deleted_sites(Session, events)  # rows of sites deleted before the replay, or on other nodes
    reserve_stored_site_ids(Session, events)  # no new site takes the id of rows a deletion left behind
    # Calls block the event loop: a Redis that hangs must fail fast (ingestion answers 503).
    redis_client = (redis.Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=1)
                    if settings.redis_url else None)
    sessions: VisitTracker
    if redis_client is not None:  # shared by every node
        sessions = RedisSessionTracker(redis_client, salts=_salt_source(Session), clock=clock)
    else:
        sessions = SessionTracker(salts=_salt_source(Session), clock=clock, max_visits=settings.session_cache_size)
    # Visits a restart (or a Redis without persistence) forgot; a live node's newer ones are kept.
    sessions.warm(events.active_sessions(since=clock() - SESSION_TIMEOUT_SECONDS))
    writer.start()

    rate_key_secret = derive_key(settings.resolved_secret_key(), purpose="rate limit keys")

    def limiter(name: str, rate: str) -> RateLimiter | RedisRateLimiter | None:
        if not rate:
            return None
        if redis_client is not None:
            return RedisRateLimiter(redis_client, rate, clock=clock, name=name, key_secret=rate_key_secret)
        return RateLimiter(rate, clock=clock)

    directory = SiteDirectory(Session, clock=clock)
    holder = default_holder()
    integration_sync = IntegrationSync(Session, events, settings, secret_box, PROVIDERS, holder=holder)
    services = Services(
        settings=settings,
        clock=clock,
        sites=directory.get,
        authenticate_site_key=_key_authenticator(Session, clock),
        ingestion=Ingestion(Enrichers(directory.get, UserAgentParser(), geo, sessions), writer),
        ingest_limiter=limiter("ingest", settings.ingest_rate_limit),
        trusted_proxies=TrustedProxies(settings.trusted_networks),
        events=events,
        sessions=sessions,
        writer=writer,
        metadata=Session,
        stats=StatsEngine(events, goals=_goal_source(Session)),
        api_limiter=limiter("api", settings.api_rate_limit),
        stopping=asyncio.Event(),
        secret_key=settings.resolved_secret_key(),
        secret_box=secret_box,
        login_limiter=limiter("login", settings.login_rate_limit),
        mailer=_mailer(settings),
        rates=Rates(),
        site_directory=directory,
        providers=PROVIDERS,
        integrations=integration_sync,
    )
    _hint_first_steps(Session, settings)
    expiry = asyncio.create_task(_expire_visits(sessions, clock))
    # Run once across nodes: each job takes a lease in the metadata database.
    background = [retention_job(Session, events), integrations_job(integration_sync)]
    jobs = asyncio.create_task(JobRunner(Session, background, holder=holder, clock=clock).run_forever())
    try:
        yield services
    finally:
        services.stopping.set()
        expiry.cancel()
        jobs.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await jobs
        await writer.close()
        events.close()  # after a purge still running in its thread: closing waits for the store's lock
        if redis_client is not None:
            redis_client.close()
        geo.close()
        engine.dispose()


def _seal_plaintext_secrets(engine, Session: sessionmaker, secret_box: SecretBox) -> None:
    """Secrets stored before they were encrypted are sealed now (rotation is `postmetric secrets rotate`)."""
    with Session.begin() as session:
        report = seal_stored_secrets(session, secret_box)
    if report.sealed:
        scrub_free_space(engine)  # the plaintext would linger in the file's free pages
        log.info("sealed %d webhook secrets stored in plaintext by an earlier version", report.sealed)


def _mailer(settings: Settings) -> Mailer | None:
    if not settings.smtp_url:
        return None
    host = urlsplit(settings.base_url).hostname or "localhost"
    return Mailer.from_url(settings.smtp_url, default_sender=f"postmetric@{host}")


def _hint_first_steps(Session: sessionmaker, settings: Settings) -> None:
    """A newcomer's first `make run` shows an empty instance: say what to do next."""
    with Session() as session:
        if session.scalar(select(func.count()).select_from(Site)):
            return
    log.info(
        "no site yet: create one with `.venv/bin/postmetric users create --email you@example.com --password ...` "
        "and `.venv/bin/postmetric sites create --owner you@example.com --domain example.com`, then paste "
        '<script defer data-website-id="<public id>" src="%s/js/script.js"></script> into your pages',
        settings.base_url,
    )


async def _expire_visits(sessions: VisitTracker, clock: Clock) -> None:
    while True:
        await asyncio.sleep(60)
        sessions.expire(clock())


def _salt_source(Session: sessionmaker) -> Callable[[date], tuple[bytes, bytes | None]]:
    def salts(day: date) -> tuple[bytes, bytes | None]:
        with Session() as session:
            pair = cookieless_salts(session, today=day)
            session.commit()
            return pair

    return salts


def _goal_source(Session: sessionmaker) -> Callable[[int], tuple[GoalDefinition, ...]]:
    def goals(site_id: int) -> tuple[GoalDefinition, ...]:
        with Session() as session:
            return goal_definitions(session, site_id)

    return goals


def _key_authenticator(Session: sessionmaker, clock: Clock) -> Callable[[str], int | None]:
    def authenticate(raw_key: str) -> int | None:
        with Session() as session:
            key = authenticate_site_key(session, raw_key, now=datetime.fromtimestamp(clock(), timezone.utc))
            session.commit()
            return key.site_id if key is not None else None

    return authenticate


async def _http_error(request: Request, exc: HTTPException) -> Response:
    return json_error(str(exc.detail), exc.status_code, exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return json_error(INTERNAL_ERROR, 500)
