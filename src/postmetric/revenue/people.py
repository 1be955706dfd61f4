"""People: the visitors of one user across devices, from the site's `identify` events (SPEC §7).

`person_map(dialect, site)` is a SELECT of `(visitor_id, person)`, one row per visitor of the
site identified as someone; the customers list, revenue attribution and the visitor profile
read it, so the three agree on who is one person.

It reads the event stores' `identities` table, not the events: one row per identify event that
names someone (store/identities.py applies rule 1), appended by every load and built from the
events when missing, like the sessions table. Scanning 10 M events for the few identifies (and parsing their props)
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

from postmetric.store.dialects import Dialect


def person_map(d: Dialect, site: str) -> str:
    """A SELECT of `visitor_id` (as stored) and `person` (its key) for every visitor of the site
    (`site`: an SQL expression) identified as someone: its latest naming identify (rule 2)."""
    latest = d.arg_max("person", "(timestamp, person)")
    return (f"SELECT visitor_id, {latest} AS person FROM identities"
            f" WHERE site_id = {site} GROUP BY visitor_id")
