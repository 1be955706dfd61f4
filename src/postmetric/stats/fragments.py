"""The SQL pieces every plan of one query shares, in any dialect: bound parameters, the scope's
rows, local time buckets, dimension values, filters and goals.

The compiler (stats/compiler.py) and the revenue half of a query (stats/revenue_plan.py) both
build on a `Fragments` of the query; neither reaches into the other.

Secondary responsibilities:
1. `Scope`: which events and payments a statement reads.
2. `offset_segments`: the UTC offsets of a time zone over a range, for local time buckets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from postmetric.sites.goals import GoalDefinition
from postmetric.stats.definitions import DIMENSIONS_BY_NAME, METRICS_BY_NAME, DimensionKind
from postmetric.sites.patterns import page_pattern
from postmetric.store.dialects import Dialect, ParamKind
from postmetric.stats.query import Filter, FilterExpression, Logical, Query, leaves
from postmetric.stats.registry import TIME_DIMENSIONS


@dataclass(frozen=True, slots=True)
class Scope:
    """Which events and payments a statement reads: one site, `start` ≤ anchor < `end` (UTC)."""

    site_id: int
    start: datetime
    end: datetime
    by_event_time: bool = False  # realtime: anchor on the event's own time, not its visit's start
    currency: str = "USD"  # the site's: money in other reporting currencies is not added up
    goals: tuple[GoalDefinition, ...] = ()  # the site's goal definitions, in id order


def time_unit(query: Query) -> str | None:
    """The bucket of the query's time dimension (`time` is days), None without one."""
    for dimension in query.dimensions:
        definition = DIMENSIONS_BY_NAME.get(dimension)
        if definition is not None and definition.unit is not None:
            return definition.unit
    return None


def goal_in_context(query: Query) -> bool:
    """Whether `conversion_rate` is a goal's rate: an event:goal dimension or filter (else it is
    the share of visitors who paid)."""
    return "event:goal" in query.dimensions or any(f.dimension == "event:goal" for f in leaves(query.filters))


