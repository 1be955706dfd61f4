"""`Query` of search:* metrics → one SQL statement over the `search_console` table (store/search.py).

What is counted (the oracle in tests/stats/search_oracle.py says the same in plain Python):

- Search Console reports days, not instants: a query's range covers the days from the local date
  of its start to the local date of its last moment (in the query's time zone), both included, and
  a row counts in the time bucket of its day. The previous period is as many days just before.
- Clicks and impressions add up. CTR and the average position are computed by the engine from
  the group's sums, the position weighted by impressions as Search Console averages it; its sum
  travels in thousandths as an integer, so that every engine adds up exactly the same.
- Filters take the search:* dimensions and event:page, which reads the result's path (the
  dashboard's page filter).
The parser refuses anything else in a query with search:* metrics (stats/parse.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from postmetric.stats.compiler import Compiled
from postmetric.stats.fragments import Fragments, Scope, time_unit
from postmetric.stats.query import Query
from postmetric.stats.registry import SEARCH_METRICS
from postmetric.store.dialects import Dialect

FIRST_DAY = date(1970, 1, 1)
# A row's impression-weighted position in thousandths, rounded half up alike on every engine.
POSITION_MILLI = "CAST(floor(position * impressions * 1000 + 0.5) AS BIGINT)"


def is_search_query(query: Query) -> bool:
    """Whether `query` asks for search:* metrics (then for nothing else: the parser sees to it)."""
    return query.metrics[0] in SEARCH_METRICS


def search_days(scope: Scope, tz_name: str) -> tuple[date, date]:
    """The first and last day (both included) of Search Console rows `scope` covers."""
    tz = ZoneInfo(tz_name)
    return scope.start.astimezone(tz).date(), (scope.end - timedelta(microseconds=1)).astimezone(tz).date()


def previous_days(scope: Scope, tz_name: str) -> Scope:
    """The previous period of a search query: as many whole days just before its days (a range of days
    that crosses a change of clocks is an hour longer or shorter than those days before it)."""
    tz = ZoneInfo(tz_name)
    first, last = search_days(scope, tz_name)
    days = (last - first).days + 1

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)

    return replace(scope, start=midnight(first - timedelta(days=days)), end=midnight(first))


class _SearchFragments(Fragments):
    def dimension(self, name: str, overrides: dict[str, str] | None = None) -> str:
        return "path" if name == "event:page" else super().dimension(name, overrides)


def compile_search(query: Query, scope: Scope, dialect: Dialect, *, paginate: bool = True,
                   order: bool = True) -> Compiled:
    f = _SearchFragments(query, scope, dialect)
    first, last = search_days(scope, query.timezone)
    # ClickHouse's Date starts in 1970 and reads an earlier day as its first: days before then hold no row.
    days = (f"day >= {f.param(max(first, FIRST_DAY), 'date')} AND day <= {f.param(last, 'date')}"
            if last >= FIRST_DAY else "1 = 0")
    unit = time_unit(query)
    bucket = f", {dialect.bucket_start(unit, dialect.day_start('day'))} AS bucket" if unit else ""
    rows = f"SELECT *{bucket} FROM search_console WHERE site_id = {f.param(scope.site_id, 'int')} AND {days}"
    dims = [f"d{i}" for i in range(len(query.dimensions))]
    columns = [f"{f.dimension(name)} AS {alias}" for alias, name in zip(dims, query.dimensions)]
    columns += ["sum(clicks) AS search_clicks", "sum(impressions) AS search_impressions",
                f"sum({POSITION_MILLI}) AS search_position_milli", "count(*) OVER () AS total_rows"]
    where = " AND ".join(f.filter(expression, {}) for expression in query.filters) or "1 = 1"
    sql = (f"SELECT * FROM (\nSELECT {', '.join(columns)}\nFROM ({rows}) AS search WHERE {where}"
           + (f"\nGROUP BY {', '.join(dims)}" if dims else "") + "\n) AS result")
    if order:
        sql += "\nORDER BY " + ", ".join(f.order(dims))
    if paginate and query.dimensions:
        sql += f"\nLIMIT {f.param(query.limit, 'int')} OFFSET {f.param(query.offset, 'int')}"
    return Compiled(sql, f.params, tuple(dims))
