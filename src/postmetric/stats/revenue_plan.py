"""The revenue half of a query: sums of the payments ledger per group, in any dialect.

What is counted (SPEC §5 and §6; tests/stats/stats_oracle.py says the same in plain Python):

- A payment counts in the range and time bucket of its own timestamp (a refund on its refund
  date), in the site's currency (`reporting_amount`; a payment recorded while the site had
  another currency, or without a known rate, adds no money but still counts as a payment).
- Without dimensions or filters beyond time, every payment counts, linked to a visit or not.
- Split or filtered by anything else, a payment belongs to a visit of its payer chosen by
  the `attribution` model, and unattributed payments drop out. The payer is a person: every
  visitor identified as the same user (revenue/people.py: same user_id, else same email; a
  visitor's latest identify wins), so the visits of all their devices count; a visitor never
  identified is a person of its own.
  - `first_touch`: the person's first visit;
  - `last_touch`: the visit the payment names, else the person's last visit with a channel
    other than Direct begun by the payment's time, else their last visit begun by then, else
    their first visit.
  (Ties between visits begun in the same microsecond go to the greatest session id.) The
  person map groups the site's rows of the small `identities` table (revenue/people.py).
  `visit:*` dimensions and filters read that visit's values. `event:*` dimensions and filters
  read the visitor's events from the range's start up to the payment's time (the pages seen
  in the period before paying), together with the chosen visit's values; a payment counts
  once in each group one of them reaches. Without a `visit:*` dimension or filter no visit is
  chosen at all: a visitor with such events has visits, so the payment is attributed anyway.
- Per group: `new_minor`, `renewal_minor`, `refund_minor` (minor units), `payment_count`
  (new and renewal payments), `customer_count` (distinct payers of those: the payer's person,
  else the payment's email, else customer id, else visitor, else the payment itself, as the
  customers list counts them) and `payer_count` (distinct visitors with a new payment, the
  numerator of `conversion_rate`, which divides by visitors, so its payers are visitors too).
  Event values (`event:*`) are still the paying visitor's own events.
"""

from __future__ import annotations

from postmetric.revenue.people import person_map
from postmetric.stats.definitions import DIMENSIONS_BY_NAME
from postmetric.stats.fragments import Fragments, micros, time_unit
from postmetric.stats.query import FilterExpression, Query, leaves
from postmetric.stats.registry import TIME_DIMENSIONS, VISIT_DIMENSIONS

_PAID = "kind IN ('new', 'renewal')"
# The columns a payment carries through the plan.
_PAYMENT = ("provider", "transaction_id", "kind", "amount", "visitor_id", "session_id", "email",
            "customer_id", "timestamp")


def revenue_groups(c: Fragments, dims: list[str], raw: tuple[str, ...]) -> str:
    """A SELECT of `dims` and the payments' sums in `raw` (Source.PAYMENTS), one row per group."""
    d, s, q = c.dialect, c.scope, c.query
    site = c.param(s.site_id, "int")
    bucket = f", {d.bucket_start(_unit(c), c.local('timestamp'))} AS bucket" if c.bucketed else ""
    paid = (
        f"SELECT {', '.join(_PAYMENT[:3])}, CASE WHEN reporting_currency = {c.param(s.currency, 'string')}"
        f" THEN coalesce(reporting_amount, 0) ELSE 0 END AS amount, {', '.join(_PAYMENT[4:])}{bucket}"
        f" FROM {d.payments_table} WHERE site_id = {site}"
        f" AND timestamp >= {c.param(micros(s.start), 'timestamp')}"
        f" AND timestamp < {c.param(micros(s.end), 'timestamp')}"
    )
    ctes = [f"paid AS ({paid})"]
    beyond_time = [x for x in q.dimensions if x not in TIME_DIMENSIONS]
    if not beyond_time and not q.filters:
        rows = "SELECT " + ", ".join([f"bucket AS {alias}" for alias in dims] + list(_PAYMENT)) + " FROM paid"
    elif _reads_visits(q):
        ctes += _touch_ctes(c, site)
        rows = _attributed_rows(c, dims, site)
    else:
        rows = _reached_rows(c, dims, site)
    ctes.append(f"paid_rows AS ({rows})")
    aggregates = {
        "new_minor": "sum(CASE WHEN kind = 'new' THEN amount ELSE 0 END)",
        "renewal_minor": "sum(CASE WHEN kind = 'renewal' THEN amount ELSE 0 END)",
        "refund_minor": "sum(CASE WHEN kind = 'refund' THEN amount ELSE 0 END)",
        "payment_count": f"sum(CASE WHEN {_PAID} THEN 1 ELSE 0 END)",
        "customer_count": d.count_distinct(
            f"CASE WHEN {_PAID} THEN coalesce(payer_person, email, customer_id, {d.text('visitor_id')},"
            f" provider || ':' || transaction_id) END"),
        "payer_count": d.count_distinct("CASE WHEN kind = 'new' THEN visitor_id END"),
    }
    columns = dims + [f"{aggregates[column]} AS {column}" for column in raw]
    joined = ",\n".join(ctes)
    source = "paid_rows"
    if "customer_count" in raw:
        # A customer is the payer's person (one user's devices are one customer, as in the
        # customers list); a ClickHouse LEFT JOIN fills a missing person with '', DuckDB's with NULL.
        source = (f"(SELECT r.*, nullif(pm.person, '') AS payer_person FROM paid_rows AS r"
                  f" LEFT JOIN ({person_map(d, site)}) AS pm ON pm.visitor_id = r.visitor_id) AS paid_rows")
    return (f"WITH {joined}\nSELECT {', '.join(columns)} FROM {source}"
            + (f" GROUP BY {', '.join(dims)}" if dims else ""))


