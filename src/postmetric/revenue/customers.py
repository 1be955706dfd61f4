"""The customers list (`GET /api/v1/customers`): who paid in a date range, and how much.

`customers(store, site_id=, currency=, start=, end=, limit=, offset=)` groups the site's payments
with a timestamp in [start, end) by customer, their email, else their customer id, else their
linked visitor, so a person who paid from several devices with one email is one customer.

Per customer: net revenue (new, renewal and trial amounts minus refunds, each on its own date,
in the site currency's major units), the count of new and renewal payments, the refunded amount,
the first and last payment (refunds excluded), and the source and channel of the first visit of
their linked visitor (null when unlinked). Ordered by revenue, highest first, then customer.

Secondary responsibilities:
1. Speak both SQL dialects: the few functions that differ are spelled in `_SPELLINGS`; the rest
   is SQL both speak, with parameters written by `stats/dialects.py`.
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
from postmetric.stats.dialects import DIALECTS
from postmetric.store.events import EventStore

MAX_LIMIT = 1000

# name → (DuckDB, ClickHouse) templates; `{0}`, `{1}`… are the arguments.
_SPELLINGS = {
    "text": ("CAST({0} AS VARCHAR)", "toString({0})"),
    "first_known": ("arg_min({0}, {1}) FILTER (WHERE {0} IS NOT NULL)", "argMinIf({0}, {1}, {0} IS NOT NULL)"),
    "first_by": ("arg_min({0}, {1})", "argMin({0}, {1})"),
    "min_where": ("min({0}) FILTER (WHERE {1})", "minIf(toNullable({0}), {1})"),
    "max_where": ("max({0}) FILTER (WHERE {1})", "maxIf(toNullable({0}), {1})"),
    "payments": ("payments", "payments FINAL"),
    "sessions": ("sessions", "sessions FINAL"),
}


def _spell(dialect: str, name: str, *args: str) -> str:
    return _SPELLINGS[name][dialect == "clickhouse"].format(*args)


def customers(store: EventStore, *, site_id: int, currency: str, start: datetime, end: datetime,
              limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """`{"results": [...], "meta": {"currency", "total_rows"}}` for payments in [start, end) (blocking)."""
    d = DIALECTS[store.dialect]

    def s(name: str, *args: str) -> str:
        return _spell(store.dialect, name, *args)

    params = {"site": d.param_value(site_id, "int"), "currency": d.param_value(currency, "string"),
              "start": _micros(start), "end": _micros(end)}
    counted = f"reporting_currency = {d.param('currency', 'string')} AND reporting_amount IS NOT NULL"
    paid = f"CASE WHEN kind <> 'refund' AND {counted} THEN reporting_amount ELSE 0 END"
    refunded = f"CASE WHEN kind = 'refund' AND {counted} THEN reporting_amount ELSE 0 END"
    grouped = f"""
        SELECT customer, max(email) AS any_email, max(customer_id) AS any_customer_id,
               {s('text', s('first_known', 'visitor_id', 'timestamp'))} AS first_visitor,
               sum({paid}) - sum({refunded}) AS revenue, sum({refunded}) AS refunds,
               sum(CASE WHEN kind IN ('new', 'renewal') THEN 1 ELSE 0 END) AS paid_count,
               {s('min_where', 'timestamp', "kind <> 'refund'")} AS first_paid,
               {s('max_where', 'timestamp', "kind <> 'refund'")} AS last_paid
        FROM (
            SELECT *, coalesce(email, customer_id, {s('text', 'visitor_id')}) AS customer
            FROM {s('payments')}
            WHERE site_id = {d.param('site', 'int')} AND timestamp >= {d.param('start', 'timestamp')}
              AND timestamp < {d.param('end', 'timestamp')}
        ) AS p
        WHERE customer IS NOT NULL
        GROUP BY customer"""
    rows = store.fetch(f"{grouped} ORDER BY revenue DESC, customer LIMIT {int(limit)} OFFSET {int(offset)}", params)
    total = store.fetch(f"SELECT count(*) AS n FROM ({grouped}) AS g", params)[0]["n"]
    first_visits = _first_visits(store, site_id, [row["first_visitor"] for row in rows if row["first_visitor"]])
    results = []
    for row in rows:
        visit = first_visits.get(row["first_visitor"], {})
        results.append({
            "customer": row["customer"], "email": row["any_email"], "customer_id": row["any_customer_id"],
            "visitor_id": row["first_visitor"],
            "first_source": visit.get("source"), "first_channel": visit.get("channel"),
            "revenue": _major(row["revenue"], currency), "payments": int(row["paid_count"]),
            "refunds": _major(row["refunds"], currency),
            "first_payment_at": _iso(row["first_paid"]), "last_payment_at": _iso(row["last_paid"]),
        })
    return {"results": results, "meta": {"currency": currency, "total_rows": int(total)}}


def _first_visits(store: EventStore, site_id: int, visitors: list[str]) -> dict[str, dict[str, str]]:
    """Source and channel of each visitor's first visit on the site."""
    if not visitors:
        return {}
    d = DIALECTS[store.dialect]

    def s(name: str, *args: str) -> str:
        return _spell(store.dialect, name, *args)

    visitor = s("text", "span_visitor")
    rows = store.fetch(
        f"SELECT {visitor} AS visitor, {s('first_by', 'source', 'session_started_at')} AS first_source,"
        f" {s('first_by', 'channel', 'session_started_at')} AS first_channel"
        f" FROM {s('sessions')} WHERE site_id = {d.param('site', 'int')}"
        f" AND {d.is_in(visitor, d.param('visitors', 'strings'))} GROUP BY span_visitor",
        {"site": d.param_value(site_id, "int"), "visitors": d.param_value(visitors, "strings")},
    )
    return {row["visitor"]: {"source": row["first_source"], "channel": row["first_channel"]} for row in rows}


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
