"""Sites: create, find, change and delete them, validating every setting on the way in.

Secondary responsibilities:
1. Normalise what users type (`https://www.Example.com/` → `example.com`) so lookups and the
   ingestion checks compare like with like.
2. Hand out public ids (`pm_` + 12 random letters and digits).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import string
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from postmetric.errors import AlreadyExists, ValidationError
from postmetric.sites.patterns import parse_page_pattern
from postmetric.store.metadata import Site, SiteDeletion, SiteMember, User

PUBLIC_ID_PREFIX = "pm_"
PUBLIC_ID_ALPHABET = string.ascii_letters + string.digits
PUBLIC_ID_LENGTH = 12
PUBLIC_ID = re.compile(rf"{PUBLIC_ID_PREFIX}[A-Za-z0-9]{{{PUBLIC_ID_LENGTH}}}")

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_COUNTRY = re.compile(r"[A-Z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
# Every excluded path is tried on every tracked page view: a bound keeps that cost small.
MAX_EXCLUDED_PATHS = 100


class Rng(Protocol):
    def choice(self, seq: str, /) -> str: ...


def _hostname(value: object, *, field: str, wildcard: bool = False) -> str:
    """`value` as a bare lower-case hostname: no scheme, path, port or trailing dot."""
    if not isinstance(value, str):
        raise ValidationError(field, f"{value!r} is not a hostname")
    text = value.strip().lower()
    try:
        # urlsplit only finds the host after "//"; add it when the user typed no scheme.
        host = (urlsplit(text if "//" in text else f"//{text}").hostname or "").rstrip(".")
    except ValueError:  # e.g. an unclosed "[" of an IPv6 literal
        host = ""
    prefix = ""
    if wildcard and host.startswith("*."):
        prefix, host = "*.", host[2:]
    try:
        host = host.encode("idna").decode("ascii")  # browsers send internationalised names as punycode
    except UnicodeError:
        host = ""
    if len(host) > 253 or not _HOSTNAME.fullmatch(host):
        example = "example.com or *.example.com" if wildcard else "example.com"
        raise ValidationError(field, f"{value!r} is not a hostname like {example}")
    return prefix + host


def normalize_domain(value: object) -> str:
    host = _hostname(value, field="domain")
    # The site is the same with or without "www."; the ingestion check accepts its subdomains.
    return host.removeprefix("www.") if host.count(".") >= 2 else host


def _name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 255:
        raise ValidationError("name", "must be 1 to 255 characters")
    return value.strip()


def _timezone(value: object) -> str:
    try:
        if isinstance(value, str):
            ZoneInfo(value)
            return value
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory ("Europe"), a name too long
        pass
    raise ValidationError("timezone", f"{str(value)[:100]!r} is not an IANA time zone like Europe/Berlin or UTC")


def _currency(value: object) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if not _CURRENCY.fullmatch(code):
        raise ValidationError("currency", f"{value!r} is not a 3-letter ISO 4217 code like USD or EUR")
    return code


def _list_of(field: str, parse: Callable[[object], str], *, max_items: int | None = None
             ) -> Callable[[object], list[str]]:
    def parse_list(values: object) -> list[str]:
        if isinstance(values, str) or not isinstance(values, Iterable):
            raise ValidationError(field, "must be a list")
        values = list(values)
        if max_items is not None and len(values) > max_items:
            raise ValidationError(field, f"has {len(values)} entries; at most {max_items} are allowed")
        return list(dict.fromkeys(parse(value) for value in values))  # dedupe, keep the user's order

    return parse_list


def _ip_or_network(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    try:
        return str(ipaddress.ip_network(text, strict=False) if "/" in text else ipaddress.ip_address(text))
    except ValueError:
        raise ValidationError(
            "excluded_ips", f"{value!r} is not an IP address or CIDR range like 10.0.0.0/8"
        ) from None


def _country(value: object) -> str:
    code = value.strip().upper() if isinstance(value, str) else ""
    if not _COUNTRY.fullmatch(code):
        raise ValidationError("excluded_countries", f"{value!r} is not a 2-letter ISO country code like DE")
    return code


def _path_pattern(value: object) -> str:
    return parse_page_pattern(value, field="excluded_paths", example="/admin or /blog/*")


def _cookieless(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationError("cookieless", "must be true or false")
    return value


# Retention bounds: a month at least (shorter would empty the dashboard's default ranges), ten years at
# most (a cutoff far in the past is meaningless and, past year 1, cannot even be computed).
MIN_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650


def _retention_days(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_RETENTION_DAYS <= value <= MAX_RETENTION_DAYS:
        raise ValidationError(
            "retention_days",
            f"must be a number of days from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}, or null to keep forever",
        )
    return value


# Every setting `update_site_settings` accepts, with its parser.
_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "domain": normalize_domain,
    "name": _name,
    "timezone": _timezone,
    "currency": _currency,
    "allowed_hostnames": _list_of(
        "allowed_hostnames", partial(_hostname, field="allowed_hostnames", wildcard=True)
    ),
    "excluded_ips": _list_of("excluded_ips", _ip_or_network),
    "excluded_countries": _list_of("excluded_countries", _country),
    "excluded_hostnames": _list_of(
        "excluded_hostnames", partial(_hostname, field="excluded_hostnames", wildcard=True)
    ),
    "excluded_paths": _list_of("excluded_paths", _path_pattern, max_items=MAX_EXCLUDED_PATHS),
    "cookieless": _cookieless,
    "retention_days": _retention_days,
}


def _ensure_domain_free(session: Session, domain: str) -> None:
    if session.scalar(select(Site.id).where(Site.domain == domain)) is not None:
        raise AlreadyExists("site", "domain", domain)


def _new_public_id(session: Session, rng: Rng) -> str:
    while True:  # 62**12 ids: a collision is rare enough that retrying is the whole strategy
        random_part = "".join(rng.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH))
        public_id = PUBLIC_ID_PREFIX + random_part
        if session.scalar(select(Site.id).where(Site.public_id == public_id)) is None:
            return public_id


def create_site(
    session: Session,
    *,
    owner: User,
    domain: str,
    name: str | None = None,
    timezone: str = "UTC",
    currency: str = "USD",
    rng: Rng = secrets,  # type: ignore[assignment]
) -> Site:
    domain = normalize_domain(domain)
    name = _name(domain if name is None else name)
    timezone = _timezone(timezone)
    currency = _currency(currency)
    _ensure_domain_free(session, domain)
    site = Site(
        public_id=_new_public_id(session, rng),
        owner=owner,
        domain=domain,
        name=name,
        timezone=timezone,
        currency=currency,
    )
    session.add(site)
    session.flush()
    session.add(SiteMember(site_id=site.id, user_id=owner.id, role="owner"))  # the creator owns the site
    session.flush()
    return site


def get_site(session: Session, ref: int | str) -> Site | None:
    """The site with this id, public id (`pm_…`) or domain (any spelling `create_site` accepts)."""
    if isinstance(ref, int):
        return session.get(Site, ref)
    ref = ref.strip()
    if ref.isascii() and ref.isdigit():  # more than 18 digits overflows the 64-bit id column
        return session.get(Site, int(ref)) if len(ref) <= 18 else None
    if ref.startswith(PUBLIC_ID_PREFIX):
        return session.scalar(select(Site).where(Site.public_id == ref))
    try:
        domain = normalize_domain(ref)
    except ValidationError:
        return None
    return session.scalar(select(Site).where(Site.domain == domain))


def update_site_settings(session: Session, site: Site, **changes: Any) -> Site:
    """Apply `changes` (setting name → new value) all or nothing: the first invalid one raises."""
    parsed = {}
    for field, value in changes.items():
        if field not in _SETTINGS:
            raise ValidationError(field, f"is not a site setting; known settings: {', '.join(_SETTINGS)}")
        parsed[field] = _SETTINGS[field](value)
    if "domain" in parsed and parsed["domain"] != site.domain:
        _ensure_domain_free(session, parsed["domain"])
    for field, value in parsed.items():
        setattr(site, field, value)
    session.flush()
    return site


def delete_site(session: Session, site: Site) -> None:
    """Delete the site and everything of it in the metadata database, and remember its id: the caller
    then purges the event store (`sites.purge`), which keeps purging whatever of it arrives later."""
    session.add(SiteDeletion(site_id=site.id))
    session.delete(site)
    session.flush()
