"""The one object that flows through the ingestion pipeline, why it may be dropped, and the visit
it belongs to (ingest/sessions.py assigns it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from postmetric.sites.settings import SiteSettings
from postmetric.store.columns import VISIT_FIELDS


class EventType(StrEnum):
    PAGEVIEW = "pageview"
    GOAL = "goal"
    OUTBOUND = "outbound"
    ENGAGEMENT = "engagement"
    IDENTIFY = "identify"
    PAYMENT = "payment"


class DropReason(StrEnum):
    """Why a well-formed event was not stored; sent back in `X-Postmetric-Dropped`."""

    BOT = "bot"
    UNKNOWN_SITE = "unknown_site"
    HOSTNAME_NOT_ALLOWED = "hostname_not_allowed"
    EXCLUDED_IP = "excluded_ip"
    EXCLUDED_COUNTRY = "excluded_country"
    EXCLUDED_HOSTNAME = "excluded_hostname"
    EXCLUDED_PATH = "excluded_path"


@dataclass(slots=True)
class Visit:
    visitor_id: str
    session_id: str
    started_at: float
    last_seen: float
    attributes: tuple  # in VISIT_FIELDS order
    encoded_attributes: str | None = None  # the visit's columns as CSV, cached by the row encoder
    # The page of its latest pageview, where server-side events land; "" when reloaded by `warm`.
    page_hostname: str = ""
    page_path: str = ""

    def attribute(self, name: str):
        return self.attributes[VISIT_FIELDS.index(name)]


@dataclass(slots=True)
class Event:
    """An event as it is enriched, step by step. Fields start empty and are filled by the steps."""

    # What the client sent (already validated by IngestRequest).
    site_public_id: str
    type: EventType
    name: str
    href: str  # "" for server-side goals and identify calls: they take their visit's page
    timestamp: float  # unix seconds, UTC
    ip: str
    user_agent: str
    referrer: str = ""
    title: str = ""
    client_visitor_id: str | None = None  # lower-case UUID text
    client_session_id: str | None = None
    viewport_width: int | None = None
    viewport_height: int | None = None
    props: dict[str, str] = field(default_factory=dict)
    scroll_depth: int | None = None
    engaged_ms: int | None = None
    click_ids: dict[str, str] = field(default_factory=dict)
    # Server-side events sent without a `userAgent` carry the backend's own user agent (or,
    # for goals and identify calls, none): the site key vouches for them, so the bot check
    # would only drop real events.
    check_bots: bool = True

    # Site resolution.
    site: SiteSettings | None = None
    site_id: int = 0

    # Enrichment.
    hostname: str = ""
    pathname: str = ""
    query: str = ""
    entry_page: str = ""
    referrer_host: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    ref: str = ""
    source: str = ""
    channel: str = ""
    country: str = ""
    region: str = ""
    city: str = ""
    browser: str = ""
    browser_version: str = ""
    os: str = ""
    os_version: str = ""
    device: str = ""

    # Identity: the visit this event belongs to (ids, start, visit-level attributes).
    visit: Visit | None = None

    drop_reason: DropReason | None = None
