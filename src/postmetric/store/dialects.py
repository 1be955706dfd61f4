"""The SQL that differs between DuckDB and ClickHouse. The compiler writes everything
else once; a dialect only spells functions, parameters and constants its own way.

Values from a query always travel as named parameters; only numbers the engine computes
itself (bucket boundaries, offsets) are written into the SQL text.
"""

from __future__ import annotations

from typing import Protocol

# Parameter kinds the compiler uses, in each dialect's type names.
ParamKind = str  # "int" | "ints" | "string" | "strings" | "timestamp" | "date" | "uuid" | "uuids"


class Dialect(Protocol):
    name: str
    sessions_table: str  # how to read the newest row of every visit
    payments_table: str  # how to read the newest row of every payment
    # Whether the big side of a join gains from an `IN (SELECT key ...)` pre-filter on the join key.
    prefilters_joins: bool

    def param(self, name: str, kind: ParamKind) -> str:
        """Where a parameter goes in the SQL text."""
        ...

    def param_value(self, value: object, kind: ParamKind) -> object:
        """The parameter's value as the driver wants it (timestamps arrive as integer µs)."""
        ...

    def timestamp_constant(self, micros: int) -> str: ...

    def from_epoch_micros(self, expr: str) -> str:
        """The timestamp `expr` (integer microseconds since the epoch) stands for."""
        ...

    def count_distinct(self, expr: str) -> str: ...

    def last_by(self, value: str, key: str, condition: str) -> str:
        """`value` of the row with the greatest `key` among rows where `condition` holds, '' if none."""
        ...

    def max_where(self, value: str, condition: str) -> str:
        """The greatest `value` among rows where `condition` holds, NULL if none."""
        ...

    def arg_max(self, value: str, key: str) -> str:
        """`value` of the row with the greatest `key` (a tuple compares element by element)."""
        ...

    def text(self, expr: str) -> str:
        """`expr` (a UUID, a number) as text."""
        ...

    def add_seconds(self, timestamp: str, seconds: str) -> str: ...

    def day_start(self, day: str) -> str:
        """The timestamp of midnight starting the date `day`, read as UTC."""
        ...

    def epoch_micros(self, timestamp: str) -> str: ...

    def bucket_start(self, unit: str, local_timestamp: str) -> str:
        """The start of the `unit` bucket holding `local_timestamp`, as integer epoch seconds
        of that wall-clock time read as UTC."""
        ...

    def contains(self, text: str, needle: str) -> str: ...

    def matches(self, text: str, pattern: str) -> str: ...

    def starts_with(self, text: str, prefix: str) -> str: ...

    def is_in(self, expr: str, values: str) -> str: ...

    def prop(self, key: str) -> str:
        """The value of event property `key` (a parameter holding the key), '(none)' if absent."""
        ...

    def ratio(self, numerator: str, denominator: str) -> str:
        """A float division that yields 0 for a zero denominator."""
        ...

    def lower_median(self, expr: str) -> str:
        """The ((k−1)//2)-th of the k sorted non-NULL values of `expr` (exact), NULL if there are none."""
        ...

    # The customers list (stats/customers.py).

    def arg_min(self, value: str, key: str) -> str:
        """`value` of the row with the least `key`."""
        ...

    def arg_min_known(self, value: str, key: str) -> str:
        """`value` of the row with the least `key` among rows where `value` is not NULL."""
        ...

    def min_where(self, value: str, condition: str) -> str:
        """The least `value` among rows where `condition` holds, NULL if none."""
        ...


class DuckDB:
    name = "duckdb"
    sessions_table = "sessions"
    payments_table = "payments"
    prefilters_joins = True
    _TYPES = {"int": "BIGINT", "ints": "BIGINT[]", "string": "VARCHAR", "strings": "VARCHAR[]", "date": "DATE",
              "uuid": "UUID", "uuids": "UUID[]"}

    def param(self, name: str, kind: ParamKind) -> str:
        if kind == "timestamp":
            return f"make_timestamp(${name}::BIGINT)"
        return f"${name}::{self._TYPES[kind]}"

    def param_value(self, value: object, kind: ParamKind) -> object:
        if kind in ("strings", "ints", "uuids"):
            return list(value)  # type: ignore[call-overload]
        return value

    def timestamp_constant(self, micros: int) -> str:
        return f"make_timestamp({int(micros)}::BIGINT)"

    def from_epoch_micros(self, expr: str) -> str:
        return f"make_timestamp({expr})"

    def count_distinct(self, expr: str) -> str:
        return f"count(DISTINCT {expr})"

    def last_by(self, value: str, key: str, condition: str) -> str:
        return f"coalesce(arg_max({value}, {key}) FILTER (WHERE {condition}), '')"

    def max_where(self, value: str, condition: str) -> str:
        return f"max({value}) FILTER (WHERE {condition})"

    def arg_max(self, value: str, key: str) -> str:
        return f"arg_max({value}, {key})"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS VARCHAR)"

    def add_seconds(self, timestamp: str, seconds: str) -> str:
        return f"({timestamp} + to_seconds({seconds}))"

    def day_start(self, day: str) -> str:
        return f"CAST({day} AS TIMESTAMP)"

    def epoch_micros(self, timestamp: str) -> str:
        return f"epoch_us({timestamp})"

    def bucket_start(self, unit: str, local_timestamp: str) -> str:
        return f"epoch(date_trunc('{_UNITS[unit]}', {local_timestamp}))::BIGINT"

    def contains(self, text: str, needle: str) -> str:
        return f"contains({text}, {needle})"

    def matches(self, text: str, pattern: str) -> str:
        return f"regexp_matches({text}, {pattern})"

    def starts_with(self, text: str, prefix: str) -> str:
        return f"starts_with({text}, {prefix})"

    def is_in(self, expr: str, values: str) -> str:
        return f"list_contains({values}, {expr})"

    def prop(self, key: str) -> str:
        return f"coalesce(json_extract_string(props, '$.\"' || {key} || '\"'), '(none)')"

    def ratio(self, numerator: str, denominator: str) -> str:
        return f"(CASE WHEN {denominator} = 0 THEN 0.0 ELSE {numerator} / {denominator} END)"

    def lower_median(self, expr: str) -> str:
        return f"quantile_disc({expr}, 0.5)"

    # The customers list (stats/customers.py).

    def arg_min(self, value: str, key: str) -> str:
        return f"arg_min({value}, {key})"

    def arg_min_known(self, value: str, key: str) -> str:
        return f"arg_min({value}, {key}) FILTER (WHERE {value} IS NOT NULL)"

    def min_where(self, value: str, condition: str) -> str:
        return f"min({value}) FILTER (WHERE {condition})"


