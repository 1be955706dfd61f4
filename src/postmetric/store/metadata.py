"""Metadata tables: users, dashboard sessions, sites, members, keys, sharing and cookieless salts.

Secondary responsibilities:
1. `UTCDateTime`: timezone-aware datetimes stored as UTC on every backend.
2. A constraint naming convention, so Alembic batch migrations on SQLite can address constraints.
3. Ids are never reused: SQLite hands out max(id) + 1 unless a table is AUTOINCREMENT, so a deleted
   site's id would go to the next site created, and its events with it (PostgreSQL's sequences never
   go back).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, LargeBinary, MetaData, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out.

    SQLite has no time zone type and hands back naive values, so values are normalised to UTC on
    the way in and tagged as UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UTCDateTime(), list[str]: JSON(), bytes: LargeBinary()}


# Every table whose id is handed out (in URLs, in the event store) keeps the largest id it ever issued.
NEVER_REUSED_IDS = {"sqlite_autoincrement": True}


class User(Base):
    __tablename__ = "users"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # always lower-case
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Site(Base):
    __tablename__ = "sites"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(15), unique=True)  # "pm_" + 12 characters
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    allowed_hostnames: Mapped[list[str]] = mapped_column(default=list)
    excluded_ips: Mapped[list[str]] = mapped_column(default=list)
    excluded_countries: Mapped[list[str]] = mapped_column(default=list)
    excluded_hostnames: Mapped[list[str]] = mapped_column(default=list)
    excluded_paths: Mapped[list[str]] = mapped_column(default=list)
    cookieless: Mapped[bool] = mapped_column(default=False)
    retention_days: Mapped[int | None]  # None keeps events forever
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)

    owner: Mapped[User] = relationship()
    # passive_deletes: the database cascades, so deleting a site does not load its keys first.
    api_keys: Mapped[list[ApiKey]] = relationship(
        back_populates="site", cascade="all, delete-orphan", passive_deletes=True
    )


class ApiKey(Base):
    """A site key: reads that site's stats and writes its goals, payments and identities."""

    __tablename__ = "api_keys"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(8))  # shown in listings to tell keys apart
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the raw key
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    site: Mapped[Site] = relationship(back_populates="api_keys")


class AccountToken(Base):
    """An account token: manages the sites of the user it belongs to."""

    __tablename__ = "account_tokens"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class CookielessSalt(Base):
    """The secret mixed into cookieless visitor hashes, one per day."""

    __tablename__ = "cookieless_salts"

    day: Mapped[date] = mapped_column(primary_key=True)
    salt: Mapped[bytes]


class WebSession(Base):
    """A dashboard login: the `pm_session` cookie holds the raw token, this row its sha256."""

    __tablename__ = "web_sessions"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))  # sent back in X-CSRF-Token by the dashboard
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]  # slides forward while the session is used


class PasswordReset(Base):
    """A single-use password reset link sent by email; only its sha256 is kept."""

    __tablename__ = "password_resets"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class SiteMember(Base):
    """Who may see a site and what they may do: role "owner", "admin" or "viewer"."""

    __tablename__ = "site_members"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    site: Mapped[Site] = relationship()
    user: Mapped[User] = relationship()


class SiteInvitation(Base):
    """An emailed invitation to join a site; accepted by the user with that email."""

    __tablename__ = "site_invitations"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]


class SiteShare(Base):
    """A site's public dashboard link; no row means sharing is off."""

    __tablename__ = "site_shares"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    # Kept in clear: owners see the link again whenever they open the sharing settings.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class RevenueProvider(Base):
    """A site's webhook settings for one payment provider (SPEC §6), and what its last delivery did."""

    __tablename__ = "revenue_providers"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), primary_key=True)  # "stripe", "lemonsqueezy", …
    # An HMAC key, so sealed (secrets_box.py), not hashed: a hash could not verify signatures; never
    # sent back by the API.
    webhook_secret: Mapped[str | None] = mapped_column(String(2048))
    last_delivery_at: Mapped[datetime | None]
    last_event_type: Mapped[str | None] = mapped_column(String(255))
    last_result: Mapped[str | None] = mapped_column(String(255))  # "recorded 1", "rejected: …"


