"""The Search Console integration: a site's Google Search performance (clicks, impressions and
position by day × query × page × country × device), synced daily into the event store's
`search_console` table (store/search.py), which the Keywords tab and the `search:*` query
dimensions read.

Connecting (google_oauth.py): with Google's OAuth 2 web flow (the routes in
web/routes/google_oauth.py store the refresh token) or with a service account key given in the
connect body. Then the admin chooses the property (`sc-domain:example.com` or a URL prefix such as
`https://www.example.com/`) from `list_properties` (Google's `GET /webmasters/v3/sites`). Config:
`{"auth": "oauth" | "service_account", "property": str | None, "client_email"?: str}`; the sealed
token is the refresh token or the key's JSON.

A sync asks `POST /webmasters/v3/sites/{property}/searchAnalytics/query` one day at a time (as
Google advises for full exports: a day stays within its row limits), paging by `startRow` in pages
of 25,000 rows until a short page, and replaces that day's stored rows. The first sync covers the
16 months Google keeps; later ones start three days before the last synced day, because Google
revises its latest days, so every run re-writes them (`replace_search_rows` keeps it idempotent).
Days are Google's, in Pacific time. `dataState` is "all": the freshest, still provisional days come
too, and the three-day re-sync replaces them with the final figures.

Rows: country alpha-3 lower case ("usa") → alpha-2 upper case ("US"), Google's "zzz" → "" (unknown);
device "DESKTOP" → "desktop"; page URL → its path for the page filter. Errors: a refused refresh
token → TokenRejected, 403 → AccessDenied, 404 → SourceNotFound, 429 or RESOURCE_EXHAUSTED →
RateLimited (Google sends no reset time; `Retry-After` when given, else 15 minutes), 5xx, network
and malformed bodies → UpstreamFailed.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import httpx
from iso3166 import countries_by_alpha3
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from postmetric.config import Settings
from postmetric.errors import ValidationError
from postmetric.integrations import google_oauth
from postmetric.integrations.sync import (
    AccessDenied,
    Connection,
    RateLimited,
    SourceNotFound,
    SyncResult,
    SyncRun,
    TokenRejected,
    UpstreamFailed,
    token_context,
)
from postmetric.secrets_box import SecretBox
from postmetric.store.events import EventStore
from postmetric.store.metadata import Integration, Site
from postmetric.store.search import SEARCH_DEVICES, SearchRow

KIND = "search_console"
ROW_LIMIT = 25_000  # Google's most rows per request
HISTORY_MONTHS = 16  # how far back Google keeps performance data
REVISED_DAYS = 3  # the latest days Google may still revise: synced again every run
DATA_STATE = "all"
DIMENSIONS = ("date", "query", "page", "country", "device")
REPORTING_ZONE = ZoneInfo("America/Los_Angeles")  # Search Console's days are Pacific time
RATE_LIMIT_WAIT = timedelta(minutes=15)
MAX_PROPERTY_CHARS = 500
# Codes Google uses beyond ISO 3166-1: "zzz" unknown region, "xkk" Kosovo (XK, as the geo database has it).
EXTRA_COUNTRIES = {"ZZZ": "", "XKK": "XK"}
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def parse_property(value: Any) -> str:
    """A Search Console property: `sc-domain:<domain>` or a URL prefix `http(s)://host/…/`."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("property", "choose a Search Console property (sc-domain:example.com or a URL prefix)")
    value = value.strip()
    if len(value) > MAX_PROPERTY_CHARS:
        raise ValidationError("property", f"is longer than {MAX_PROPERTY_CHARS} characters")
    if value.startswith("sc-domain:"):
        if not _DOMAIN.match(value.removeprefix("sc-domain:")):
            raise ValidationError("property", f"{value!r} does not name a domain (sc-domain:example.com)")
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or not value.endswith("/"):
        raise ValidationError("property", f"{value!r} is neither sc-domain:<domain> nor a URL prefix "
                                          "such as https://www.example.com/")
    return value


