"""People: the visitors of one user across devices, from the site's `identify` events (SPEC §7).

`person_map(dialect, site)` is a SELECT of `(visitor_id, person)`, one row per visitor of the
site identified as someone; the customers list, revenue attribution and the visitor profile
read it, so the three agree on who is one person.

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


def person_map(d: Dialect, site: str) -> str:
    """A SELECT of `visitor_id` (as stored) and `person` (its key) for every visitor of the site
    (`site`: an SQL expression) identified as someone; one scan of the site's identify events."""
    user_id = d.prop(USER_ID_KEY)
    email = f"{_LOWER[d.name]}(trim({d.prop(EMAIL_KEY)}))"
    absent = "('', '(none)')"  # '(none)': how a dialect spells a missing property
    key = (f"CASE WHEN {user_id} NOT IN {absent} THEN 'user:' || {user_id}"
           f" WHEN {email} NOT IN {absent} THEN 'email:' || {email} ELSE '' END")
    # The latest identify naming someone wins (an unnamed one ranks below any named one). The
    # test for a name comes after the grouping: DuckDB would push it into the scan of the events
    # table, and parse the props of every row. Distinct names inside and out: a ClickHouse alias
    # is seen in WHERE too.
    latest = d.arg_max("named", "(named <> '', timestamp, named)")
    return (f"SELECT visitor_id, person FROM (SELECT visitor_id, {latest} AS person"
            f" FROM (SELECT visitor_id, timestamp, {key} AS named FROM events"
            f" WHERE site_id = {site} AND type = 'identify') AS identifies GROUP BY visitor_id) AS latest"
            f" WHERE person <> ''")

