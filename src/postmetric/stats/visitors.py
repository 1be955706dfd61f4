"""The visitor profile (SPEC §5 Visitor API, §7 journeys): one visitor's whole story on one site.

`visitor_profile(store, site_id=, visitor_id=)` reads the visitor's events in time order and
shapes them into identity, geo, device, first touch, sessions, pages and goals, with the
payments from the ledger of the person the visitor is (SPEC §7, revenue/people.py).

Secondary responsibilities:
1. Speak both SQL dialects: the statement differs only in how parameters and timestamps are
   written, which `store/dialects.py` knows.
2. Stay bounded: only the newest `MAX_EVENTS` events are read; a visitor with more is marked
   `truncated`, and first seen / first touch then come from one extra read of the first event.

Choices:
- Geo and device are the latest visit's (people travel and switch devices; the newest is what
  a support or sales conversation needs); first touch is the first visit's acquisition.
- Identity merges the props of every `identify` event, later values winning; `null` when the
  visitor was never identified.
- `person` is who the visitor is across devices: `{"key": "user:<user id>" | "email:<email>"
  | null, "visitor_ids": [...]}`, the key from the visitor's latest identify naming a user id
  (else an email), and every visitor of the site with that key, the first seen first (the
  visitor alone, and a null key, when never identified). The rest of the profile (sessions,
  pages, goals, identity, first touch) stays this visitor's own.
- `payments` are the ledger's payments linked to any of the person's visitors (SPEC §6,
  `ledger.payment_json`, whose `visitor_id` says which), oldest first, refunds included; the
  tracker's `payment` events are success-page detections, not payments, so they are not listed.
- Times are ISO 8601 in UTC; durations are whole seconds, like `visit_duration`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from postmetric.revenue.ledger import payment_json
from postmetric.revenue.people import person_map
from postmetric.store.columns import VISIT_FIELDS
from postmetric.store.dialects import DIALECTS
from postmetric.store.events import EventStore

MAX_EVENTS = 10_000
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
GEO_FIELDS = ("country", "region", "city")
DEVICE_FIELDS = {"type": "device", "browser": "browser", "browser_version": "browser_version", "os": "os",
                 "os_version": "os_version"}
FIRST_TOUCH_FIELDS = ("source", "channel", "referrer", "referrer_host", "utm_source", "utm_medium", "utm_campaign",
                      "utm_term", "utm_content", "ref", "entry_page")
IDENTITY_KEYS = ("user_id", "email", "name")


def parse_visitor_id(text: str) -> str | None:
    """The canonical (lower-case, hyphenated) form of a visitor id, or None if it is not a UUID."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def visitor_profile(store: EventStore, *, site_id: int, visitor_id: str) -> dict[str, Any] | None:
    """The profile of `visitor_id` (canonical, see `parse_visitor_id`) on the site, None if never seen."""
    rows = _events(store, site_id, visitor_id, newest_first=True, limit=MAX_EVENTS + 1)
    if not rows:
        return None
    truncated = len(rows) > MAX_EVENTS
    rows = rows[:MAX_EVENTS][::-1]
    first = _events(store, site_id, visitor_id, newest_first=False, limit=1)[0] if truncated else rows[0]
    last = rows[-1]
    sessions = _sessions(rows)
    pageviews = [row for row in rows if row["type"] == "pageview"]
    person = _person(store, site_id, visitor_id)
    return {
        "visitor_id": visitor_id,
        "first_seen": _iso(first["ts"]),
        "last_seen": _iso(last["ts"]),
        "identity": _identity(rows),
        "geo": {name: last[name] for name in GEO_FIELDS},
        "device": {key: last[column] for key, column in DEVICE_FIELDS.items()} | {"viewport": _viewport(pageviews)},
        "first_touch": {name: first[name] for name in FIRST_TOUCH_FIELDS} | {"click_ids": _json(first["click_ids"])},
        "totals": {"visits": len(sessions), "pageviews": len(pageviews),
                   "goals": sum(row["type"] == "goal" for row in rows)},
        "sessions": sessions,
        "pages": [{"page": row["pathname"], "hostname": row["hostname"], "title": row["title"],
                   "timestamp": _iso(row["ts"]), "session_id": row["session_id"]} for row in pageviews],
        "goals": [{"name": row["name"], "timestamp": _iso(row["ts"]), "page": row["pathname"],
                   "props": _json(row["props"])} for row in rows if row["type"] == "goal"],
        "person": person,
        "payments": _payments(store, site_id, person["visitor_ids"]),
        "truncated": truncated,
    }


