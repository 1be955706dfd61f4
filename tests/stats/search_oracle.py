"""What a search:* query answers, computed row by row in plain Python from the Search Console rows, with
no SQL: the definitions of stats/search_plan.py stated a second time, for the property test.

- The range covers the local dates (query time zone) from its start to its last moment; the previous
  period is as many days just before.
- A row counts in the bucket of its day (weeks start on Monday). Clicks and impressions add up;
  CTR = 100 × clicks ÷ impressions (two decimals, null without impressions); position = Σ(position ×
  impressions) ÷ Σ impressions (one decimal, null without impressions), rounded half up, each row's
  weighted position taken in thousandths.
- Filters: search:* dimensions and event:page (the path); is / contains / matches and their _not.
- Order: the first metric, largest first (CTR and position by their exact ratio), then the dimension
  values; with a time dimension, time first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from postmetric.store.search import SearchRow

COLUMN = {"search:query": "query", "search:page": "path", "event:page": "path", "search:country": "country",
          "search:device": "device"}


def half_up(value: Fraction, digits: int) -> Fraction:
    scale = 10**digits
    return Fraction(math.floor(value * scale + Fraction(1, 2)), scale)


def days_of(start, end, tz_name: str) -> tuple[date, date]:
    tz = ZoneInfo(tz_name)
    return start.astimezone(tz).date(), (end - timedelta(microseconds=1)).astimezone(tz).date()


def label(unit: str, day: date) -> str:
    if unit == "week":
        day -= timedelta(days=day.weekday())
    elif unit == "month":
        day = day.replace(day=1)
    return day.isoformat()


def passes(expression, row: SearchRow) -> bool:
    if expression[0] in ("and", "or"):
        results = [passes(child, row) for child in expression[1]]
        return all(results) if expression[0] == "and" else any(results)
    if expression[0] == "not":
        return not passes(expression[1], row)
    operator, dimension, values = expression
    value = getattr(row, COLUMN[dimension])
    base = operator.removesuffix("_not")
    if base == "is":
        hit = value in values
    elif base == "contains":
        hit = any(v in value for v in values)
    else:
        hit = any(re.search(v, value) for v in values)
    return hit != operator.endswith("_not")


def sums(rows: Sequence[SearchRow]) -> dict[str, int]:
    return {"clicks": sum(r.clicks for r in rows), "impressions": sum(r.impressions for r in rows),
            "position_milli": sum(math.floor(r.position * r.impressions * 1000 + 0.5) for r in rows)}


def metric(name: str, s: dict[str, int]) -> int | float | None:
    if name == "search:clicks":
        return s["clicks"]
    if name == "search:impressions":
        return s["impressions"]
    if name == "search:ctr":
        return float(half_up(Fraction(100 * s["clicks"], s["impressions"]), 2)) if s["impressions"] else None
    return float(half_up(Fraction(s["position_milli"], 1000 * s["impressions"]), 1)) if s["impressions"] else None


def sort_value(name: str, s: dict[str, int]) -> Fraction:
    """What groups are ordered by: the exact ratio for CTR and position (0 without impressions)."""
    if name in ("search:clicks", "search:impressions"):
        return Fraction(s[name.removeprefix("search:")])
    if not s["impressions"]:
        return Fraction(0)
    return Fraction(s["clicks"] if name == "search:ctr" else s["position_milli"], s["impressions"])


def groups(rows: Sequence[SearchRow], first: date, last: date, dimensions: Sequence[str],
           filters: Sequence) -> dict[tuple[str, ...], list[SearchRow]]:
    grouped: dict[tuple[str, ...], list[SearchRow]] = {}
    for row in rows:
        if not first <= row.day <= last or not all(passes(f, row) for f in filters):
            continue
        key = tuple(label(d.partition(":")[2] or "day", row.day) if d.startswith("time")
                    else getattr(row, COLUMN[d]) for d in dimensions)
        grouped.setdefault(key, []).append(row)
    return grouped


def answer(rows: Sequence[SearchRow], *, first: date, last: date, metrics: Sequence[str],
           dimensions: Sequence[str] = (), filters: Sequence = ()) -> list[dict]:
    """The ordered results (no comparison) of the site's `rows` over the days first..last."""
    grouped = groups(rows, first, last, dimensions, filters)
    if not dimensions:
        grouped = {(): grouped.get((), [])}
    time_index = next((i for i, d in enumerate(dimensions) if d.startswith("time")), None)

    def order(item):
        key, group = item
        time_first = (key[time_index],) if time_index is not None else ()
        return (*time_first, -sort_value(metrics[0], sums(group)), *key)

    return [{"dimensions": list(key), "metrics": [metric(m, sums(group)) for m in metrics]}
            for key, group in sorted(grouped.items(), key=order)]
