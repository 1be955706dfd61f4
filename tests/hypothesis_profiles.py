"""Hypothesis profiles: `default` for `make test`, `full` for `make test-full` (HYPOTHESIS_PROFILE=full).

A property test states its full count as `max_examples=examples(N)`: the full profile runs N, the
default profile a quarter of N but never fewer than 25 (nor more than N), a count that still
draws every branch of the strategies the suite's properties use — the full run is where rarer
combinations are hunted. Tests without a count of their own take the profile's.
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"
FULL = "full"
DEFAULT_SHARE = 0.25
DEFAULT_FLOOR = 25
FULL_EXAMPLES = 100  # Hypothesis's own default, what a test without a count ran before the profiles


def full_profile() -> bool:
    return os.environ.get(PROFILE_VARIABLE, "default") == FULL


def examples(full: int) -> int:
    """A property test's max_examples under the profile in force, given its count under the full one."""
    if full_profile():
        return full
    return min(full, max(DEFAULT_FLOOR, round(full * DEFAULT_SHARE)))


def load_profile() -> None:
    settings.register_profile("default", max_examples=examples(FULL_EXAMPLES))
    settings.register_profile(FULL, max_examples=FULL_EXAMPLES)
    settings.load_profile(FULL if full_profile() else "default")
