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

Secondary responsibility: the other direction. `load_events` loads rows into the store, then
`relink_payments` gives the site's `none`/`session_window` payments the links the load's identify
and payment events make (`links_from_events`: `checkout` or `identity`, the same rules). A relink
only strengthens weak links, so running it again over the same events changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson

from postmetric.revenue.ledger import WEAK_LINKS, link_strength
from postmetric.store.events import EventStore, PropMatch
from postmetric.store.journal import Position
from postmetric.store.payments import ERASED_COLUMNS, ERASED_LINK, Payment

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


# -- the lookups: one store read each -----------------------------------------------------


def checkout_visit(store: EventStore, site_id: int, checkout_id: str) -> tuple[str, str] | None:
    """(visitor id, session id) of the site's latest `payment` event whose props.checkout_id
    is `checkout_id`, or None."""
    return store.latest_event_visit(site_id, [PropMatch(("payment",), "checkout_id", checkout_id)])


def identified_visitor(store: EventStore, site_id: int, *, email: str | None, customer_id: str | None) -> str | None:
    """The visitor most recently identified on the site with `email` (case-insensitive;
    identify events, or payment events with an email) or, by an identify event, with
    user_id or customer_id `customer_id`; None if there is none."""
    matches = []
    if email is not None:
        matches.append(PropMatch(("identify", "payment"), "email", email, fold_case=True))
    if customer_id is not None:
        matches += [PropMatch(("identify",), "user_id", customer_id),
                    PropMatch(("identify",), "customer_id", customer_id)]
    if not matches:
        return None
    found = store.latest_event_visit(site_id, matches)
    return found[0] if found else None


def visits_active(store: EventStore, site_id: int, *, start: datetime, end: datetime,
                  limit: int) -> list[tuple[str, str]]:
    """(visitor id, session id) of at most `limit` visits on the site with an event at or
    after `start` that began (first event) at or before `end`."""
    return store.visits_active(site_id, start=start, end=end, limit=limit)


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


def load_events(store: EventStore, rows_csv: bytes, *, journal_position: Position | None = None) -> None:
    """Load rows (`encode_rows`) into the store, then relink the payments their identify and
    payment events link. Every load of events in the product goes through here."""
    loaded = store.load(rows_csv, journal_position=journal_position, returning_types=LINKING_EVENT_TYPES)
    relink_payments(store, [link_event(**row) for row in loaded])


def relink_payments(store: EventStore, events: Sequence[LinkEvent]) -> int:
    """Give the weakly linked payments of the events' sites the links `events` make; how many changed."""
    if not events:
        return 0
    return store.revise_payments(sorted({event.site_id for event in events}), WEAK_LINKS,
                                 lambda weak: links_from_events(weak, events))


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
