"""Page patterns (`/thank-you`, `/blog/*`): bounded where a user sets them, matched without backtracking.

A page pattern is a path in which `*` stands for any run of characters (`/` included) and every
other character for itself, matched on the whole path. Excluded paths (site settings), page goals
and funnel page steps all use them; a pattern is user input matched against visitor input, so
neither may cost more than linear time.

Secondary responsibilities:
1. `parse_page_pattern`: the one validation of a pattern (a leading `/`, at most `MAX_PATTERN`
   characters and `MAX_WILDCARDS` stars), a `ValidationError` naming the field.
2. `PagePattern.matches`: the pattern against a path in Python (excluded paths, on the event
   loop): the literal pieces between the stars found left to right with `str.find`, which is
   all a star-only pattern needs (the leftmost place for each piece never loses a match), so a
   path costs one pass per pattern, never the exponential retries of a backtracking regex.
3. `page_pattern_regex`: the same pattern as an RE2 regular expression for SQL (DuckDB's
   `regexp_full_match` and ClickHouse's `match` are RE2: linear too).
4. `page_pattern`: the SQL test of a column against a pattern, in a store dialect (goals, funnels).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from postmetric.errors import ValidationError
from postmetric.store.dialects import Dialect

MAX_PATTERN = 2048  # characters: as long as the longest page address the tracker sends
MAX_WILDCARDS = 16  # stars in one pattern; each one is a `.*` in the SQL regexes
# Characters RE2 would read as syntax; `*` is the pattern's own wildcard.
_REGEX_SYNTAX = frozenset("\\.+?()|[]{}^$")


def parse_page_pattern(value: object, *, field: str, example: str = "/blog/*") -> str:
    """`value` stripped, or ValidationError naming `field` when it is not a bounded page pattern."""
    if not isinstance(value, str) or not value.strip().startswith("/"):
        raise ValidationError(field, f"{_short(value)} must start with '/', e.g. {example}")
    pattern = value.strip()
    if len(pattern) > MAX_PATTERN:
        raise ValidationError(field, f"is longer than {MAX_PATTERN} characters")
    if pattern.count("*") > MAX_WILDCARDS:
        raise ValidationError(field, f"{_short(pattern)} has more than {MAX_WILDCARDS} '*' wildcards")
    return pattern


@dataclass(frozen=True, slots=True)
class PagePattern:
    """A page pattern split at its stars: `/a*b*c` → ("/a", "b", "c")."""

    pieces: tuple[str, ...]

    @classmethod
    def of(cls, pattern: str) -> PagePattern:
        return cls(tuple(pattern.split("*")))

    def matches(self, path: str) -> bool:
        if len(self.pieces) == 1:
            return path == self.pieces[0]
        first, *middle, last = self.pieces
        if len(path) < len(first) + len(last) or not path.startswith(first) or not path.endswith(last):
            return False
        position, end = len(first), len(path) - len(last)
        for piece in middle:
            found = path.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True


@lru_cache(maxsize=1024)
def compiled_patterns(patterns: tuple[str, ...]) -> tuple[PagePattern, ...]:
    """A site's patterns, split once per distinct tuple (site settings are cached as tuples)."""
    return tuple(PagePattern.of(pattern) for pattern in patterns)


def any_matches(patterns: tuple[str, ...], path: str) -> bool:
    return any(pattern.matches(path) for pattern in compiled_patterns(patterns))


def page_pattern_regex(pattern: str) -> str:
    """`/blog/*` → `(?s)^/blog/.*$`: the whole path, `*` for any characters."""
    body = "".join(".*" if ch == "*" else "\\" + ch if ch in _REGEX_SYNTAX else ch for ch in pattern)
    return f"(?s)^{body}$"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def page_pattern(d: Dialect, column: str, pattern: str, param: Callable[[str], str]) -> str:
    """SQL that is true when `column` matches a page pattern (`*`: any characters; goals and
    funnel steps): an equality or a prefix test when the pattern allows one (most do, and
    they cost a fraction of a regular expression per row), else the pattern's regex.
    `param` binds a string and returns its placeholder."""
    if "*" not in pattern:
        return f"{column} = {param(pattern)}"
    head = pattern.rstrip("*")
    if "*" not in head:
        return d.starts_with(column, param(head))
    return d.matches(column, param(page_pattern_regex(pattern)))
