"""The sync engine: runs each connected integration's provider when it is due, once across nodes, and
records what happened so Settings can say it ("synced 4 min ago", "rate limited until 14:05").

A provider (GitHub, X, Search Console) knows its API; this module knows when to call it and what a
failure means. `sync_due` is the job every node runs each minute; `sync_now` is the "Sync now" button.
Both claim the integration first with one conditional UPDATE on its row (`claimed_until`), so two
nodes, or a node and a button, never sync one integration together.

What a run's outcome does to the next one:
- success: the provider's cursor is stored, the next run is `interval_seconds` later;
- `RateLimited`: the next run is at the provider's reset time, nothing else changes;
- `UpstreamFailed` (5xx, network, malformed answers) or an unexpected error: retried with an
  exponential back-off, 1, 2, 4 … minutes, at most 6 hours;
- `TokenRejected`, `AccessDenied`, `SourceNotFound`, `SettingsRejected`: not retried until the connection is changed
  (reconnecting, or "Sync now"): repeating the call cannot help.

Blocking (HTTP and SQLAlchemy): call from a worker thread. Time comes from `now`, never a sleep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from postmetric.config import Settings
from postmetric.jobs import Job
from postmetric.secrets_box import SecretBox, SecretUnreadable
from postmetric.store.events import EventStore
from postmetric.store.metadata import Annotation, Integration, Site

log = logging.getLogger(__name__)

# What Settings shows; "not_connected" is never stored, it is the absence of a row.
STATES = ("not_connected", "pending", "ok", "error", "rate_limited", "token_rejected", "forbidden", "not_found",
          "invalid_settings")
# A node that dies mid-sync holds the integration at most this long; a live run is never renewed, so
# this outlasts the longest one (a first Search Console sync pages through 16 months).
CLAIM_SECONDS = 3600.0
MAX_BACKOFF = timedelta(hours=6)
MAX_MESSAGE = 500
USER_AGENT = "Postmetric (self-hosted web analytics; integrations sync)"


class SyncError(Exception):
    """A sync that could not complete; `str(error)` is shown to the site's admins, so it says what to do."""

    state = "error"


class TokenRejected(SyncError):
    state = "token_rejected"


class AccessDenied(SyncError):
    state = "forbidden"


class SourceNotFound(SyncError):
    state = "not_found"


class SettingsRejected(SyncError):
    """The provider refuses what the connection asks (a search query X cannot parse)."""

    state = "invalid_settings"


class UpstreamFailed(SyncError):
    state = "error"


class RateLimited(SyncError):
    state = "rate_limited"

    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class SyncAbandoned(Exception):
    """The integration was disconnected or taken over while its sync ran: what it fetched is dropped."""


@dataclass(frozen=True, slots=True)
class SyncedAnnotation:
    """One commit, release or post, stored as an annotation of the provider's kind."""

    external_id: str
    time: datetime
    text: str
    url: str | None
    author: str | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SyncResult:
    cursor: dict[str, Any]  # given back as `run.cursor` next time
    summary: str  # "12 new commits"
    token: str | None = None  # a replaced secret (a rotated refresh token) to seal and store


@dataclass(frozen=True, slots=True)
class Connection:
    """A provider's reading of a connect body: what to store."""

    config: dict[str, Any]
    token: str | None = None
    keep_token: bool = False  # no token given: the stored one stays


class Provider(Protocol):
    kind: str
    label: str
    interval_seconds: float

    def parse_config(self, body: dict[str, Any], *, site_domain: str, current: dict[str, Any] | None) -> Connection:
        """The connect body, validated (ValidationError names the field)."""

    def sync(self, run: SyncRun) -> SyncResult:
        """Fetch what is new; raise a SyncError when the provider says no."""

    def delete_data(self, Session: sessionmaker[Session], events: EventStore, site_id: int) -> None:
        """Forget what the sync stored for the site ("disconnect and delete its data")."""


