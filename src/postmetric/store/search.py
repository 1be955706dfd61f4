"""The `search_console` table: Google Search Console's performance rows, one per day × query × page ×
country × device of a site, as the Search Console sync writes them (integrations/) and the `search:*`
queries read them (stats/). No personal data: Google reports queries only in aggregate.

A sync replaces whole days (`replace_search_rows`): Google revises its last few days, so the same
days are written again, never appended to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# (name, logical type): the table's columns, in this order, after `site_id`.
SEARCH_COLUMNS: tuple[tuple[str, str], ...] = (
    ("site_id", "uint32"),
    ("day", "date"),  # the day in Google's reporting zone (Pacific time), as Google gives it
    ("query", "string"),
    ("page", "string"),  # the full URL, as Google gives it
    ("path", "string"),  # its pathname: what the page filter compares
    ("country", "string"),  # ISO 3166-1 alpha-2, upper case; '' unknown
    ("device", "string"),  # desktop | mobile | tablet
    ("clicks", "uint64"),
    ("impressions", "uint64"),
    ("position", "float64"),  # Google's average position (1 = top) over the row's impressions
)
SEARCH_COLUMN_NAMES = tuple(name for name, _ in SEARCH_COLUMNS)
SEARCH_DEVICES = ("desktop", "mobile", "tablet")


@dataclass(frozen=True, slots=True)
class SearchRow:
    day: date
    query: str
    page: str
    path: str
    country: str
    device: str
    clicks: int
    impressions: int
    position: float

    def values(self, site_id: int) -> tuple:
        """The row as stored, in SEARCH_COLUMNS order."""
        return (site_id, self.day, self.query, self.page, self.path, self.country, self.device, self.clicks,
                self.impressions, self.position)
