"""Linking a payment to the visitor (and visit) that produced it, when it is recorded (SPEC §6).

`link_payment(store, payment)` tries, in order, and stops at the first that finds a visitor:

1. `metadata`: the visitor or session id the payment carries (set by `parse_payment`).
   A refund without ids first takes its recorded charge's link, email, customer and checkout
   ids (refund webhooks rarely repeat them), so it reduces the revenue of the same visitor.
2. `checkout`: the script's `payment` event (success-page detection) on the site whose
   `props.checkout_id` is the payment's checkout id; its visitor and visit.
3. `identity`: a visitor identified with the payment's email (case-insensitive; `identify`
   events and `payment` events with an email) or whose `identify` had `user_id`/`customer_id`
   equal to the payment's customer id; the most recently identified one wins. Visitor only:
   the identifying visit is not the paying one.
4. `session_window`: the one visit active on the site in the SESSION_WINDOW before the payment
   (its last event at or after t − 30 min, its first at or before t). Two or more is ambiguous:
   no link. Low confidence, so a later, stronger link replaces it.
5. `none`: still counted in totals.

Secondary responsibility: the other direction. When a store loads identify or payment events,
`links_from_events` says which of the site's `none`/`session_window` payments they link
(`checkout` or `identity`, the same rules); the store writes those in the same load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from postmetric.revenue.ledger import ERASED_COLUMNS, ERASED_LINK, WEAK_LINKS, Payment, link_strength
from postmetric.stats.dialects import DIALECTS
from postmetric.store.events import EventStore

SESSION_WINDOW = timedelta(minutes=30)


def link_payment(store: EventStore, payment: Payment) -> Payment:
    """`payment` with the strongest link the store's events give it (blocking)."""
    if payment.link_method != "none":
        return payment
    if payment.kind == "refund":
        payment = _with_charge(store, payment)
        if payment.link_method != "none":
            return payment
    if payment.checkout_id:
        found = checkout_visit(store, payment.site_id, payment.checkout_id)
        if found is not None:
            return replace(payment, visitor_id=found[0], session_id=found[1], link_method="checkout")
    if payment.email or payment.customer_id:
        visitor = identified_visitor(store, payment.site_id, email=payment.email, customer_id=payment.customer_id)
        if visitor is not None:
            return replace(payment, visitor_id=visitor, session_id=None, link_method="identity")
    visits = visits_active(store, payment.site_id, start=payment.timestamp - SESSION_WINDOW,
                           end=payment.timestamp, limit=2)
    if len(visits) == 1:
        [(visitor, session)] = visits
        return replace(payment, visitor_id=visitor, session_id=session, link_method="session_window")
    return payment


# -- the lookups: one query each, spelled by the store's SQL dialect ------------------------


def checkout_visit(store: EventStore, site_id: int, checkout_id: str) -> tuple[str, str] | None:
    """(visitor id, session id) of the site's latest `payment` event whose props.checkout_id
    is `checkout_id`, or None."""
    d = DIALECTS[store.dialect]
    rows = store.fetch(
        f"SELECT {d.text('visitor_id')} AS visitor_id, {d.text('session_id')} AS session_id FROM events"
        f" WHERE site_id = {d.param('site', 'int')} AND type = 'payment'"
        f" AND {d.prop(d.param('key', 'string'))} = {d.param('checkout', 'string')}"
        " ORDER BY timestamp DESC LIMIT 1",
        {"site": site_id, "key": "checkout_id", "checkout": checkout_id},
    )
    return (rows[0]["visitor_id"], rows[0]["session_id"]) if rows else None


def identified_visitor(store: EventStore, site_id: int, *, email: str | None, customer_id: str | None) -> str | None:
    """The visitor most recently identified on the site with `email` (case-insensitive;
    identify events, or payment events with an email) or, by an identify event, with
    user_id or customer_id `customer_id`; None if there is none."""
    d = DIALECTS[store.dialect]
    matches, params = [], {"site": site_id}
    if email is not None:
        matches.append(f"(type IN ('identify', 'payment') AND lower(trim({d.prop(d.param('email_key', 'string'))}))"
                       f" = lower({d.param('email', 'string')}))")
        params |= {"email_key": "email", "email": email}
    if customer_id is not None:
        matches.append(f"(type = 'identify' AND ({d.prop(d.param('user_key', 'string'))} = {d.param('customer', 'string')}"
                       f" OR {d.prop(d.param('customer_key', 'string'))} = {d.param('customer', 'string')}))")
        params |= {"user_key": "user_id", "customer_key": "customer_id", "customer": customer_id}
    if not matches:
        return None
    rows = store.fetch(
        f"SELECT {d.text('visitor_id')} AS visitor_id FROM events WHERE site_id = {d.param('site', 'int')}"
        f" AND ({' OR '.join(matches)}) ORDER BY timestamp DESC LIMIT 1",
        params,
    )
    return rows[0]["visitor_id"] if rows else None


