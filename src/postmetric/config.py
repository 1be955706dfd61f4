"""Settings: read once from `POSTMETRIC_*` environment variables and passed down.

Nothing else in the package reads `os.environ`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from postmetric.errors import DomainError
from postmetric.secrets_box import SecretBox


SignupMode = Literal["open", "invite", "closed"]  # what each means: accounts/signup.py


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSTMETRIC_", extra="ignore", frozen=True)

    data_dir: Path = Field(Path("data"), description="Where the embedded stores and caches live.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the metadata store; default SQLite in the data dir."
    )
    cache_dir: Path | None = Field(
        None, description="Derived data (the extracted geolocation database); default `<data dir>/cache`."
    )
    clickhouse_url: str | None = Field(None, description="Switches the event store to ClickHouse.")
    redis_url: str | None = Field(None, description="Cookieless session cache and rate limits in Redis.")
    secret_key: str | None = Field(
        None, description="Signs share-link cookies and seals webhook secrets at rest; unset: generated once "
                          "and kept in `<data dir>/secret_key`."
    )
    secret_key_previous: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Comma list of former secret keys: secrets sealed under them still open, until "
                        "`postmetric secrets rotate` re-seals them under the current key."
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Comma list of IPs/CIDRs whose forwarding headers (X-Forwarded-For, "
                        "CF-Connecting-IP, X-Postmetric-IP) are believed; from anyone else they are ignored."
    )
    signup: SignupMode = Field(
        "invite", description="Dashboard signup: open to anyone; by invitation only (the first account is "
                              "free); or closed (the CLI creates accounts)."
    )
    smtp_url: str | None = Field(
        None, description="Outgoing mail: smtp://user:pass@host:port, smtps://… or smtp+starttls://…; ?from=addr."
    )
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL of this instance.")
    host: str = Field("127.0.0.1", description="Address `serve` binds to.")
    port: int = Field(8000, description="Port `serve` listens on.")
    ingest_rate_limit: str = Field(
        "6000/minute", description="Events accepted per client IP (limits syntax); empty disables."
    )
    api_rate_limit: str = Field(
        "600/minute", description="Stats API requests per site key or account token (limits syntax); empty disables."
    )
    login_rate_limit: str = Field(
        "10/15 minutes", description="Login attempts per email and per client IP (limits syntax); empty disables."
    )
    session_cache_size: int = Field(
        200_000, ge=1, description="Visits kept in memory (about 1 KB each); past it the least recent are forgotten."
    )
    ingest_queue_size: int = Field(
        100_000, ge=1, description="Events waiting to be journaled or loaded before ingestion answers 503."
    )
    # Integrations (issue 17): the APIs' base URLs are settings so they can point at an enterprise host.
    github_api_url: str = Field("https://api.github.com", description="GitHub REST API (GitHub Enterprise: "
                                "https://HOST/api/v3).")
    x_api_url: str = Field("https://api.x.com", description="X API v2 host.")
    google_api_url: str = Field("https://www.googleapis.com", description="Google APIs host (Search Console).")
    google_oauth_url: str = Field("https://accounts.google.com", description="Google's OAuth 2 authorization host.")
    google_token_url: str = Field("https://oauth2.googleapis.com/token", description="Google's OAuth 2 token endpoint.")
    google_client_id: str | None = Field(None, description="OAuth client id for \"Connect with Google\" (Search "
                                         "Console); unset: only service account keys connect.")
    google_client_secret: str | None = Field(None, description="That OAuth client's secret.")

    @field_validator("secret_key_previous", mode="before")
    @classmethod
    def _split_previous_keys(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return tuple(value or ())

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for network in value or ():
            ipaddress.ip_network(network, strict=False)  # raises a readable ValueError
        return tuple(value or ())

    @cached_property
    def trusted_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(n, strict=False) for n in self.trusted_proxies)

    @property
    def metadata_url(self) -> str:
        return self.database_url or self.embedded_metadata_url

    @property
    def embedded_metadata_path(self) -> Path:
        """The SQLite file in the data dir: the metadata store when POSTMETRIC_DATABASE_URL is unset."""
        return self.data_dir.resolve() / "postmetric.sqlite"

    @property
    def embedded_metadata_url(self) -> str:
        return f"sqlite:///{self.embedded_metadata_path}"

    @property
    def events_path(self) -> Path:
        return self.data_dir / "events.duckdb"

    @property
    def journal_dir(self) -> Path:
        return self.data_dir / "journal"

    @property
    def derived_data_dir(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"

    def ensure_data_dir(self) -> None:
        """Create the data dir and prove it takes a durable write (and the journal's, which may be
        another disk): a read-only or full disk is said at start, not as a failure mid-request."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            _check_writable(self.data_dir)
        except OSError as error:
            raise DataDirUnwritable(self.data_dir, error.strerror or str(error)) from None
        if self.journal_dir.is_dir():
            try:
                _check_writable(self.journal_dir)
            except OSError as error:
                raise DataDirUnwritable(self.data_dir, f"{self.journal_dir}: {error.strerror or error}") from None

    def resolved_secret_key(self) -> str:
        """`secret_key`, or the one generated on first start and kept in the data dir (mode 0600)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.ensure_data_dir()
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
                file.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def secret_box(self) -> SecretBox:
        """Seals and opens secrets at rest: the resolved secret key, and the previous ones for rotation."""
        return SecretBox(self.resolved_secret_key(), previous=self.secret_key_previous)


class DataDirUnwritable(DomainError):
    def __init__(self, data_dir: Path, reason: str) -> None:
        super().__init__(f"data dir {data_dir} is not writable: {reason}")


def _check_writable(directory: Path) -> None:
    path = directory / f".write-check-{os.getpid()}"  # another process (a CLI command beside the server) may check too
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
        path.unlink()
