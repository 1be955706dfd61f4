"""Funnel results (SPEC §7) in plain Python, visitor by visitor: what the SQL of
stats/funnels.py must agree with exactly. Written from the definitions, not from the SQL:

- a page step matches a pageview whose whole path matches the pattern (`*`: any characters);
  a goal step matches a goal event of that name; nothing else ever matches;
- only events with start ≤ timestamp < end count, by their own time, across visits;
- t1 is a visitor's earliest step-1 event, t(n) their earliest step-n event after t(n−1);
- the median to the next step is the lower median of t(n+1) − t(n);
- a breakdown value is that of the visit of the t1 event (at equal times, the greatest
  session id's); the exit page is the visit's last pageview (by time, then path) among all
  its events.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from stats_oracle import Row


def funnel(rows: list[Row], steps, *, site_id: int, start: datetime, end: datetime,
           breakdown: str | None = None, limit: int = 100) -> dict:
    """`{"steps": [...]}` (and `"breakdown"` if asked) for `steps` (objects with type, match, label)."""
    low, high = _micros(start), _micros(end)
    site_rows = [r for r in rows if r.site_id == site_id]
    in_range = [r for r in site_rows if low <= r.timestamp < high]
    by_visitor: dict[str, list[Row]] = defaultdict(list)
    for r in in_range:
        by_visitor[r.visitor_id].append(r)
    journeys = {visitor: _journey(events, steps) for visitor, events in by_visitor.items()}
    journeys = {visitor: times for visitor, times in journeys.items() if times}

    answer = {"steps": _steps(steps, list(journeys.values()))}
    if breakdown is not None:
        groups: dict[str, list[list[int]]] = defaultdict(list)
        for visitor, times in journeys.items():
            groups[_value(by_visitor[visitor], steps[0], times[0], breakdown, site_rows)].append(times)
        ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))[:limit]
        answer["breakdown"] = [{"value": value, "steps": _steps(steps, members)} for value, members in ordered]
    return answer


def matches(step, r: Row) -> bool:
    if step.type == "goal":
        return r.type == "goal" and r.name == step.match
    if r.type != "pageview":
        return False
    literal_parts = (re.escape(part) for part in step.match.split("*"))
    return re.fullmatch(".*".join(literal_parts), r.pathname, re.DOTALL) is not None


def _journey(events: list[Row], steps) -> list[int]:
    """t1, t2, ... of the steps the visitor reached, in µs."""
    times: list[int] = []
    for step in steps:
        later = [r.timestamp for r in events if matches(step, r) and (not times or r.timestamp > times[-1])]
        if not later:
            break
        times.append(min(later))
    return times


def _steps(steps, journeys: list[list[int]]) -> list[dict]:
    results = []
    for n, step in enumerate(steps):
        reached = [times for times in journeys if len(times) > n]
        visitors = len(reached)
        first = len(journeys)
        previous = len([times for times in journeys if len(times) > n - 1]) if n else None
        gaps = sorted(times[n + 1] - times[n] for times in journeys if len(times) > n + 1)
        results.append({
            "index": n + 1, "type": step.type, "match": step.match, "label": step.label,
            "visitors": visitors,
            "conversion_from_previous": _percent(visitors, previous) if n else (100.0 if visitors else 0.0),
            "conversion_from_first": _percent(visitors, first),
            "drop_off": previous - visitors if n else 0,
            "median_seconds_to_next": gaps[(len(gaps) - 1) // 2] / 1_000_000 if gaps else None,
        })
    return results


def _value(events: list[Row], first_step, t1: int, breakdown: str, site_rows: list[Row]) -> str:
    at_t1 = [r for r in events if matches(first_step, r) and r.timestamp == t1]
    chosen = max(at_t1, key=lambda r: r.session_id)
    if breakdown == "visit:exit_page":
        views = [(r.timestamp, r.pathname) for r in site_rows
                 if r.session_id == chosen.session_id and r.type == "pageview"]
        return max(views)[1] if views else ""
    return chosen.visit[breakdown.removeprefix("visit:")]


def _percent(part: int, whole: int) -> float:
    if not whole:
        return 0.0
    return float((Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _micros(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)