class SearchConsoleProvider:
    kind = KIND
    label = "Search Console"
    interval_seconds = 24 * 3600.0

    def parse_config(self, body: dict[str, Any], *, site_domain: str, current: dict | None) -> Connection:
        """`{"property"?, "service_account_key"?}`: a key (the file's JSON, as text or object) connects
        with it; without one the stored authorization stays (OAuth, given through the callback)."""
        unknown = sorted(set(body) - {"property", "service_account_key"})
        if unknown:
            raise ValidationError(unknown[0], "is not a Search Console setting (property, service_account_key)")
        current = current or {}
        chosen = parse_property(body["property"]) if body.get("property") is not None else current.get("property")
        if body.get("service_account_key") is not None:
            key = google_oauth.parse_service_account_key(body["service_account_key"])
            return Connection(config={"auth": "service_account", "client_email": key["client_email"],
                                      "property": chosen}, token=json.dumps(key), keep_token=False)
        if current.get("auth") not in ("oauth", "service_account"):
            raise ValidationError("service_account_key", "connect with Google first, or give a service account key")
        return Connection(config={**current, "property": chosen}, token=None, keep_token=True)

    def sync(self, run: SyncRun) -> SyncResult:
        chosen = run.config.get("property")
        if not chosen:
            raise SourceNotFound("choose a Search Console property")
        api = SearchConsoleApi(run.settings, run.http, auth=run.config.get("auth", ""), secret=run.token or "",
                               now=run.now)
        today = run.now.astimezone(REPORTING_ZONE).date()
        earliest = months_before(today, HISTORY_MONTHS)
        cursor = run.cursor if run.cursor.get("property") == chosen else {}
        if not cursor:
            run.events.delete_search_rows(run.site_id)  # another property's rows, or none
            start = earliest
        else:
            synced_through = date.fromisoformat(cursor["synced_through"])
            start = max(earliest, min(synced_through, today) - timedelta(days=REVISED_DAYS - 1))
        total = 0
        day = start
        while day <= today:
            rows = list(api.day_rows(chosen, day))
            run.ensure_claimed()  # a disconnect that deleted the rows must not see them written again
            total += run.events.replace_search_rows(run.site_id, day, day, rows)
            day += timedelta(days=1)
        days = (today - start).days + 1
        return SyncResult(cursor={"property": chosen, "synced_through": today.isoformat()},
                          summary=f"{total:,} search rows over {days} days ({start.isoformat()} to {today.isoformat()})",
                          token=api.rotated_secret)

    def delete_data(self, Session: sessionmaker, events: EventStore, site_id: int) -> None:
        events.delete_search_rows(site_id)


def connect_with_google(session: Session, site: Site, refresh_token: str, *, box: SecretBox, now: datetime
                        ) -> Site:
    """Store the refresh token of a completed "Connect with Google" as the site's connection (sealed).

    A property chosen before stays; without one the integration waits for the admin's choice (no
    sync is due until `PUT …/search_console {"property"}`)."""
    row = session.scalar(select(Integration).where(Integration.site_id == site.id, Integration.kind == KIND))
    if row is None:
        row = Integration(site_id=site.id, kind=KIND, cursor={}, failures=0)
        session.add(row)
    chosen = (row.config or {}).get("property")
    config = {"auth": "oauth", "property": chosen}
    if row.config != config:
        row.cursor = {}
    row.config = config
    row.token = box.seal(refresh_token, context=token_context(site.id, KIND))
    row.state, row.failures = "pending", 0
    row.message = None if chosen else "choose a Search Console property"
    row.next_sync_at = now if chosen else None
    session.flush()
    return site