def _touch_ctes(c: Fragments, site: str) -> list[str]:
    """`touched`: each payment of a person with visits, and the visit it is attributed to."""
    d = c.dialect
    # Every visitor of a paying person (revenue/people.py), with the person as one of its visitor
    # ids (the least): the identified visitors whose key a paying visitor has, and the paying
    # visitors never identified, each their own. Ids, not keys, so the joins below stay on UUIDs.
    named = person_map(d, site)
    paying_keys = "SELECT person FROM named WHERE visitor_id IN (SELECT visitor_id FROM paid)"
    members = (
        f"SELECT n.visitor_id AS visitor_id, k.first_visitor AS person FROM named AS n"
        f" JOIN (SELECT person AS key_of, min(visitor_id) AS first_visitor FROM named"
        f" WHERE person IN ({paying_keys}) GROUP BY person) AS k ON k.key_of = n.person"
        f" UNION ALL SELECT DISTINCT visitor_id, visitor_id AS person FROM paid"
        f" WHERE visitor_id IS NOT NULL AND visitor_id NOT IN (SELECT visitor_id FROM named)"
    )
    # Their visits, with every column a dimension or filter may read: the sessions table is
    # scanned once.
    visits = (
        f"SELECT v.*, m.person AS person FROM (SELECT * FROM {d.sessions_table}"
        f" WHERE site_id = {site} AND span_events > 0) AS v JOIN members AS m ON m.visitor_id = v.span_visitor"
    )
    owned = "SELECT p.*, m.person AS person FROM paid AS p JOIN members AS m ON m.visitor_id = p.visitor_id"
    started = d.epoch_micros("v.session_started_at")
    columns = ", ".join(f"p.{column} AS {column}" for column in _PAYMENT) + (", p.bucket AS bucket" * c.bucketed)
    if c.query.attribution == "first_touch":
        # One choice per person, whatever the payment.
        touch = (f"SELECT person, {d.arg_max('v.session_id', f'(0 - {started}, v.session_id)')} AS touch_session"
                 f" FROM visits AS v GROUP BY person")
        on = "t.person = p.person"
    else:
        # One choice per (person, linked visit, time) of a payment: what last touch depends on.
        link = f"coalesce({d.text('session_id')}, '')"
        begun = "v.session_started_at <= p.timestamp"
        rank = (f"CASE WHEN {d.text('v.session_id')} = p.link THEN 3"
                f" WHEN {begun} AND v.channel NOT IN ('Direct', '') THEN 2"
                f" WHEN {begun} THEN 1 ELSE 0 END")
        # Among visits begun by the payment: the latest; among later ones (rank 0): the first.
        key = f"({rank}, CASE WHEN {begun} THEN {started} ELSE 0 - {started} END, v.session_id)"
        touch = (
            f"SELECT p.person AS person, p.link AS link, p.timestamp AS timestamp,"
            f" {d.arg_max('v.session_id', key)} AS touch_session"
            f" FROM visits AS v JOIN (SELECT DISTINCT person, {link} AS link, timestamp FROM owned) AS p"
            f" ON v.person = p.person GROUP BY p.person, p.link, p.timestamp"
        )
        on = f"t.person = p.person AND t.timestamp = p.timestamp AND t.link = {link.replace('session_id', 'p.session_id')}"
    touched = f"SELECT {columns}, t.touch_session AS touch_session FROM owned AS p JOIN touch AS t ON {on}"
    return [f"named AS ({named})", f"members AS ({members})", f"visits AS ({visits})", f"owned AS ({owned})",
            f"touch AS ({touch})", f"touched AS ({touched})"]


def _reads_visits(q: Query) -> bool:
    """Whether a grouping needs the visit each payment is attributed to: a `visit:*` dimension or
    filter. Event values and time buckets alone come from the payer's events and the payment."""
    return any(x.startswith("visit:") for x in q.dimensions) or any(
        leaf.dimension.startswith("visit:") for leaf in leaves(q.filters))


