"""The realtime snapshot: who is on a site now, the body of `GET /api/v1/realtime` and of each
frame of its event stream.

Visitors active in the last REALTIME_WINDOW, the top pages, sources and countries among them
(queries of the query model), and the latest of those visitors (`recent_visitors`, newest
first, read straight from the event store: the query model has no per-visitor rows).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from postmetric.store.dialects import DIALECTS
from postmetric.stats.engine import StatsEngine
from postmetric.stats.parse import parse_query
from postmetric.stats.query import DateRange
from postmetric.store.events import EventStore

REALTIME_WINDOW = timedelta(minutes=5)
REALTIME_TOP = 10
REALTIME_RECENT_VISITORS = 20
# What reports and the realtime view call the source of a visit that came without one.
DIRECT = "Direct/None"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class Site(Protocol):
    id: int
    public_id: str
    timezone: str
    currency: str


def realtime_snapshot(engine: StatsEngine, site: Site, *, now: datetime, events: EventStore) -> dict[str, Any]:
    """Visitors active in the last five minutes, with the top pages, sources and countries, and the
    latest of those visitors (blocking)."""
    query = parse_query({"site_id": site.public_id, "date_range": "realtime", "metrics": ["visitors"]},
                        site_timezone=site.timezone, now=now)
    query = replace(query, date_range=DateRange(now - REALTIME_WINDOW, now, "realtime"))

    def top(dimension: str, key: str) -> list[dict[str, Any]]:
        ranked = replace(query, dimensions=(dimension,), order_by=(("visitors", "desc"), (dimension, "asc")),
                         limit=REALTIME_TOP)
        rows = engine.run(ranked, site_id=site.id, currency=site.currency)["results"]
        return [{key: shown_value(dimension, row["dimensions"][0]), "visitors": row["metrics"][0]} for row in rows]

    return {
        "site_id": site.public_id,
        "at": now.isoformat().replace("+00:00", "Z"),
        "window_seconds": int(REALTIME_WINDOW.total_seconds()),
        "visitors": engine.run(query, site_id=site.id, currency=site.currency)["results"][0]["metrics"][0],
        "pages": top("event:page", "page"),
        "sources": top("visit:source", "source"),
        "countries": top("visit:country", "country"),
        "recent_visitors": recent_visitors(events, site.id, now - REALTIME_WINDOW, now),
    }


def recent_visitors(events: EventStore, site_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Up to REALTIME_RECENT_VISITORS visitors with an event in [start, end), newest first: the page,
    source and country of their latest event, and when it happened."""
    d = DIALECTS[events.dialect]
    rows = events.fetch(
        f"SELECT {d.text('visitor_id')} AS visitor, {d.arg_max('pathname', 'timestamp')} AS page,"
        f" {d.arg_max('source', 'timestamp')} AS source, {d.arg_max('country', 'timestamp')} AS country,"
        f" {d.epoch_micros('max(timestamp)')} AS last_seen"
        f" FROM events WHERE site_id = {d.param('site', 'int')}"
        f" AND timestamp >= {d.param('start', 'timestamp')} AND timestamp < {d.param('end', 'timestamp')}"
        f" GROUP BY visitor_id ORDER BY last_seen DESC, visitor LIMIT {REALTIME_RECENT_VISITORS}",
        {"site": d.param_value(site_id, "int"), "start": d.param_value(_epoch_micros(start), "timestamp"),
         "end": d.param_value(_epoch_micros(end), "timestamp")},
    )
    return [{"visitor_id": row["visitor"], "page": row["page"],
             "source": shown_value("visit:source", row["source"]),
             "country": row["country"], "last_seen": _iso_micros(row["last_seen"])} for row in rows]


def shown_value(dimension: str, value: str) -> str:
    """A dimension value as reports and the realtime view show it: DIRECT for no source."""
    return DIRECT if dimension == "visit:source" and value == "" else value


def _epoch_micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _iso_micros(micros: int) -> str:
    return (EPOCH + timedelta(microseconds=int(micros))).isoformat().replace("+00:00", "Z")