def _events(store: EventStore, site_id: int, visitor_id: str, *, newest_first: bool, limit: int) -> list[dict]:
    d = DIALECTS[store.dialect]
    columns = ("type", "name", "hostname", "pathname", "title", "props", "viewport_width", "viewport_height",
               "session_id", *VISIT_FIELDS)
    sql = (
        f"SELECT {', '.join(columns)}, {d.epoch_micros('timestamp')} AS ts,"
        f" {d.epoch_micros('session_started_at')} AS started"
        f" FROM events WHERE site_id = {d.param('site', 'int')} AND visitor_id = {d.param('visitor', 'uuid')}"
        f" ORDER BY timestamp {'DESC' if newest_first else 'ASC'} LIMIT {int(limit)}"
    )
    rows = store.fetch(sql, {"site": d.param_value(site_id, "int"), "visitor": d.param_value(visitor_id, "uuid")})
    for row in rows:
        row["session_id"] = str(row["session_id"])  # a UUID object from DuckDB, text from ClickHouse
    return rows


def _person(store: EventStore, site_id: int, visitor_id: str) -> dict[str, Any]:
    """`{"key", "visitor_ids"}` of the person `visitor_id` is on the site."""
    d = DIALECTS[store.dialect]
    people = person_map(d, d.param("site", "int"))
    site = {"site": d.param_value(site_id, "int")}
    found = store.fetch(f"SELECT person FROM ({people}) AS m WHERE visitor_id = {d.param('visitor', 'uuid')}",
                        site | {"visitor": d.param_value(visitor_id, "uuid")})
    if not found:
        return {"key": None, "visitor_ids": [visitor_id]}
    key = found[0]["person"]
    visitors = store.fetch(
        f"SELECT {d.text('span_visitor')} AS visitor, {d.epoch_micros('min(session_started_at)')} AS first_seen"
        f" FROM {d.sessions_table} WHERE site_id = {d.param('site', 'int')} AND span_visitor IN"
        f" (SELECT visitor_id FROM ({people}) AS m WHERE person = {d.param('person', 'string')})"
        " GROUP BY span_visitor",
        site | {"person": d.param_value(key, "string")},
    )
    ordered = sorted((row["first_seen"], row["visitor"]) for row in visitors)
    return {"key": key, "visitor_ids": [visitor for _, visitor in ordered]}


def _payments(store: EventStore, site_id: int, visitor_ids: list[str]) -> list[dict[str, Any]]:
    """The ledger's payments of these visitors, in the store's order (time, transaction, refund last)."""
    payments = [payment for visitor in visitor_ids for payment in store.payments(site_id, visitor_id=visitor)]
    payments.sort(key=lambda p: (p.timestamp, p.transaction_id, p.kind == "refund"))
    return [payment_json(payment) for payment in payments]


def _sessions(rows: list[dict]) -> list[dict[str, Any]]:
    """One entry per visit, in the order they began; a visit's numbers cover the events read."""
    visits: dict[str, dict[str, Any]] = {}
    for row in rows:
        visit = visits.get(row["session_id"])
        if visit is None:
            visit = visits[row["session_id"]] = {
                "session_id": row["session_id"], "started_at": row["started"], "ended_at": row["ts"],
                "duration": 0, "entry_page": row["entry_page"], "exit_page": "", "pageviews": 0,
                "source": row["source"], "channel": row["channel"], "country": row["country"],
                "device": row["device"],
            }
        visit["ended_at"] = max(visit["ended_at"], row["ts"])
        if row["type"] == "pageview":
            visit["pageviews"] += 1
            visit["exit_page"] = row["pathname"]
    ordered = sorted(visits.values(), key=lambda v: v["started_at"])
    for visit in ordered:
        visit["duration"] = round((visit["ended_at"] - visit["started_at"]) / 1_000_000)
        visit["started_at"], visit["ended_at"] = _iso(visit["started_at"]), _iso(visit["ended_at"])
    return ordered


def _identity(rows: list[dict]) -> dict[str, Any] | None:
    identifies = [row for row in rows if row["type"] == "identify"]
    if not identifies:
        return None
    props: dict[str, Any] = {}
    for row in identifies:
        props.update(_json(row["props"]))
    return {key: props.get(key) for key in IDENTITY_KEYS} | {
        "props": props, "identified_at": _iso(identifies[0]["ts"]),
    }


def _viewport(pageviews: list[dict]) -> dict[str, int] | None:
    for row in reversed(pageviews):
        if row["viewport_width"] is not None:
            return {"width": row["viewport_width"], "height": row["viewport_height"]}
    return None


def _json(text: str) -> Mapping[str, Any]:
    try:
        value = orjson.loads(text or "{}")
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _iso(micros: int) -> str:
    return (EPOCH + timedelta(microseconds=int(micros))).isoformat().replace("+00:00", "Z")