def _reached_events(c: Fragments, dims: list[str], site: str, payers: str) -> tuple[str, dict[str, str]]:
    """Each (paying visitor, event values) once, with when the visitor first had them, from the
    range's events (the pages seen in the period before paying); and the event aliases."""
    q = c.query
    since = c.param(micros(c.scope.start), "timestamp")
    event_dims = [(alias, name) for alias, name in zip(dims, q.dimensions) if name.startswith("event:")]
    reached = [f"{c.dimension(name)} AS {alias}" for alias, name in event_dims]
    conditions = ["type <> 'engagement'", f"timestamp >= {since}", f"visitor_id IN (SELECT visitor_id FROM {payers})"]
    conditions += [c.filter(f, {}) for f in q.filters
                   if all(leaf.dimension.startswith("event:") for leaf in leaves([f]))]
    if "event:goal" in q.dimensions:
        conditions.append(c.goal_condition())
    groups = ", ".join(["visitor_id"] + [alias for alias, _ in event_dims])
    events = (f"SELECT {', '.join(['visitor_id'] + reached)}, min(timestamp) AS first_at"
              f" FROM events WHERE site_id = {site} AND {' AND '.join(conditions)} GROUP BY {groups}")
    return events, dict(event_dims)


def _reached_rows(c: Fragments, dims: list[str], site: str) -> str:
    """Without visit values, a payment reaches the event groups its visitor had reached by its
    time: no attribution to a visit is needed (the visitor's events are in their visits)."""
    events, _ = _reached_events(c, dims, site, "paid")
    columns = [f"e.{alias} AS {alias}" if name.startswith("event:") else f"p.bucket AS {alias}"
               for alias, name in zip(dims, c.query.dimensions)]
    payment = [f"p.{column} AS {column}" for column in _PAYMENT]
    return (f"SELECT {', '.join(columns + payment)} FROM ({events}) AS e"
            f" JOIN paid AS p ON e.visitor_id = p.visitor_id WHERE e.first_at <= p.timestamp")


def _attributed_rows(c: Fragments, dims: list[str], site: str) -> str:
    """Each attributed payment once per group it reaches (see the module docstring)."""
    q = c.query
    # Visit values come from the chosen visit, event values from the visitor's events.
    overrides = {name: f"s.{DIMENSIONS_BY_NAME[name].column}" for name in VISIT_DIMENSIONS}
    overrides |= dict.fromkeys(TIME_DIMENSIONS, "p.bucket")
    payment = [f"p.{column} AS {column}" for column in _PAYMENT]
    # The big side of each join comes first (ClickHouse builds its hash table from the right).
    chosen = ("(SELECT * FROM visits WHERE session_id IN (SELECT touch_session FROM touched)) AS s"
              if c.dialect.prefilters_joins else "visits AS s")

    def only(prefix: str, f: FilterExpression) -> bool:
        return all(leaf.dimension.startswith(prefix) for leaf in leaves([f]))

    visit_filters = [f for f in q.filters if not only("event:", f)]
    per_event = any(x.startswith("event:") for x in q.dimensions) or any(
        leaf.dimension.startswith("event:") for leaf in leaves(q.filters))
    if not per_event:  # one row per payment: its visit's values
        columns = [f"{c.dimension(name, overrides)} AS {alias}" for alias, name in zip(dims, q.dimensions)]
        return (f"SELECT {', '.join(columns + payment)} FROM {chosen} JOIN touched AS p ON s.session_id = p.touch_session"
                + "".join(f" {'WHERE' if i == 0 else 'AND'} {c.filter(f, overrides)}" for i, f in enumerate(q.filters)))
    # Events of the range only: the pages seen in the period before paying (and the events
    # table, stored in time order, is read from the range's start on).
    if all(only("visit:", f) for f in visit_filters):
        # Each (visitor, event values) once, with when the visitor first had them: a payment
        # reaches the groups its visitor had reached by its time, with no DISTINCT over pairs.
        events, by_alias = _reached_events(c, dims, site, "touched")
        columns = [f"e.{alias} AS {alias}" if alias in by_alias else f"{c.dimension(name, overrides)} AS {alias}"
                   for alias, name in zip(dims, q.dimensions)]
        conditions = ["e.first_at <= p.timestamp"] + [c.filter(f, overrides) for f in visit_filters]
        return (f"SELECT {', '.join(columns + payment)} FROM ({events}) AS e"
                f" JOIN touched AS p ON e.visitor_id = p.visitor_id JOIN {chosen} ON s.session_id = p.touch_session"
                f" WHERE {' AND '.join(conditions)}")
    # A filter mixing visit and event values tests each (event, chosen visit) pair.
    since = c.param(micros(c.scope.start), "timestamp")
    columns = [f"{c.dimension(name, overrides)} AS {alias}" for alias, name in zip(dims, q.dimensions)]
    conditions = ["e.timestamp <= p.timestamp"] + [c.filter(f, overrides) for f in q.filters]
    if "event:goal" in q.dimensions:
        conditions.append(c.goal_condition())
    return (f"SELECT DISTINCT {', '.join(columns + payment)}"
            f" FROM (SELECT * FROM events WHERE site_id = {site} AND type <> 'engagement' AND timestamp >= {since}) AS e"
            f" JOIN touched AS p ON e.visitor_id = p.visitor_id JOIN {chosen} ON s.session_id = p.touch_session"
            f" WHERE {' AND '.join(conditions)}")


def _unit(c: Fragments) -> str:
    return time_unit(c.query) or "day"
