"""The query model: what `parse_query` makes of a JSON query, and what compilers read."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from postmetric.errors import ValidationError


class QueryError(ValidationError):
    """An invalid query; the message names the field and says what is wrong."""


@dataclass(frozen=True, slots=True)
class Filter:
    operator: str  # one of registry.FILTER_OPERATORS
    dimension: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Logical:
    operator: str  # "and" | "or" | "not" (exactly one child)
    children: tuple[Filter | Logical, ...]


FilterExpression = Filter | Logical


def leaves(filters: Iterable[FilterExpression]) -> Iterator[Filter]:
    """The plain filters inside `filters`, however and/or/not nest them."""
    for f in filters:
        if isinstance(f, Logical):
            yield from leaves(f.children)
        else:
            yield f


def mentions(expression: FilterExpression, dimension: str) -> bool:
    return any(leaf.dimension == dimension for leaf in leaves([expression]))


@dataclass(frozen=True, slots=True)
class DateRange:
    """`start` inclusive, `end` exclusive, both aware UTC datetimes; `name` is the range asked
    for ("30d", "realtime", ...) or None for explicit dates."""

    start: datetime
    end: datetime
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Query:
    site_id: str
    date_range: DateRange
    metrics: tuple[str, ...]
    dimensions: tuple[str, ...] = ()
    filters: tuple[FilterExpression, ...] = ()
    order_by: tuple[tuple[str, str], ...] = ()
    comparison: str | None = None
    time_labels: bool = False
    total_rows: bool = False
    limit: int = 100
    offset: int = 0
    timezone: str = "UTC"
    attribution: str = "first_touch"
