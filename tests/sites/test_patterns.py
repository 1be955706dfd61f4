"""Page patterns: the linear matcher agrees with a regular-expression oracle, and patterns are bounded."""

from __future__ import annotations

import re

import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from postmetric.errors import ValidationError
from postmetric.sites.patterns import (
    MAX_PATTERN,
    MAX_WILDCARDS,
    PagePattern,
    any_matches,
    page_pattern_regex,
    parse_page_pattern,
)

from hypothesis_profiles import examples


def oracle(pattern: str, path: str) -> bool:
    """What a page pattern means, spelled as a (backtracking, so only for short inputs) regex."""
    return re.fullmatch(".*".join(re.escape(piece) for piece in pattern.split("*")), path, re.DOTALL) is not None


@settings(max_examples=examples(400), deadline=None)
@given(pattern=st.text("ab/.*\n", max_size=10).map(lambda text: "/" + text), path=st.text("ab/.*\n", max_size=14))
def test_the_matcher_agrees_with_the_oracle_and_with_the_sql_regex(pattern, path):
    expected = oracle(pattern, path)
    assert PagePattern.of(pattern).matches(path) is expected
    # The same pattern as the RE2 regex the SQL stores run (goals, funnel steps).
    assert (re2.search(page_pattern_regex(pattern), path) is not None) is expected


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("/admin/*", "/admin/users/1", True),
    ("/admin/*", "/administrator", False),
    ("/blog/*/draft", "/blog/a/b/draft", True),
    ("/blog/*/draft", "/blog/draft", False),
    ("/a*a", "/a", False),  # the two pieces may not overlap
    ("/a*a", "/aa", True),
    ("*", "", True),
    ("/preview", "/preview/", False),
])
def test_patterns_cover_the_whole_path(pattern, path, expected):
    assert PagePattern.of(pattern).matches(path) is expected


def test_hostile_patterns_on_long_paths_answer_as_the_meaning_says():
    """Nested stars that make a backtracking regex run for minutes: here one pass each."""
    long_a = "/" + "a" * 2000
    for stars in (4, 8, MAX_WILDCARDS):
        pattern = "/" + "*a" * stars + "*b"
        assert not any_matches((pattern,), long_a)
        assert any_matches((pattern,), long_a + "b")
    assert any_matches(("/x", "/" + "*a" * 8), long_a)


@pytest.mark.parametrize(("value", "message"), [
    ("admin", "must start with '/'"),
    (7, "must start with '/'"),
    ("/" + "a" * MAX_PATTERN, f"is longer than {MAX_PATTERN} characters"),
    ("/" + "*a" * (MAX_WILDCARDS + 1), f"has more than {MAX_WILDCARDS} '\\*' wildcards"),
])
def test_a_pattern_out_of_bounds_is_refused_naming_the_field(value, message):
    with pytest.raises(ValidationError, match=message) as error:
        parse_page_pattern(value, field="excluded_paths")
    assert error.value.field == "excluded_paths"
    assert parse_page_pattern(" /blog/* ", field="excluded_paths") == "/blog/*"