class ClickHouse:
    name = "clickhouse"
    sessions_table = "sessions FINAL"  # a ReplacingMergeTree: older rows of a visit linger until merged
    payments_table = "payments FINAL"  # the same for a payment whose link was completed later
    # CTEs are inlined: an IN over one that joins other CTEs was measured re-running it, 40 s at 1 M events.
    prefilters_joins = False
    _TYPES = {"int": "Int64", "ints": "Array(Int64)", "string": "String", "strings": "Array(String)",
              "timestamp": "Int64", "date": "Date", "uuid": "UUID", "uuids": "Array(UUID)"}
    _TRUNCATE = {
        "minute": "toStartOfMinute({})",
        "hour": "toStartOfHour({})",
        "day": "toStartOfDay({})",
        "week": "toDateTime(toMonday({}), 'UTC')",
        "month": "toDateTime(toStartOfMonth({}), 'UTC')",
    }

    def param(self, name: str, kind: ParamKind) -> str:
        placeholder = f"{{{name}:{self._TYPES[kind]}}}"
        if kind == "timestamp":
            return f"fromUnixTimestamp64Micro({placeholder}, 'UTC')"
        return placeholder

    def param_value(self, value: object, kind: ParamKind) -> object:
        if kind in ("strings", "ints", "uuids"):
            return list(value)  # type: ignore[call-overload]
        return value

    def timestamp_constant(self, micros: int) -> str:
        return f"fromUnixTimestamp64Micro(toInt64({int(micros)}), 'UTC')"

    def from_epoch_micros(self, expr: str) -> str:
        return f"fromUnixTimestamp64Micro({expr}, 'UTC')"

    def count_distinct(self, expr: str) -> str:
        return f"uniqExact({expr})"

    def last_by(self, value: str, key: str, condition: str) -> str:
        return f"argMaxIf({value}, {key}, {condition})"

    def max_where(self, value: str, condition: str) -> str:
        return f"maxIf(toNullable({value}), {condition})"

    def arg_max(self, value: str, key: str) -> str:
        return f"argMax({value}, {key})"

    def text(self, expr: str) -> str:
        return f"toString({expr})"

    def add_seconds(self, timestamp: str, seconds: str) -> str:
        return f"addSeconds({timestamp}, {seconds})"

    def day_start(self, day: str) -> str:
        return f"toDateTime({day}, 'UTC')"

    def epoch_micros(self, timestamp: str) -> str:
        return f"toUnixTimestamp64Micro({timestamp})"

    def bucket_start(self, unit: str, local_timestamp: str) -> str:
        return f"toInt64(toUnixTimestamp({self._TRUNCATE[unit].format(local_timestamp)}))"

    def contains(self, text: str, needle: str) -> str:
        return f"(position({text}, {needle}) > 0)"

    def matches(self, text: str, pattern: str) -> str:
        return f"match({text}, {pattern})"

    def starts_with(self, text: str, prefix: str) -> str:
        return f"startsWith({text}, {prefix})"

    def is_in(self, expr: str, values: str) -> str:
        return f"has({values}, {expr})"

    def prop(self, key: str) -> str:
        return f"if(JSONHas(props, {key}), JSONExtractString(props, {key}), '(none)')"

    def ratio(self, numerator: str, denominator: str) -> str:
        return f"if({denominator} = 0, 0.0, {numerator} / {denominator})"

    def lower_median(self, expr: str) -> str:
        return f"quantileExactLow(0.5)({expr})"

    # The customers list (stats/customers.py).

    def arg_min(self, value: str, key: str) -> str:
        return f"argMin({value}, {key})"

    def arg_min_known(self, value: str, key: str) -> str:
        return f"argMinIf({value}, {key}, {value} IS NOT NULL)"

    def min_where(self, value: str, condition: str) -> str:
        return f"minIf(toNullable({value}), {condition})"


_UNITS = {"minute": "minute", "hour": "hour", "day": "day", "week": "week", "month": "month"}

DIALECTS: dict[str, Dialect] = {"duckdb": DuckDB(), "clickhouse": ClickHouse()}



# Lower-case as Python's str.lower() (ClickHouse's lower() knows only ASCII).
_LOWER = {"duckdb": "lower", "clickhouse": "lowerUTF8"}


def lowered(d: Dialect, expr: str) -> str:
    """`expr` lower-cased as Python's str.lower() does, in the dialect's SQL."""
    return f"{_LOWER[d.name]}({expr})"
