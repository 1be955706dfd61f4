"""The customers list (`GET /api/v1/customers`): who paid in a date range, and how much.

`customers(store, site_id=, currency=, start=, end=, limit=, offset=)` groups the site's payments
with a timestamp in [start, end) by customer, so a person who paid from several devices is one
customer. A payment's customer, by the first of these it has:

1. the person its linked visitor is identified as (revenue/people.py: the user id of the
   visitor's latest identify, else its email), so a phone's payment and a laptop's renewal
   of one signed-in user are one row, whatever emails the payments carry;
2. its email (`email:`), else its customer id (`customer:`), else its linked visitor
   (`visitor:`), as before people: a payment whose visitor was never identified.

Per customer: `customer` (a name to show: an email of theirs, else their customer id, else
their user id, else their visitor id), `person` (the person key, `user:<id>` or
`email:<email>`, null when no payment is tied to an identified visitor), net revenue (new,
renewal and trial amounts minus refunds, each on its own date, in the site currency's major
units), the count of new and renewal payments, the refunded amount, the first and last payment
(refunds excluded), `visitor_id` (the visitor of their first linked payment), and the source
and channel of their first visit: the person's first visit on any of their devices (a
visitor's own first visit when not identified; null when unlinked). Ordered by revenue,
highest first, then by customer key.

Secondary responsibilities:
1. Speak both SQL dialects: the few functions that differ are spelled by `store/dialects.py`;
   the rest is SQL both speak.
2. Count only what is known: a reporting amount that could not be converted (NULL), or one in
   a currency the site no longer reports in, is left out of the sums, never guessed.

Payments with no email, customer id or visitor are nobody's: they count in the site's revenue
but have no row here.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from postmetric.revenue.ledger import to_major
from postmetric.revenue.people import person_map
from postmetric.store.dialects import DIALECTS
from postmetric.store.events import EventStore

MAX_LIMIT = 1000


def customers(store: EventStore, *, site_id: int, currency: str, start: datetime, end: datetime,
              limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """`{"results": [...], "meta": {"currency", "total_rows"}}` for payments in [start, end) (blocking)."""
    d = DIALECTS[store.dialect]
    params = {"site": d.param_value(site_id, "int"), "currency": d.param_value(currency, "string"),
              "start": _micros(start), "end": _micros(end)}
    counted = f"reporting_currency = {d.param('currency', 'string')} AND reporting_amount IS NOT NULL"
    paid = f"CASE WHEN kind <> 'refund' AND {counted} THEN reporting_amount ELSE 0 END"
    refunded = f"CASE WHEN kind = 'refund' AND {counted} THEN reporting_amount ELSE 0 END"
    site = d.param('site', 'int')
    # A ClickHouse LEFT JOIN fills a missing person with '', DuckDB's with NULL: nullif reads both.
    person = "nullif(i.person, '')"
    grouped = f"""
        SELECT customer, max(identified) AS person, max(email) AS any_email, max(customer_id) AS any_customer_id,
               {d.text(d.arg_min_known('visitor_id', 'timestamp'))} AS first_visitor,
               sum({paid}) - sum({refunded}) AS revenue, sum({refunded}) AS refunds,
               sum(CASE WHEN kind IN ('new', 'renewal') THEN 1 ELSE 0 END) AS paid_count,
               {d.min_where('timestamp', "kind <> 'refund'")} AS first_paid,
               {d.max_where('timestamp', "kind <> 'refund'")} AS last_paid
        FROM (
            SELECT p.*, {person} AS identified,
                   coalesce({person}, 'email:' || p.email, 'customer:' || p.customer_id,
                            'visitor:' || {d.text('p.visitor_id')}) AS customer
            FROM (SELECT * FROM {d.payments_table} WHERE site_id = {site}
                  AND timestamp >= {d.param('start', 'timestamp')} AND timestamp < {d.param('end', 'timestamp')}) AS p
            LEFT JOIN ({person_map(d, site)}) AS i ON i.visitor_id = p.visitor_id
        ) AS p
        WHERE customer IS NOT NULL
        GROUP BY customer"""
    rows = store.fetch(f"{grouped} ORDER BY revenue DESC, customer LIMIT {int(limit)} OFFSET {int(offset)}", params)
    total = store.fetch(f"SELECT count(*) AS n FROM ({grouped}) AS g", params)[0]["n"]
    owners = {row["customer"]: _owner(row) for row in rows}
    first_visits = _first_visits(store, site_id, [owner for owner in owners.values() if owner])
    results = []
    for row in rows:
        visit = first_visits.get(owners[row["customer"]], {})
        results.append({
            "customer": row["any_email"] or row["any_customer_id"] or row["customer"].partition(":")[2],
            "person": row["person"], "email": row["any_email"], "customer_id": row["any_customer_id"],
            "visitor_id": row["first_visitor"],
            "first_source": visit.get("source"), "first_channel": visit.get("channel"),
            "revenue": _major(row["revenue"], currency), "payments": int(row["paid_count"]),
            "refunds": _major(row["refunds"], currency),
            "first_payment_at": _iso(row["first_paid"]), "last_payment_at": _iso(row["last_paid"]),
        })
    return {"results": results, "meta": {"currency": currency, "total_rows": int(total)}}


def _owner(row: dict[str, Any]) -> str | None:
    """Whose first visit is the customer's: their person's, else their first linked visitor's."""
    if row["person"]:
        return row["person"]
    return f"visitor:{row['first_visitor']}" if row["first_visitor"] else None


def _first_visits(store: EventStore, site_id: int, owners: list[str]) -> dict[str, dict[str, str]]:
    """Source and channel of the first visit on the site of each owner: a person (any of their
    visitors) or a `visitor:<id>`."""
    if not owners:
        return {}
    d = DIALECTS[store.dialect]
    site, wanted = d.param("site", "int"), d.param("owners", "strings")
    people = person_map(d, site)
    unidentified = "'visitor:' || " + d.text("span_visitor")
    # The owners' visitors first (a few), then each visit's owner.
    visits = (f"SELECT span_visitor, source, channel, session_started_at FROM {d.sessions_table} WHERE site_id = {site}"
              f" AND ({d.is_in(unidentified, wanted)}"
              f" OR span_visitor IN (SELECT visitor_id FROM ({people}) AS m WHERE {d.is_in('person', wanted)}))")
    owner = f"coalesce(nullif(i.person, ''), 'visitor:' || {d.text('v.span_visitor')})"
    rows = store.fetch(
        f"SELECT owner, {d.arg_min('source', 'session_started_at')} AS first_source,"
        f" {d.arg_min('channel', 'session_started_at')} AS first_channel"
        f" FROM (SELECT v.source AS source, v.channel AS channel, v.session_started_at AS session_started_at,"
        f" {owner} AS owner FROM ({visits}) AS v LEFT JOIN ({people}) AS i ON i.visitor_id = v.span_visitor) AS o"
        f" WHERE {d.is_in('owner', wanted)} GROUP BY owner",
        {"site": d.param_value(site_id, "int"), "owners": d.param_value(owners, "strings")},
    )
    return {row["owner"]: {"source": row["first_source"], "channel": row["first_channel"]} for row in rows}


def _micros(moment: datetime) -> int:
    return round(moment.astimezone(timezone.utc).timestamp() * 1_000_000)


def _major(minor: Any, currency: str) -> int | float:
    """Minor units as a JSON number of major units: 4900 USD → 49, 2999 → 29.99."""
    amount: Decimal = to_major(int(minor or 0), currency)
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
