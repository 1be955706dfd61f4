"""Funnel results (SPEC §7): how many visitors did a funnel's steps in order, over a date range.

What is counted (tests/stats/funnel_oracle.py says the same in plain Python):

- A step is a page pattern or a goal. A `page` step matches pageviews whose path matches
  the pattern: `*` stands for any run of characters (`/` included), anything else matches
  itself, and the pattern covers the whole path (`/blog/*` matches `/blog/a/b`, `/pricing`
  only `/pricing`), as for goals and excluded paths. A `goal` step matches goal events of
  that name. Engagement (and every other kind of) event never matches.
- Events count by their own time, `start` ≤ timestamp < `end`; steps may lie in different
  visits of the same visitor.
- Greedy earliest: t1 is the visitor's earliest step-1 event; t(n) is their earliest step-n
  event strictly later than t(n−1) (an event at the same microsecond does not advance). A
  visitor counts for step n when t(n) exists, so out-of-order steps do not count and a
  repeated step counts the visitor once.
- Per step: `visitors`; `conversion_from_previous` (% of step n−1's visitors; step 1: 100.0,
  or 0.0 without visitors) and `conversion_from_first` (% of step 1's), both rounded half up
  to 2 decimals; `drop_off` (visitors of step n−1 minus those of step n; step 1: 0);
  `median_seconds_to_next`, the lower median (the ((k−1)//2)-th of the k sorted values) of
  t(n+1) − t(n) in seconds over the visitors who reached step n+1, null on the last step or
  when nobody reached the next. The lower median is an exact value both DuckDB
  (`quantile_disc`) and ClickHouse (`quantileExactLow`) compute alike.
- Breakdown by a `visit:*` dimension: a visitor's value is that of the visit of their t1
  event (the one of the greatest session id if several visits have a step-1 event at t1).
  `visit:exit_page` is that visit's last pageview, from the sessions table; the others are
  stamped on the event. Groups are ordered by step-1 visitors (desc), then value (asc); at
  most `limit` of them.

The SQL is one statement (one more for a breakdown) written once and spelled by the store's
dialect: a chain of CTEs, one per step, each with a row per step-1 visitor carrying t1..t(n)
(NULL once a step is missed), so the last one alone holds everything and ClickHouse, which
does not materialise CTEs, computes each step once. The events side of each join is on the
left (ClickHouse builds its hash table from the right, the visitors).

Secondary responsibilities:
1. `parse_funnel_query`: a results request's parameters (date range, time zone, breakdown,
   limit), checked once, with the query API's date-range resolution.
2. `answer_funnel_query`: the results of a parsed request, with its range as answered (`all`
   begins at local midnight of the site's first event).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from postmetric.stats import registry
from postmetric.sites.funnels import FunnelStep
from postmetric.sites.patterns import page_pattern
from postmetric.store.dialects import DIALECTS, Dialect, ParamKind
from postmetric.stats.engine import first_stored_moment
from postmetric.stats.parse import parse_query
from postmetric.stats.query import DateRange, QueryError
from postmetric.store.events import EventStore

DEFAULT_DATE_RANGE = "30d"
DEFAULT_BREAKDOWN_LIMIT = 100
MAX_BREAKDOWN_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class FunnelQuery:
    """What a results request asks: the range (resolved in `timezone`), and an optional breakdown."""

    date_range: DateRange
    timezone: str
    breakdown: str | None = None
    limit: int = DEFAULT_BREAKDOWN_LIMIT


def parse_funnel_query(params: Mapping[str, str], *, site_timezone: str, now: datetime) -> FunnelQuery:
    """`date_range` (as the query API takes it; two ISO dates or datetimes as `start,end`; 30d by
    default), `timezone` (the site's by default), `breakdown` (a visit:* dimension) and `limit`
    (breakdown groups). A QueryError names the parameter that is wrong."""
    text = params.get("date_range") or DEFAULT_DATE_RANGE
    date_range: object = text.split(",") if "," in text else text
    # The query parser resolves ranges and time zones; a funnel only borrows that part of a query.
    resolved = parse_query({"site_id": "funnel", "date_range": date_range, "metrics": ["visitors"],
                            "timezone": params.get("timezone") or site_timezone}, site_timezone=site_timezone, now=now)
    breakdown = params.get("breakdown") or None
    if breakdown is not None and breakdown not in registry.VISIT_DIMENSIONS:
        raise QueryError("breakdown", f"{breakdown!r} is not a visit dimension; known: "
                                      f"{', '.join(registry.VISIT_DIMENSIONS)}")
    limit_text = params.get("limit") or str(DEFAULT_BREAKDOWN_LIMIT)
    if not (limit_text.isascii() and limit_text.isdigit() and len(limit_text) <= 4
            and 1 <= int(limit_text) <= MAX_BREAKDOWN_LIMIT):
        raise QueryError("limit", f"must be an integer between 1 and {MAX_BREAKDOWN_LIMIT}")
    return FunnelQuery(resolved.date_range, resolved.timezone, breakdown, int(limit_text))


def answer_funnel_query(store: EventStore, steps: Sequence[FunnelStep], query: FunnelQuery, *,
                        site_id: int) -> dict[str, Any]:
    """`funnel_results` for a parsed request, with `"date_range": {"start", "end"}` in its time zone.
    `all` begins at local midnight of the site's first event. Blocking: call from a worker thread."""
    start, end = query.date_range.start, query.date_range.end
    if query.date_range.name == "all":
        start = _first_event_day(store, site_id, query.timezone, end)
    tz = ZoneInfo(query.timezone)
    return {"date_range": {"start": start.astimezone(tz).isoformat(), "end": end.astimezone(tz).isoformat()},
            **funnel_results(store, steps, site_id=site_id, start=start, end=end, breakdown=query.breakdown,
                             limit=query.limit)}


def _first_event_day(store: EventStore, site_id: int, tz_name: str, end: datetime) -> datetime:
    d = DIALECTS[store.dialect]
    rows = store.fetch(f"SELECT {d.epoch_micros('min(timestamp)')} AS first, count(*) AS n FROM events"
                       f" WHERE site_id = {d.param('site', 'int')}", {"site": site_id})
    first = end - timedelta(microseconds=1)  # no event: the range is the last day
    if rows and rows[0]["n"]:
        first = first_stored_moment(rows[0]["first"], end)
    tz = ZoneInfo(tz_name)
    return datetime.combine(first.astimezone(tz).date(), time(0), tzinfo=tz).astimezone(timezone.utc)


def funnel_results(store: EventStore, steps: Sequence[FunnelStep], *, site_id: int, start: datetime,
                   end: datetime, breakdown: str | None = None,
                   limit: int = DEFAULT_BREAKDOWN_LIMIT) -> dict[str, Any]:
    """`{"steps": [...]}` for the funnel over [start, end), plus `"breakdown": [{"value", "steps"}]`
    when `breakdown` (a `visit:*` dimension) is given. Blocking: call from a worker thread."""
    if breakdown is not None and breakdown not in registry.VISIT_DIMENSIONS:
        raise ValueError(f"not a visit dimension: {breakdown!r}")
    d = DIALECTS[store.dialect]
    whole = _FunnelSql(d, steps, site_id, start, end).statement()
    [row] = store.fetch(whole.sql, whole.params)
    answer: dict[str, Any] = {"steps": step_results(steps, _counts(row, len(steps)))}
    if breakdown is not None:
        grouped = _FunnelSql(d, steps, site_id, start, end, breakdown=breakdown).statement(limit=limit)
        answer["breakdown"] = [
            {"value": str(row["value"]), "steps": step_results(steps, _counts(row, len(steps)))}
            for row in store.fetch(grouped.sql, grouped.params)
        ]
    return answer


def step_results(steps: Sequence[FunnelStep], counts: Sequence[tuple[int, int | None]]) -> list[dict[str, Any]]:
    """The per-step answer from (visitors, median µs to the next step or None) of each step."""
    first = counts[0][0]
    results = []
    for index, (step, (visitors, median_us)) in enumerate(zip(steps, counts)):
        previous = counts[index - 1][0] if index else None
        results.append({
            "index": index + 1, "type": step.type, "match": step.match, "label": step.label,
            "visitors": visitors,
            "conversion_from_previous": (100.0 if visitors else 0.0) if previous is None
            else percent(visitors, previous),
            "conversion_from_first": percent(visitors, first),
            "drop_off": 0 if previous is None else previous - visitors,
            "median_seconds_to_next": None if median_us is None else round(median_us / 1_000_000, 6),
        })
    return results


def percent(part: int, whole: int) -> float:
    """100 · part / whole rounded half up to 2 decimals; 0.0 when `whole` is 0."""
    if not whole:
        return 0.0
    hundredths = (Fraction(10_000 * part, whole) + Fraction(1, 2)).__floor__()
    return float(Fraction(hundredths, 100))


def _counts(row: dict[str, Any], n: int) -> list[tuple[int, int | None]]:
    return [(int(row[f"visitors_{k}"]), None if k == n or row[f"median_us_{k}"] is None
             else int(row[f"median_us_{k}"])) for k in range(1, n + 1)]


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    params: dict[str, object]


@dataclass
class _FunnelSql:
    dialect: Dialect
    steps: Sequence[FunnelStep]
    site_id: int
    start: datetime
    end: datetime
    breakdown: str | None = None
    params: dict[str, object] = field(default_factory=dict)

    def statement(self, *, limit: int | None = None) -> Statement:
        d, n = self.dialect, len(self.steps)
        matches = [self._match(step) for step in self.steps]
        ctes = [f"scoped AS ({self._scoped(matches)})", f"step1 AS ({self._first_step(matches[0])})"]
        ctes += [f"step{k} AS ({self._next_step(k, matches[k - 1])})" for k in range(2, n + 1)]
        columns = [f"count(t{k}) AS visitors_{k}" for k in range(1, n + 1)]
        columns += [f"{d.lower_median(self._seconds_to_next(k))} AS median_us_{k}" for k in range(1, n)]
        with_ctes = "WITH " + ",\n".join(ctes)
        if self.breakdown is None:
            return Statement(f"{with_ctes}\nSELECT {', '.join(columns)}\nFROM step{n}", self.params)
        sql = f"{with_ctes}\nSELECT value, {', '.join(columns)}\nFROM {self._valued(f'step{n}')}"
        sql += f"\nGROUP BY value ORDER BY visitors_1 DESC, value ASC LIMIT {self._param(limit, 'int')}"
        return Statement(sql, self.params)

    # -- pieces ------------------------------------------------------------------------

    def _scoped(self, matches: list[str]) -> str:
        """The site's events in the range that match any step: every later CTE reads these."""
        carried = ", session_id" if self.breakdown == "visit:exit_page" else ""
        if self.breakdown is not None and self.breakdown != "visit:exit_page":
            carried = f", session_id, {_stamped_column(self.breakdown)} AS value"
        return (
            f"SELECT visitor_id, timestamp, type, name, pathname{carried} FROM events"
            f" WHERE site_id = {self._param(self.site_id, 'int')}"
            f" AND timestamp >= {self._param(_micros(self.start), 'timestamp')}"
            f" AND timestamp < {self._param(_micros(self.end), 'timestamp')}"
            f" AND ({' OR '.join(dict.fromkeys(matches))})"
        )

    def _first_step(self, match: str) -> str:
        d = self.dialect
        carried = ""
        if self.breakdown is not None:
            # The visit of the earliest step-1 event; at equal times, the greatest session id.
            earliest = f"(0 - {d.epoch_micros('timestamp')}, {d.text('session_id')})"
            carried_column = "session_id" if self.breakdown == "visit:exit_page" else "value"
            carried = f", {d.arg_max(carried_column, earliest)} AS {carried_column}"
        return f"SELECT visitor_id, min(timestamp) AS t1{carried} FROM scoped WHERE {match} GROUP BY visitor_id"

    def _next_step(self, k: int, match: str) -> str:
        carried = [f"p.t{j}" for j in range(1, k)] + self._carried_breakdown("p.")
        kept = ", ".join(f"{column} AS {column.removeprefix('p.')}" for column in carried)
        return (
            f"SELECT p.visitor_id AS visitor_id, {kept},"
            f" min(CASE WHEN e.timestamp > p.t{k - 1} THEN e.timestamp END) AS t{k}"
            f"\n  FROM (SELECT visitor_id, timestamp FROM scoped WHERE {match}) AS e"
            f" RIGHT JOIN step{k - 1} AS p ON e.visitor_id = p.visitor_id"
            f"\n  GROUP BY p.visitor_id, {', '.join(carried)}"
        )

    def _seconds_to_next(self, k: int) -> str:
        """t(k+1) − t(k) in µs, NULL for a visitor who did not reach step k+1."""
        d = self.dialect
        later, earlier = d.epoch_micros(f"t{k + 1}"), d.epoch_micros(f"t{k}")
        return f"CASE WHEN t{k + 1} IS NOT NULL THEN {later} - {earlier} END"

    def _carried_breakdown(self, prefix: str) -> list[str]:
        if self.breakdown is None:
            return []
        return [prefix + ("session_id" if self.breakdown == "visit:exit_page" else "value")]

    def _valued(self, last_step: str) -> str:
        """The last step's rows with their breakdown value (the exit page comes from the visit's row)."""
        if self.breakdown != "visit:exit_page":
            return last_step
        d, n = self.dialect, len(self.steps)
        times = ", ".join(f"r.t{k} AS t{k}" for k in range(1, n + 1))
        return (
            f"(SELECT coalesce(s.exit_page, '') AS value, {times}"
            f" FROM (SELECT session_id, exit_page FROM {d.sessions_table}"
            f" WHERE site_id = {self._param(self.site_id, 'int')}) AS s"
            f" RIGHT JOIN {last_step} AS r ON s.session_id = r.session_id) AS valued"
        )

    def _match(self, step: FunnelStep) -> str:
        if step.type == "goal":
            return f"(type = 'goal' AND name = {self._param(step.match, 'string')})"
        page = page_pattern(self.dialect, "pathname", step.match, lambda text: self._param(text, "string"))
        return f"(type = 'pageview' AND {page})"

    def _param(self, value: object, kind: ParamKind) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = self.dialect.param_value(value, kind)
        return self.dialect.param(name, kind)


def _stamped_column(dimension: str) -> str:
    """The events column of a `visit:*` dimension: each visit attribute is stamped on its events."""
    return dimension.removeprefix("visit:")


def _micros(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)