def visits_active(store: EventStore, site_id: int, *, start: datetime, end: datetime,
                  limit: int) -> list[tuple[str, str]]:
    """(visitor id, session id) of at most `limit` visits on the site with an event at or
    after `start` that began (first event) at or before `end`."""
    d = DIALECTS[store.dialect]
    end_at, start_at = d.param("end", "timestamp"), d.param("start", "timestamp")
    rows = store.fetch(
        f"SELECT {d.text('span_visitor')} AS visitor_id, {d.text('session_id')} AS session_id"
        f" FROM {d.sessions_table} WHERE site_id = {d.param('site', 'int')}"
        f" AND session_started_at <= {end_at} AND first_at <= {end_at} AND last_at >= {start_at}"
        f" ORDER BY session_id LIMIT {d.param('limit', 'int')}",
        {"site": site_id, "start": _micros(start), "end": _micros(end), "limit": limit},
    )
    return [(row["visitor_id"], row["session_id"]) for row in rows]


def _micros(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


def _with_charge(store: EventStore, refund: Payment) -> Payment:
    """The refund with its recorded charge's link and the ids it lacks."""
    charges = [p for p in store.payments(refund.site_id, provider=refund.provider,
                                         transaction_id=refund.transaction_id) if p.kind != "refund"]
    if not charges:
        return refund
    [charge] = charges
    if charge.link_method == ERASED_LINK:  # the payer was erased: so is what the refund says of them
        return replace(refund, link_method=ERASED_LINK, **dict.fromkeys(ERASED_COLUMNS))
    filled = {name: getattr(charge, name) for name in ("email", "customer_id", "checkout_id")
              if getattr(refund, name) is None}
    return replace(refund, visitor_id=charge.visitor_id, session_id=charge.session_id,
                   link_method=charge.link_method, **filled)


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """An identify or payment event of a load, as `links_from_events` reads it."""

    site_id: int
    visitor_id: str
    session_id: str
    timestamp: datetime
    type: str  # "identify" | "payment"
    props: Mapping[str, Any]


LINKING_EVENT_TYPES = ("identify", "payment")


def link_event(site_id: int, visitor_id: object, session_id: object, timestamp: datetime, type: str,
               props: str) -> LinkEvent:
    """A `LinkEvent` from a store row (ids may be UUID objects, props JSON text)."""
    try:
        parsed = orjson.loads(props or "{}")
    except orjson.JSONDecodeError:
        parsed = {}
    return LinkEvent(site_id, str(visitor_id), str(session_id), timestamp, type,
                     parsed if isinstance(parsed, dict) else {})


def links_from_events(payments: Iterable[Payment], events: Sequence[LinkEvent]) -> list[Payment]:
    """The payments among `payments` that `events` (arriving after them) link better: a weak link
    (`WEAK_LINKS`) becomes `checkout` (the event's visitor and visit) when a payment event has the
    payment's checkout id, else `identity` (the event's visitor) when an identify or payment event
    has its email, or an identify its customer id as user_id or customer_id. The latest such event
    wins. Only the payments that change are returned, changed."""
    changed = []
    for payment in payments:
        if payment.link_method not in WEAK_LINKS:
            continue
        best: tuple[int, datetime, LinkEvent] | None = None
        for event in events:
            method = _event_link(payment, event)
            if method is None:
                continue
            rank = (link_strength(method), event.timestamp)
            if best is None or rank > best[:2]:
                best = (*rank, event)
        if best is None:
            continue
        strength, _, event = best
        method = "checkout" if strength == link_strength("checkout") else "identity"
        changed.append(replace(payment, visitor_id=event.visitor_id, link_method=method,
                               session_id=event.session_id if method == "checkout" else None))
    return changed


def _event_link(payment: Payment, event: LinkEvent) -> str | None:
    if event.site_id != payment.site_id:
        return None
    props = event.props
    if event.type == "payment" and payment.checkout_id and props.get("checkout_id") == payment.checkout_id:
        return "checkout"
    email = props.get("email")
    if payment.email and isinstance(email, str) and email.strip().lower() == payment.email:
        return "identity"
    if (event.type == "identify" and payment.customer_id
            and payment.customer_id in (props.get("user_id"), props.get("customer_id"))):
        return "identity"
    return None
