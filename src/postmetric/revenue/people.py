"""People: the visitors of one user across devices, from the site's `identify` events (SPEC §7).

`person_map(dialect, site)` is a SELECT of `(visitor_id, person)`, one row per visitor of the
site identified as someone; the customers list, revenue attribution and the visitor profile
read it, so the three agree on who is one person.

It reads the event stores' `identities` table, not the events: one row per identify event that
names someone (`identity_rows`), appended by every load and rebuilt from the events when missing,
like the sessions table. Scanning 10 M events for the few identifies (and parsing their props)
cost about 60 ms in every revenue breakdown; the table holds a few rows per identified visitor.

The rules:
1. An `identify` event names a person by its `user_id` (`user:<user_id>`, as given), or, when
   it has none (missing or empty), by its `email`, trimmed of spaces and lower-cased
   (`email:<email>`). An identify with neither (only a name, say) names nobody.
2. A visitor identified as two different people belongs to the one its latest naming
   identify gives (a shared computer passes to its latest user); identifies in the same
   microsecond go to the greatest key.
3. Visitors with the same key are one person. A visitor never identified is a person of its own
   (`visitor:<visitor id>` where a key is needed; its `person` is null in the API).

Keys are compared as they are: a visitor identified only by email and another by the user id
that email belongs to are two people (nothing tells they are one), so an app that knows its
user ids should pass them to `identify`.
"""

from __future__ import annotations

from postmetric.stats.dialects import Dialect

# Lower-case as Python's str.lower() (ClickHouse's lower() knows only ASCII).
_LOWER = {"duckdb": "lower", "clickhouse": "lowerUTF8"}
# The identify props read, as SQL string constants (property names, not user values).
USER_ID_KEY, EMAIL_KEY = "'user_id'", "'email'"
IDENTITY_COLUMNS = ("site_id", "visitor_id", "timestamp", "person")


def lowered(d: Dialect, expr: str) -> str:
    """`expr` lower-cased as Python's str.lower() does, in the dialect's SQL."""
    return f"{_LOWER[d.name]}({expr})"


def identity_rows(d: Dialect, source: str, where: str = "1 = 1") -> str:
    """A SELECT of IDENTITY_COLUMNS: the identify events of `source` (a table or subquery with the
    events' columns) that name someone (rule 1), with the person's key, for the `identities` table."""
    user_id = d.prop(USER_ID_KEY)
    email = f"{_LOWER[d.name]}(trim({d.prop(EMAIL_KEY)}))"
    absent = "('', '(none)')"  # '(none)': how a dialect spells a missing property
    key = (f"CASE WHEN {user_id} NOT IN {absent} THEN 'user:' || {user_id}"
           f" WHEN {email} NOT IN {absent} THEN 'email:' || {email} ELSE '' END")
    # Distinct names inside and out: a ClickHouse alias is seen in WHERE too.
    return (f"SELECT site_id, visitor_id, timestamp, named AS person FROM (SELECT site_id, visitor_id, timestamp,"
            f" {key} AS named FROM {source} WHERE type = 'identify' AND {where}) AS identifies WHERE named <> ''")


def person_map(d: Dialect, site: str) -> str:
    """A SELECT of `visitor_id` (as stored) and `person` (its key) for every visitor of the site
    (`site`: an SQL expression) identified as someone: its latest naming identify (rule 2)."""
    latest = d.arg_max("person", "(timestamp, person)")
    return (f"SELECT visitor_id, {latest} AS person FROM identities"
            f" WHERE site_id = {site} GROUP BY visitor_id")