def micros(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


@dataclass
class Fragments:
    """SQL pieces of `query` over `scope`; every value it binds lands in `params`."""

    query: Query
    scope: Scope
    dialect: Dialect
    params: dict[str, object] = field(default_factory=dict)

    def param(self, value: object, kind: ParamKind) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = self.dialect.param_value(value, kind)
        return self.dialect.param(name, kind)

    @property
    def bucketed(self) -> bool:
        return time_unit(self.query) is not None

    def anchor(self) -> str:
        return "timestamp" if self.scope.by_event_time else "session_started_at"

    def scoped(self, table: str = "events") -> str:
        """The rows of `table` (events, or one per visit) in the scope, with their time
        bucket when the query has one."""
        s, d = self.scope, self.dialect
        anchor = self.anchor()
        bucket = ""
        if self.bucketed:
            bucket = f", {d.bucket_start(time_unit(self.query), self.local(anchor))} AS bucket"
        return (
            f"(SELECT *{bucket} FROM {table} WHERE site_id = {self.param(s.site_id, 'int')}"
            f" AND {anchor} >= {self.param(micros(s.start), 'timestamp')}"
            f" AND {anchor} < {self.param(micros(s.end), 'timestamp')})"
        )

    def local(self, column: str) -> str:
        """`column` (UTC) as wall-clock time in the query's time zone."""
        segments = offset_segments(self.query.timezone, self.scope.start, self.scope.end)
        if len(segments) == 1:
            offset = segments[0][1]
            return column if offset == 0 else self.dialect.add_seconds(column, str(offset))
        cases = " ".join(
            f"WHEN {column} < {self.dialect.timestamp_constant(micros(until))} THEN {offset}"
            for (_, offset), (until, _) in zip(segments, segments[1:])
        )
        return self.dialect.add_seconds(column, f"(CASE {cases} ELSE {segments[-1][1]} END)")

    def where(self, filters: tuple[FilterExpression, ...] | list[FilterExpression],
              overrides: dict[str, str] | None = None) -> str:
        conditions = ["type <> 'engagement'"] + [self.filter(f, overrides or {}) for f in filters]
        return " AND ".join(conditions)

    def filter(self, expression: FilterExpression, overrides: dict[str, str]) -> str:
        if isinstance(expression, Logical):
            if expression.operator == "not":
                return f"(NOT {self.filter(expression.children[0], overrides)})"
            joiner = f" {expression.operator.upper()} "
            return "(" + joiner.join(self.filter(c, overrides) for c in expression.children) + ")"
        return self._condition(expression, self.dimension(expression.dimension, overrides))

    def _condition(self, f: Filter, expr: str) -> str:
        d = self.dialect
        negated = f.operator.endswith("_not")
        operator = f.operator.removesuffix("_not")
        if operator == "is":
            test = d.is_in(expr, self.param(f.values, "strings"))
        else:
            spell = d.contains if operator == "contains" else d.matches
            test = "(" + " OR ".join(spell(expr, self.param(v, "string")) for v in f.values) + ")"
        return f"(NOT {test})" if negated else test

    def dimension(self, name: str, overrides: dict[str, str] | None = None) -> str:
        """A dimension's value for an event row (`overrides`: names whose value is read elsewhere)."""
        if overrides and name in overrides:
            return overrides[name]
        if name.startswith("event:props:"):
            return self.dialect.prop(self.param(name.removeprefix("event:props:"), "string"))
        definition = DIMENSIONS_BY_NAME[name]
        if definition.kind is DimensionKind.TIME:
            return "bucket"
        if name == "event:goal":
            return self.goal_name()
        return definition.column

    @property
    def page_goals(self) -> list[GoalDefinition]:
        return [goal for goal in self.scope.goals if goal.kind == "page"]

    def _page_match(self, goal: GoalDefinition) -> str:
        return page_pattern(self.dialect, "pathname", goal.page_path, lambda text: self.param(text, "string"))

    def goal_condition(self) -> str:
        """Whether an event completes a goal: a goal event, or a pageview of a page goal."""
        pages = [self._page_match(goal) for goal in self.page_goals]
        if not pages:
            return "type = 'goal'"
        return f"(type = 'goal' OR (type = 'pageview' AND ({' OR '.join(pages)})))"

    def goal_name(self) -> str:
        """An event's value of event:goal: a goal event's definition's display name, else its
        name; the display name of the first page goal (by id) a pageview matches; else ''."""
        names = "".join(f" WHEN name = {self.param(goal.event_name, 'string')}"
                        f" THEN {self.param(goal.display_name, 'string')}"
                        for goal in self.scope.goals if goal.kind == "event")
        event_name = f"(CASE{names} ELSE name END)" if names else "name"
        pages = "".join(f" WHEN type = 'pageview' AND {self._page_match(goal)}"
                        f" THEN {self.param(goal.display_name, 'string')}" for goal in self.page_goals)
        return f"(CASE WHEN type = 'goal' THEN {event_name}{pages} ELSE '' END)"

    def order(self, dims: list[str]) -> list[str]:
        """The ORDER BY clauses of the query's groups, whose dimension values are in columns `dims`:
        as asked, else by time and then the first metric, largest first."""
        q, d = self.query, self.dialect
        by_name = dict(zip(q.dimensions, dims))
        goal_rate = goal_in_context(q)
        sort_keys = {name: METRICS_BY_NAME[name].plan_for(goal_in_context=goal_rate).sort_key(d)
                     for name in q.metrics}
        order = list(q.order_by)
        if not order:
            order = [(x, "asc") for x in q.dimensions if x in TIME_DIMENSIONS]
            order.append((q.metrics[0], "desc"))
        clauses = [f"{by_name.get(name) or sort_keys[name]} {direction.upper()}" for name, direction in order]
        # Dimension values break ties, so pages of results never overlap.
        clauses += [f"{x} ASC" for x in dims]
        return clauses

    def uses(self, name: str) -> bool:
        """Whether the query names dimension `name` as a dimension or in a filter."""
        return name in self.query.dimensions or any(f.dimension == name for f in leaves(self.query.filters))


@lru_cache(maxsize=256)
def offset_segments(tz_name: str, start: datetime, end: datetime) -> tuple[tuple[datetime, int], ...]:
    """The UTC offsets (seconds) of `tz_name` over [start, end): ((from, offset), ...), where
    each offset holds from its instant until the next one's. Found by stepping a day at a
    time and bisecting to the second where the offset changes."""
    tz = ZoneInfo(tz_name)

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds())

    segments = [(start, offset(start))]
    day = timedelta(days=1)
    cursor = start
    while cursor < end:
        step_end = min(cursor + day, end)
        current = segments[-1][1]
        if offset(step_end) != current:
            low, high = cursor, step_end  # offset(low) == current != offset(high)
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle <= low:
                    break
                if offset(middle) == current:
                    low = middle
                else:
                    high = middle
            segments.append((high, offset(high)))
        cursor = step_end
    return tuple(segments)