@dataclass
class SyncRun:
    """What one provider run gets: the integration as stored, and the means to fetch and store."""

    site_id: int
    site_domain: str
    kind: str
    config: dict[str, Any]
    cursor: dict[str, Any]
    token: str | None
    now: datetime
    http: httpx.Client
    settings: Settings
    events: EventStore
    Session: sessionmaker[Session]
    integration_id: int = 0
    holder: str = ""

    def save_annotations(self, annotations: Sequence[SyncedAnnotation]) -> int:
        """Insert or update (by external id) these annotations of the run's kind; how many were new.

        Refused (SyncAbandoned) once the integration is gone or claimed by another node: a disconnect
        with "delete its data" must not be undone by a sync that was already running."""
        if not annotations:
            return 0
        by_id = {annotation.external_id: annotation for annotation in annotations}
        with self.Session.begin() as session:
            self._ensure_claimed(session)
            stored = {row.external_id: row for row in session.scalars(select(Annotation).where(
                Annotation.site_id == self.site_id, Annotation.kind == self.kind,
                Annotation.external_id.in_(list(by_id))))}
            new = 0
            for external_id, synced in by_id.items():
                row = stored.get(external_id)
                if row is None:
                    row = Annotation(site_id=self.site_id, kind=self.kind, external_id=external_id)
                    session.add(row)
                    new += 1
                row.time, row.text, row.url = synced.time, synced.text[:500], synced.url
                row.author, row.details = synced.author, synced.details
        return new

    def ensure_claimed(self) -> None:
        """SyncAbandoned once the integration is disconnected or taken over by another node: a provider
        writing elsewhere than annotations calls this before each write."""
        with self.Session() as session:
            self._ensure_claimed(session)

    def _ensure_claimed(self, session: Session) -> None:
        if session.scalar(select(Integration.id).where(
                Integration.id == self.integration_id, Integration.claimed_by == self.holder)) is None:
            raise SyncAbandoned(f"integration {self.integration_id} was disconnected during its sync")


def delete_annotations(Session: sessionmaker[Session], site_id: int, kind: str) -> int:
    """A provider's `delete_data` for what it stores as annotations."""
    with Session.begin() as session:
        return session.execute(delete(Annotation).where(Annotation.site_id == site_id, Annotation.kind == kind)
                               .execution_options(synchronize_session=False)).rowcount


def token_context(site_id: int, kind: str) -> str:
    """Where an integration's sealed token belongs: it does not open in another row."""
    return f"integrations.token:{site_id}:{kind}"


HttpFactory = Callable[[], httpx.Client]


MAX_BODY_BYTES = 8 * 1024 * 1024  # far above any page the providers send


def read_body(response: httpx.Response, *, provider: str) -> bytes:
    """A streamed answer's body, read up to MAX_BODY_BYTES: a larger one is a failure, not a memory bill."""
    data = bytearray()
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) > MAX_BODY_BYTES:
            raise UpstreamFailed(f"{provider}'s answer is larger than {MAX_BODY_BYTES // 1024 // 1024} MB")
    return bytes(data)


def default_http() -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=False,
                        headers={"User-Agent": USER_AGENT})