class Goal(Base):
    """A goal definition (SPEC §7): a display name for a custom event, or a page-visit goal
    from a path pattern (`/thank-you`, `/blog/*`). Custom events are goals without one."""

    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("site_id", "display_name"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "event" | "page"
    event_name: Mapped[str | None] = mapped_column(String(64))  # kind "event"
    page_path: Mapped[str | None] = mapped_column(String(2048))  # kind "page": a path pattern with `*`
    display_name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Funnel(Base):
    """A funnel (SPEC §7): 2–8 ordered steps, each a page pattern or a goal."""

    __tablename__ = "funnels"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # [{"type": "page" | "goal", "match": "/pricing" | "signup", "label": "…" (optional)}, …]
    steps: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class Annotation(Base):
    """A dated note on a site's chart (issue 17): written by hand (`note`), or synced from a
    post on X (`x`) or a GitHub commit (`github`)."""

    __tablename__ = "annotations"
    __table_args__ = (UniqueConstraint("site_id", "kind", "external_id"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    time: Mapped[datetime]
    text: Mapped[str] = mapped_column(String(500))
    url: Mapped[str | None] = mapped_column(String(2048))
    kind: Mapped[str] = mapped_column(String(16))  # "note" | "x" | "github"
    # The user who wrote it; a deleted user's notes stay, unsigned. Synced ones have none.
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Synced ones: the provider's id (commit sha, "release:<id>", post id), so a re-sync updates, never doubles.
    external_id: Mapped[str | None] = mapped_column(String(128))
    author: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # provider fields: sha, additions, likes, …
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class Integration(Base):
    """A site's connection to GitHub, X or Search Console (integrations/), and the state of its sync.

    `claimed_until`/`claimed_by` are a lease of this one integration: the job on every node and the
    "Sync now" route claim it with one conditional UPDATE, so it is never synced twice at once."""

    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("site_id", "kind"), NEVER_REUSED_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # "github" | "x" | "search_console"
    config: Mapped[dict[str, Any]] = mapped_column(JSON)  # non-secret settings: repository, query, property
    token: Mapped[str | None] = mapped_column(Text)  # sealed (secrets_box): token, refresh token or key
    cursor: Mapped[dict[str, Any]] = mapped_column(JSON)  # the provider's incremental state
    state: Mapped[str] = mapped_column(String(32))  # integrations/sync.py STATES
    message: Mapped[str | None] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(String(200))  # of the last successful sync
    failures: Mapped[int] = mapped_column(default=0)  # consecutive, for the back-off
    last_synced_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    next_sync_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now, onupdate=utc_now)


class SiteDeletion(Base):
    """A deleted site's id: whatever of it the event store still receives (a node's unloaded journal,
    an event in flight) is purged again (sites/purge.py). No foreign key: the site row is gone."""

    __tablename__ = "site_deletions"

    site_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    deleted_at: Mapped[datetime] = mapped_column(default=utc_now)


class JobLease(Base):
    """A background job's lease (`postmetric/jobs.py`): which node runs it now, and when it last completed.

    One row per job name. The lease is free once `expires_at` has passed: a released lease expires
    at its release, a crashed holder's when its last renewal runs out. `holder` keeps the node that
    held it last, for operators.
    """

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))  # "<hostname>:<pid>:<random>", see jobs.default_holder
    expires_at: Mapped[datetime]
    last_finished_at: Mapped[datetime | None]  # the last run that completed, on any node


class ErasureRecord(Base):
    """The audit row of one erasure (privacy/erasure.py): who erased how much of a site, and when,
    without the personal data: the selector's kind and a keyed hash of its value.

    No foreign keys: the record outlives the site and the user it names."""

    __tablename__ = "erasures"
    __table_args__ = NEVER_REUSED_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(index=True)
    user_id: Mapped[int | None]  # who asked; None for `postmetric erase` on the server
    selector: Mapped[str] = mapped_column(String(16))  # "visitor_id" | "user_id" | "email"
    subject_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 of "<selector>:<value>", hex
    visitors: Mapped[int]
    events: Mapped[int]
    visits: Mapped[int]
    identities: Mapped[int]
    payments: Mapped[int]  # payments scrubbed of personal data
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
