"""The `identities` table: one row per identify event that names someone, appended by every load,
so that who-is-who (revenue/people.py) reads a few rows per identified visitor instead of scanning
every event for identifies and parsing their props.

An identify names a person by its `user_id` (`user:<user_id>`, as given), or, when it has none
(missing or empty), by its `email`, trimmed of spaces and lower-cased (`email:<email>`). One with
neither names nobody and gets no row.
"""

from __future__ import annotations

from postmetric.store.dialects import Dialect, lowered

# The identify props read, as SQL string constants (property names, not user values).
USER_ID_KEY, EMAIL_KEY = "'user_id'", "'email'"
IDENTITY_COLUMNS = ("site_id", "visitor_id", "timestamp", "person")


def identity_rows(d: Dialect, source: str, where: str = "1 = 1") -> str:
    """A SELECT of IDENTITY_COLUMNS: the identify events of `source` (a table or subquery with the
    events' columns) that name someone, with the person's key."""
    user_id = d.prop(USER_ID_KEY)
    email = lowered(d, f"trim({d.prop(EMAIL_KEY)})")
    absent = "('', '(none)')"  # '(none)': how a dialect spells a missing property
    key = (f"CASE WHEN {user_id} NOT IN {absent} THEN 'user:' || {user_id}"
           f" WHEN {email} NOT IN {absent} THEN 'email:' || {email} ELSE '' END")
    # Distinct names inside and out: a ClickHouse alias is seen in WHERE too.
    return (f"SELECT site_id, visitor_id, timestamp, named AS person FROM (SELECT site_id, visitor_id, timestamp,"
            f" {key} AS named FROM {source} WHERE type = 'identify' AND {where}) AS identifies WHERE named <> ''")
