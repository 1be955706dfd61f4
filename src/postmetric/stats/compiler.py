"""`Query` → one SQL statement over the `events` table, in any dialect.

What is counted (SPEC §5; the oracle in tests/stats says the same in plain Python):

- A visit and all its events belong to the range and time bucket in which the visit began
  (`session_started_at`), so a visit across midnight counts once, on its first day, with
  its whole duration. The `realtime` range is the exception: it looks at when events
  happened (who is here now), and a visit then counts in each minute it was active.
- Engagement events are measurements, not activity: they never make a visitor, visit or
  event appear, but they extend a visit's duration.
- Filters are evaluated per event. `visit:*` values are stamped on every event of their
  visit, so they select whole visits; `event:*` filters select events, and the visits
  (with all their pageviews, duration and bounce) that contain one.
- Visit metrics (visits, bounce rate, duration, views per visit) and the exit page come
  from the visit's *span*: its events in the query's scope and bucket, all types included.
- An event's `event:goal` is a goal event's name, or the display name of the site's goal
  definition for that name; a pageview's is the display name of the first page goal (by id)
  whose pattern matches its path; other events have none. `conversions` counts events with
  a goal. With a goal in context, `conversion_rate` is the goal's (see `_with_goal_base`).
- `scroll_depth` reads engagement events (which carry it): see `_with_scroll`.

Three plans, from cheapest to most general, chosen by what the query needs:
- spans only: nothing per event (no `event:*` dimension or filter), so the visits' rows
  of the store's `sessions` table (one per visit, see stats/spans.py) are all it reads —
  a few times fewer rows than events, and no GROUP BY per visit (realtime groups its
  minutes' spans from the events instead);
- events only: no visit metric and no exit page, so one GROUP BY over matching events;
- both: spans joined to the matching events.
Ratios are computed by the engine from the sums returned here, so every dialect rounds alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from postmetric.stats.definitions import DIMENSIONS_BY_NAME, METRICS_BY_NAME, Source, sums_from
from postmetric.store.dialects import Dialect
from postmetric.stats.fragments import Fragments, Scope, goal_in_context
from postmetric.stats.query import Query, leaves, mentions
from postmetric.stats.registry import TIME_DIMENSIONS
from postmetric.stats.revenue_plan import revenue_groups
from postmetric.stats.spans import SPAN_COLUMNS, span_aggregates, stored_spans

# The sums each plan computes (stats/definitions.py says which a metric needs).
_EVENT_RAW = sums_from(Source.EVENTS)
_VISIT_RAW = sums_from(Source.SESSIONS)
_REVENUE_RAW = sums_from(Source.PAYMENTS)
_SCROLL_RAW = sums_from(Source.ENGAGEMENT)
_BOUNCES = "sum(CASE WHEN span_pageviews = 1 AND span_interactive = 0 THEN 1 ELSE 0 END)"


@dataclass(frozen=True, slots=True)
class Compiled:
    sql: str
    params: dict[str, object]
    dimension_columns: tuple[str, ...]  # result columns holding the dimension values, in order


def raw_columns(metric: str, query: Query) -> tuple[str, ...]:
    """The sums `metric` needs in `query` (its definition's plan)."""
    return METRICS_BY_NAME[metric].plan_for(goal_in_context=goal_in_context(query)).sums


def compile_query(
    query: Query, scope: Scope, dialect: Dialect, *, paginate: bool = True, order: bool = True
) -> Compiled:
    return _Compiler(query, scope, dialect).compile(paginate=paginate, order=order)


class _Compiler(Fragments):
    """The traffic plans of one query, and the statement around them (see the module docstring)."""

    def compile(self, *, paginate: bool, order: bool) -> Compiled:
        q = self.query
        raw = tuple(dict.fromkeys(c for m in q.metrics for c in raw_columns(m, q)))
        dims = [f"d{i}" for i in range(len(q.dimensions))]
        traffic_raw = tuple(c for c in raw if c not in _REVENUE_RAW)
        revenue_raw = tuple(c for c in raw if c in _REVENUE_RAW)
        if not revenue_raw:
            body = self._traffic(dims, raw)
        elif not traffic_raw:
            revenue = revenue_groups(self, dims, revenue_raw)
            body = f"SELECT *, count(*) OVER () AS total_rows FROM ({revenue}) AS revenue"
        else:
            body = self._combined(dims, traffic_raw, revenue_raw)
        sql = f"SELECT * FROM (\n{body}\n) AS result"
        if order:
            sql += "\nORDER BY " + ", ".join(self.order(dims))
        if paginate and q.dimensions:  # one row without dimensions: nothing to page through
            sql += f"\nLIMIT {self.param(q.limit, 'int')} OFFSET {self.param(q.offset, 'int')}"
        return Compiled(sql, self.params, tuple(dims))

    def _combined(self, dims: list[str], traffic_raw: tuple[str, ...], revenue_raw: tuple[str, ...]) -> str:
        """Traffic and revenue groups side by side: a group with visitors but no payments, or
        payments but no visitors in the range (first touch long ago), is still a row."""
        traffic_columns = [c for c in traffic_raw if c != "total_visitors"]
        zeros = lambda columns: [f"0 AS {c}" for c in columns]  # noqa: E731
        carry_total = ["total_visitors"] if "total_visitors" in traffic_raw else []
        traffic = (f"SELECT {', '.join(dims + traffic_columns + zeros(revenue_raw) + carry_total)}"
                   f" FROM ({self._traffic(dims, traffic_raw)}) AS traffic")
        revenue = (f"SELECT {', '.join(dims + zeros(traffic_columns) + list(revenue_raw) + zeros(carry_total))}"
                   f" FROM ({revenue_groups(self, dims, revenue_raw)}) AS revenue")
        sums = [f"sum({c}) AS {c}" for c in traffic_columns + list(revenue_raw)]
        extras = ["count(*) OVER () AS total_rows"]
        if carry_total:
            extras.append("max(max(total_visitors)) OVER () AS total_visitors")
        return (f"SELECT {', '.join(dims + sums + extras)}\nFROM ({traffic}\nUNION ALL\n{revenue}) AS both_halves"
                + (f"\nGROUP BY {', '.join(dims)}" if dims else ""))

    def _traffic(self, dims: list[str], raw: tuple[str, ...]) -> str:
        q = self.query
        if "scroll_sum" in raw:
            return self._with_scroll(dims, raw)
        if "base_visitors" in raw:
            return self._with_goal_base(dims, raw)
        needs_spans = any(c in _VISIT_RAW for c in raw) or self.uses("visit:exit_page")
        per_event = any(d.startswith("event:") for d in q.dimensions) or any(
            f.dimension.startswith("event:") for f in leaves(q.filters)
        )
        # A visit's row counts goal events only: page goals are found among its pageviews.
        per_event = per_event or ("conversions" in raw and bool(self.page_goals))
        if per_event:
            return self._joined_plan(dims, raw) if needs_spans else self._events_plan(dims, raw)
        if self.scope.by_event_time and not needs_spans:
            return self._events_plan(dims, raw)  # realtime: minutes of events, no visit needed
        return self._spans_plan(dims, raw)

    def _with_goal_base(self, dims: list[str], raw: tuple[str, ...]) -> str:
        """The groups of `raw` beside `base_visitors`: the visitors of the same group by every
        dimension but event:goal, under the filters that do not mention event:goal — who could
        have converted. A goal's conversion rate is `visitors` (its converters) over them."""
        q = self.query
        group_raw = tuple(c for c in raw if c != "base_visitors")
        groups = self._traffic(dims, group_raw)
        base_dims = [(alias, name) for alias, name in zip(dims, q.dimensions) if name != "event:goal"]
        base_query = replace(q, dimensions=tuple(name for _, name in base_dims), metrics=("visitors",),
                             filters=tuple(f for f in q.filters if not mentions(f, "event:goal")))
        base = _Compiler(base_query, self.scope, self.dialect, self.params)._traffic(
            [alias for alias, _ in base_dims], ("visitors",))
        on = " AND ".join(f"g.{alias} = b.{alias}" for alias, _ in base_dims)
        join = f"LEFT JOIN ({base}) AS b ON {on}" if on else f"CROSS JOIN ({base}) AS b"
        columns = [f"g.{c} AS {c}" for c in dims + [c for c in group_raw] + ["total_rows"]]
        return f"SELECT {', '.join(columns)}, coalesce(b.visitors, 0) AS base_visitors\nFROM ({groups}) AS g {join}"

    def _with_scroll(self, dims: list[str], raw: tuple[str, ...]) -> str:
        """The groups of `raw` beside their scroll depth sums: per group, each visitor's deepest
        scroll (0–100) among the engagement events in scope that pass the filters, read on the
        engagement event itself (its page, its visit). A group without one gets zero visitors."""
        q = self.query
        group_raw = tuple(c for c in raw if c not in _SCROLL_RAW) or ("visitors",)
        groups = self._traffic(dims, group_raw)
        overrides: dict[str, str] = {}
        ctes, source = "", f"{self.scoped()} AS e"
        if self.uses("visit:exit_page"):  # the exit page is the span's
            overrides = {"visit:exit_page": "spans.exit_page", **dict.fromkeys(TIME_DIMENSIONS, "e.bucket")}
            key = "spans.session_id = e.session_id" + (" AND spans.bucket = e.bucket" if self.bucketed else "")
            ctes, source = f"WITH spans AS ({self._spans_cte()})\n", f"{source} JOIN spans ON {key}"
        columns = [f"{self.dimension(name, overrides)} AS {alias}" for alias, name in zip(dims, q.dimensions)]
        conditions = ["e.type = 'engagement'", "e.scroll_depth IS NOT NULL"]
        conditions += [self.filter(f, overrides) for f in q.filters]
        deepest = (f"{ctes}SELECT {', '.join(columns + ['e.visitor_id AS visitor_id'])},"
                   f" max(e.scroll_depth) AS deepest FROM {source} WHERE {' AND '.join(conditions)}"
                   f" GROUP BY {', '.join(dims + ['e.visitor_id'])}")
        scroll = (f"SELECT {''.join(d + ', ' for d in dims)}sum(deepest) AS scroll_sum, count(*) AS scroll_visitors"
                  f" FROM ({deepest}) AS deepest_scrolls" + (f" GROUP BY {', '.join(dims)}" if dims else ""))
        on = " AND ".join(f"g.{alias} = s.{alias}" for alias in dims)
        join = f"LEFT JOIN ({scroll}) AS s ON {on}" if on else f"CROSS JOIN ({scroll}) AS s"
        columns = [f"g.{c} AS {c}" for c in dims + list(group_raw) + ["total_rows"]]
        return (f"SELECT {', '.join(columns)}, coalesce(s.scroll_sum, 0) AS scroll_sum,"
                f" coalesce(s.scroll_visitors, 0) AS scroll_visitors\nFROM ({groups}) AS g {join}")

    # -- plans -------------------------------------------------------------------------

    def _events_plan(self, dims: list[str], raw: tuple[str, ...]) -> str:
        matched = self._matched(dims, join_spans=False)
        return self._final(dims, raw, f"WITH matched AS ({matched})", visit_groups=None)

    def _joined_plan(self, dims: list[str], raw: tuple[str, ...]) -> str:
        spans = self._spans_cte()
        matched = self._matched(dims, join_spans=True)
        visit_groups = self._visit_groups(dims)
        return self._final(dims, raw, f"WITH spans AS ({spans}),\nmatched AS ({matched})", visit_groups)

    def _spans_plan(self, dims: list[str], raw: tuple[str, ...]) -> str:
        """Everything from one row per visit span: no filter or dimension looks at single
        events, so a span's sums are all the groups need."""
        d = self.dialect
        exit_filters = [f for f in self.query.filters if mentions(f, "visit:exit_page")]
        visit_filters = [f for f in self.query.filters if not mentions(f, "visit:exit_page")]
        dim_exprs = [self.dimension(name) for name in self.query.dimensions]
        # Dimensions other than the exit page are columns of the event (or the bucket) and
        # join the GROUP BY; the exit page is computed by it.
        grouped = [(alias, expr) for alias, expr, name in zip(dims, dim_exprs, self.query.dimensions)
                   if name != "visit:exit_page"]
        exit_alias = [alias for alias, name in zip(dims, self.query.dimensions) if name == "visit:exit_page"]
        # Columns the exit-page filters also read are constant within a visit: carry them.
        carried = sorted({DIMENSIONS_BY_NAME[leaf.dimension].column for f in exit_filters for leaf in leaves([f])
                          if leaf.dimension != "visit:exit_page"})
        grouped += [(column, column) for column in carried if column not in dict(grouped)]
        select = "".join(f"{expr} AS {alias}, " for alias, expr in grouped)
        where = " AND ".join([self.filter(f, {}) for f in visit_filters] or ["1 = 1"])
        bucket = "bucket, " if self.bucketed else ""
        if self.scope.by_event_time:
            # Realtime: a visit counts in each minute it was active, so spans are grouped here.
            spans = (
                f"SELECT session_id, {bucket}{select}{', '.join(span_aggregates(d))}"
                f"\n  FROM {self.scoped('events')} WHERE {where}"
                f"\n  GROUP BY session_id" + (", bucket" if self.bucketed else "")
                + "".join(", " + alias for alias, _ in grouped)
            )
        else:
            # A visit is whole in its start's bucket: its row of the sessions table is its span.
            spans = (
                f"SELECT session_id, {bucket}{select}{', '.join(stored_spans(d))}"
                f"\n  FROM {self.scoped(d.sessions_table)} WHERE {where}"
            )
        # A visit of nothing but engagement events is no visit.
        span_conditions = ["span_events > 0"] + [self.filter(f, {"visit:exit_page": "exit_page"})
                                                 for f in exit_filters]
        columns = [alias for alias in dims if alias not in exit_alias] + [f"exit_page AS {a}" for a in exit_alias]
        group_rows = (
            f"SELECT {', '.join(columns + [c for c in SPAN_COLUMNS if c != 'exit_page'])}"
            f" FROM spans WHERE {' AND '.join(span_conditions)}"
        )
        aggregates = {
            "visitors": d.count_distinct("span_visitor"),
            "pageviews": "sum(span_pageviews)",
            "events": "sum(span_events)",
            "conversions": "sum(span_conversions)",
            "visits": "count(*)",
            "visit_pageviews": "sum(span_pageviews)",
            "bounces": _BOUNCES,
            "duration_us": "sum(span_duration_us)",
        }
        needed = [c for c in raw if c != "total_visitors"]
        select_final = dims + [f"{aggregates[c]} AS {c}" for c in needed]
        extras = ["count(*) OVER () AS total_rows"]
        if "total_visitors" in raw:
            extras.append(f"(SELECT {d.count_distinct('span_visitor')} FROM grouped_rows) AS total_visitors")
        return (
            f"WITH spans AS ({spans}),\ngrouped_rows AS ({group_rows})\n"
            f"SELECT {', '.join(select_final + extras)}\nFROM grouped_rows"
            + (f"\nGROUP BY {', '.join(dims)}" if dims else "")
        )

    # -- pieces ------------------------------------------------------------------------

    def _spans_cte(self) -> str:
        key = "session_id, bucket" if self.bucketed else "session_id"
        return f"SELECT {key}, {', '.join(span_aggregates(self.dialect))}\n  FROM {self.scoped()} AS e GROUP BY {key}"

    def _matched(self, dims: list[str], *, join_spans: bool) -> str:
        q = self.query
        # Joined to the spans, two names exist on both sides: say whose.
        overrides = (
            {"visit:exit_page": "spans.exit_page", **dict.fromkeys(TIME_DIMENSIONS, "e.bucket")}
            if join_spans else {}
        )
        columns = [f"{self.dimension(name, overrides)} AS {alias}" for alias, name in zip(dims, q.dimensions)]
        columns += ["e.visitor_id AS visitor_id", "e.session_id AS session_id", "e.type AS type"]
        if join_spans and self.bucketed:
            columns.append("e.bucket AS bucket")
        source = f"{self.scoped()} AS e"
        if join_spans:
            key = "spans.session_id = e.session_id" + (" AND spans.bucket = e.bucket" if self.bucketed else "")
            source += f" JOIN spans ON {key}"
        columns.append(f"CASE WHEN {self.goal_condition()} THEN 1 ELSE 0 END AS conversion")
        conditions = [self.where(q.filters, overrides)]
        if "event:goal" in q.dimensions:
            conditions.append(self.goal_condition())
        return f"SELECT {', '.join(columns)}\n  FROM {source} WHERE {' AND '.join(conditions)}"

    def _visit_groups(self, dims: list[str]) -> str:
        key = ", session_id" + (", bucket" if self.bucketed else "")
        join = "spans.session_id = m.session_id" + (" AND spans.bucket = m.bucket" if self.bucketed else "")
        select_dims = "".join(f"m.{d}, " for d in dims)
        return (
            f"SELECT {select_dims}count(*) AS visits, sum(span_pageviews) AS visit_pageviews,"
            f" {_BOUNCES} AS bounces, sum(span_duration_us) AS duration_us"
            f"\n  FROM (SELECT DISTINCT {''.join(d + ', ' for d in dims)}{key.lstrip(', ')} FROM matched) AS m"
            f" JOIN spans ON {join}"
            + (f"\n  GROUP BY {', '.join('m.' + d for d in dims)}" if dims else "")
        )

    def _final(self, dims: list[str], raw: tuple[str, ...], ctes: str, visit_groups: str | None) -> str:
        d = self.dialect
        event_aggregates = {
            "visitors": d.count_distinct("visitor_id"),
            "pageviews": "sum(CASE WHEN type = 'pageview' THEN 1 ELSE 0 END)",
            "events": "count(*)",
            "conversions": "sum(conversion)",
        }
        event_raw = [c for c in raw if c in _EVENT_RAW]
        visit_raw = [c for c in raw if c in _VISIT_RAW]
        event_groups = (
            f"SELECT {', '.join(dims + [f'{event_aggregates[c]} AS {c}' for c in event_raw] or ['count(*) AS events'])}"
            " FROM matched" + (f" GROUP BY {', '.join(dims)}" if dims else "")
        )
        ctes += f",\nevent_groups AS ({event_groups})"
        source = "event_groups AS g"
        if visit_groups is not None:
            ctes += f",\nvisit_groups AS ({visit_groups})"
            on = " AND ".join(f"g.{x} = v.{x}" for x in dims) or "1 = 1"
            source += f" JOIN visit_groups AS v ON {on}"
        columns = [f"g.{x} AS {x}" for x in dims]
        columns += [f"g.{c} AS {c}" for c in event_raw] + [f"v.{c} AS {c}" for c in visit_raw]
        columns.append("count(*) OVER () AS total_rows")
        if "total_visitors" in raw:
            columns.append(f"(SELECT {d.count_distinct('visitor_id')} FROM matched) AS total_visitors")
        return f"{ctes}\nSELECT {', '.join(columns)}\nFROM {source}"