def months_before(day: date, months: int) -> date:
    """The same day of the month `months` earlier, or that month's last day when it is shorter."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True)
class Property:
    site_url: str
    permission_level: str


class SearchConsoleApi:
    """Google's Search Console API for one stored authorization; the access token is asked once and
    kept for this object's life (one sync run, one request of the properties route)."""

    def __init__(self, settings: Settings, http: httpx.Client, *, auth: str, secret: str, now: datetime) -> None:
        if auth not in ("oauth", "service_account") or not secret:
            raise TokenRejected("Search Console is not connected — connect with Google or give a service account key")
        self.settings, self.http, self.auth, self.secret, self.now = settings, http, auth, secret, now
        self.base_url = settings.google_api_url.rstrip("/")
        self._access_token: str | None = None
        self.rotated_secret: str | None = None

    def properties(self) -> list[Property]:
        """The properties this authorization may read (unverified ones, which give no data, left out)."""
        body = self._call("GET", "/webmasters/v3/sites", None)
        entries = body.get("siteEntry", [])
        if not isinstance(entries, list):
            raise UpstreamFailed("Google's property list is malformed")
        found = [Property(str(entry.get("siteUrl", "")), str(entry.get("permissionLevel", "")))
                 for entry in entries if isinstance(entry, dict)]
        return sorted((p for p in found if p.site_url and p.permission_level != "siteUnverifiedUser"),
                      key=lambda p: (not p.site_url.startswith("sc-domain:"), p.site_url))

    def day_rows(self, chosen: str, day: date) -> Iterator[SearchRow]:
        path = f"/webmasters/v3/sites/{quote(chosen, safe='')}/searchAnalytics/query"
        start_row = 0
        while True:
            body = self._call("POST", path, {
                "startDate": day.isoformat(), "endDate": day.isoformat(), "dimensions": list(DIMENSIONS),
                "rowLimit": ROW_LIMIT, "startRow": start_row, "dataState": DATA_STATE})
            rows = body.get("rows", [])
            if not isinstance(rows, list):
                raise UpstreamFailed("Google's search analytics answer is malformed (rows)")
            for row in rows:
                yield search_row(row, day)
            if len(rows) < ROW_LIMIT:
                return
            start_row += ROW_LIMIT

    def _token(self) -> str:
        if self._access_token is None:
            grant = google_oauth.access_token(self.settings, auth=self.auth, secret=self.secret, now=self.now,
                                              timeout=self.http.timeout)
            self._access_token, self.rotated_secret = grant.access_token, grant.rotated
        return self._access_token

    def _call(self, method: str, path: str, body: dict | None) -> dict:
        headers = {"Authorization": f"Bearer {self._token()}", "Accept": "application/json"}
        try:
            response = self.http.request(method, self.base_url + path, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise UpstreamFailed(f"Google could not be reached: {error.__class__.__name__}") from None
        if response.status_code == 200:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                raise UpstreamFailed("Google's answer is not a JSON object")
            return answer
        raise self._error(response)

    def _error(self, response: httpx.Response) -> Exception:
        status = response.status_code
        try:
            error = response.json().get("error", {})
            message, canonical = str(error.get("message", "")), str(error.get("status", ""))
            reasons = {str(e.get("reason")) for e in error.get("errors", []) if isinstance(e, dict)}
        except (ValueError, AttributeError):
            message, canonical, reasons = "", "", set()
        quota = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"}
        if status == 429 or canonical == "RESOURCE_EXHAUSTED" or (status == 403 and reasons & quota):
            return RateLimited(f"Google's Search Console quota is used up: {message}".rstrip(": "),
                               self.now + _retry_after(response))
        if status == 401:
            return TokenRejected(google_oauth.REVOKED)
        if status == 403:
            return AccessDenied(f"Google refused access to the property: {message or 'permission denied'}")
        if status == 404:
            return SourceNotFound(f"Google has no such property: {message or 'not found'}")
        return UpstreamFailed(f"Google answered {status}: {message or response.reason_phrase}")


def _retry_after(response: httpx.Response) -> timedelta:
    value = response.headers.get("retry-after", "")
    if value.isdigit():
        return timedelta(seconds=min(int(value), 24 * 3600))
    return RATE_LIMIT_WAIT


def search_row(row: Any, day: date) -> SearchRow:
    """One of Google's rows (keys in DIMENSIONS order) as stored; UpstreamFailed if it is malformed."""
    try:
        day_key, query, page, country, device = row["keys"]
        clicks, impressions, position = int(row["clicks"]), int(row["impressions"]), float(row["position"])
        if date.fromisoformat(day_key) != day:
            raise ValueError(f"a row of {day_key} in the answer for {day}")
        alpha3 = str(country).upper()
        alpha2 = EXTRA_COUNTRIES[alpha3] if alpha3 in EXTRA_COUNTRIES else countries_by_alpha3[alpha3].alpha2
        device = str(device).lower()
        if device not in SEARCH_DEVICES:
            raise ValueError(f"unknown device {device!r}")
        return SearchRow(day=day, query=str(query), page=str(page), path=urlsplit(str(page)).path or "/",
                         country=alpha2, device=device, clicks=clicks, impressions=impressions, position=position)
    except (KeyError, TypeError, ValueError) as error:
        raise UpstreamFailed(f"Google's search analytics row is malformed: {error}") from None


def list_properties(settings: Settings, http: httpx.Client, *, auth: str, secret: str, now: datetime
                    ) -> tuple[list[Property], str | None]:
    """The properties the stored authorization may read, and a rotated secret to store (or None)."""
    api = SearchConsoleApi(settings, http, auth=auth, secret=secret, now=now)
    return api.properties(), api.rotated_secret
