"""SiteSettings: the immutable snapshot of a site that ingestion reads on every event."""

from __future__ import annotations

from dataclasses import dataclass

from postmetric.store.metadata import Site


@dataclass(frozen=True, slots=True)
class SiteSettings:
    id: int
    public_id: str
    domain: str
    timezone: str
    currency: str
    allowed_hostnames: tuple[str, ...]
    excluded_ips: tuple[str, ...]
    excluded_countries: frozenset[str]
    excluded_hostnames: tuple[str, ...]
    excluded_paths: tuple[str, ...]
    cookieless: bool
    retention_days: int | None

    @classmethod
    def from_model(cls, site: Site) -> SiteSettings:
        return cls(
            id=site.id,
            public_id=site.public_id,
            domain=site.domain,
            timezone=site.timezone,
            currency=site.currency,
            allowed_hostnames=tuple(site.allowed_hostnames),
            excluded_ips=tuple(site.excluded_ips),
            excluded_countries=frozenset(site.excluded_countries),
            excluded_hostnames=tuple(site.excluded_hostnames),
            excluded_paths=tuple(site.excluded_paths),
            cookieless=site.cookieless,
            retention_days=site.retention_days,
        )