class IntegrationSync:
    """Runs the providers of this node's claimed integrations and records their outcomes."""

    def __init__(self, Session: sessionmaker[Session], events: EventStore, settings: Settings, secret_box: SecretBox,
                 providers: Mapping[str, Provider], *, holder: str, http: HttpFactory = default_http,
                 claim_seconds: float = CLAIM_SECONDS) -> None:
        self._Session = Session
        self._events = events
        self._settings = settings
        self._box = secret_box
        self._providers = providers
        self._holder = holder
        self._http = http
        self._claim = timedelta(seconds=claim_seconds)

    def sync_due(self, now: datetime) -> str:
        """Sync every integration whose next run is due and that no node holds; a summary for the log."""
        with self._Session() as session:
            due = list(session.scalars(select(Integration.id).where(
                Integration.next_sync_at.is_not(None), Integration.next_sync_at <= now,
                Integration.kind.in_(list(self._providers))).order_by(Integration.next_sync_at)))
        outcomes: dict[str, int] = {}
        for integration_id in due:
            if self._claim_row(integration_id, now, due_only=True):
                state = self._run(integration_id, now)
                outcomes[state] = outcomes.get(state, 0) + 1
        return ", ".join(f"{count} {state}" for state, count in sorted(outcomes.items())) or "nothing due"

    def sync_now(self, integration_id: int, now: datetime) -> str | None:
        """Sync this integration at once, due or not; its new state, or None when another run holds it."""
        if not self._claim_row(integration_id, now, due_only=False):
            return None
        return self._run(integration_id, now)

    def _claim_row(self, integration_id: int, now: datetime, *, due_only: bool) -> bool:
        conditions = [Integration.id == integration_id,
                      or_(Integration.claimed_until.is_(None), Integration.claimed_until <= now)]
        if due_only:
            conditions.append(Integration.next_sync_at <= now)
        with self._Session.begin() as session:
            return bool(session.execute(
                update(Integration).where(*conditions)
                .values(claimed_until=now + self._claim, claimed_by=self._holder)
                .execution_options(synchronize_session=False)).rowcount)

    def _run(self, integration_id: int, now: datetime) -> str:
        with self._Session() as session:
            integration = session.get_one(Integration, integration_id)
            domain = session.get_one(Site, integration.site_id).domain
            provider = self._providers[integration.kind]
            token_stored = integration.token
            site_id, kind = integration.site_id, integration.kind
            config, cursor = dict(integration.config), dict(integration.cursor)
        if config.get("demo"):  # `postmetric demo`'s integrations show data but have nothing to fetch
            return self._record(integration_id, now, provider, SyncResult(cursor, "demo data: nothing to fetch"))
        try:
            token = self._box.open(token_stored, context=token_context(site_id, kind)) if token_stored else None
        except SecretUnreadable as error:
            return self._record(integration_id, now, provider, TokenRejected(
                f"the stored token cannot be opened ({error}); connect again"))
        with self._http() as http:
            run = SyncRun(site_id=site_id, site_domain=domain, kind=kind, config=config, cursor=cursor,
                          token=token, now=now, http=http, settings=self._settings, events=self._events,
                          Session=self._Session, integration_id=integration_id, holder=self._holder)
            try:
                outcome: SyncResult | BaseException = provider.sync(run)
            except SyncAbandoned:
                log.info("integration %d was disconnected during its sync", integration_id)
                return "abandoned"
            except SyncError as error:
                outcome = error
            except httpx.HTTPError as error:  # a provider's transport failure it did not name
                outcome = UpstreamFailed(f"{provider.label} could not be reached: {error}")
            except Exception as error:  # a bug or an answer the provider did not foresee: retried, and logged
                log.exception("the %s sync of integration %d failed", kind, integration_id)
                outcome = UpstreamFailed(f"the sync failed unexpectedly ({type(error).__name__}); it will be retried")
        return self._record(integration_id, now, provider, outcome)

    def _record(self, integration_id: int, now: datetime, provider: Provider,
                outcome: SyncResult | BaseException) -> str:
        with self._Session.begin() as session:
            integration = session.get(Integration, integration_id)
            if integration is None or integration.claimed_by != self._holder:
                return "abandoned"  # disconnected meanwhile, or our claim ran out and another node took it
            integration.last_attempt_at = now
            integration.claimed_until = integration.claimed_by = None
            if isinstance(outcome, SyncResult):
                integration.state, integration.message, integration.failures = "ok", None, 0
                integration.cursor, integration.summary = outcome.cursor, outcome.summary[:200]
                integration.last_synced_at = now
                integration.next_sync_at = now + timedelta(seconds=provider.interval_seconds)
                if outcome.token is not None:
                    integration.token = self._box.seal(outcome.token, context=token_context(
                        integration.site_id, integration.kind))
                log.info("synced %s of site %d: %s", integration.kind, integration.site_id, outcome.summary)
                return "ok"
            state = outcome.state if isinstance(outcome, SyncError) else "error"
            integration.state, integration.message = state, str(outcome)[:MAX_MESSAGE]
            if isinstance(outcome, RateLimited):
                integration.next_sync_at = max(outcome.until, now + timedelta(seconds=1))
            elif isinstance(outcome, UpstreamFailed):
                integration.failures += 1
                integration.next_sync_at = now + min(timedelta(minutes=2 ** min(integration.failures - 1, 10)),
                                                     MAX_BACKOFF)
            else:  # the token, the access or the source is wrong: only a change of the connection helps
                integration.next_sync_at = None
            log.warning("sync of %s for site %d: %s: %s", integration.kind, integration.site_id, state, outcome)
            return state


def integrations_job(engine: IntegrationSync, *, interval_seconds: float = 60.0) -> Job:
    """Every minute, on the one node holding the "integrations" lease: the due syncs."""
    return Job(name="integrations", interval_seconds=interval_seconds, run=engine.sync_due)

