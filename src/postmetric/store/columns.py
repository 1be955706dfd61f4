"""The rows the event store keeps: events (with their visit's attributes), and the active visits
it gives back. Ingestion decides what the values mean; this module only says which columns exist,
in which order, and of which logical type (the dialects map those to their own types).
"""

from __future__ import annotations

from dataclasses import dataclass

# The attributes of a visit, taken from its first event (click_ids as JSON text).
VISIT_FIELDS = (
    "entry_page",
    "referrer",
    "referrer_host",
    "source",
    "channel",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "ref",
    "click_ids",
    "country",
    "region",
    "city",
    "browser",
    "browser_version",
    "os",
    "os_version",
    "device",
)

# (name, logical type). An event's own columns come first, then its visit's: ids, start and
# attributes in VISIT_FIELDS order.
EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("site_id", "uint32"),
    ("timestamp", "timestamp"),
    ("type", "string"),
    ("name", "string"),
    ("hostname", "string"),
    ("pathname", "string"),
    ("query", "string"),
    ("title", "string"),
    ("viewport_width", "uint32?"),
    ("viewport_height", "uint32?"),
    ("props", "json"),
    ("scroll_depth", "uint8?"),
    ("engaged_ms", "uint32?"),
    ("visitor_id", "uuid"),
    ("session_id", "uuid"),
    ("session_started_at", "timestamp"),
) + tuple((name, "json" if name == "click_ids" else "string") for name in VISIT_FIELDS)
COLUMN_NAMES = tuple(name for name, _ in EVENT_COLUMNS)

# Every nullable column is a number; in CSV (journal, bulk loads) a missing one travels as -1.
CSV_NULL = -1


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A visit found in the event store, used to warm the visit cache after a restart."""

    site_id: int
    visitor_id: str
    session_id: str
    started_at: float
    last_seen: float
    attributes: tuple  # in VISIT_FIELDS order
