"""Recording payments: every way a payment arrives (Payments API, provider webhooks) ends here.

`record_payments` validates all of a delivery's payments first (`parse_payment`), so a bad one
records none, links each to a visit (`revenue/linking.py`: the ids it carries, the script's
success-page event, identity, the 30-minute window), then writes them to the event store in one
call, so the link method is stored. A payment already recorded (same site, provider, transaction
id, refund or not) is returned as stored, with `added` False; the delivery is merged into it
first (`ledger.merged_delivery`: a stronger link, missing ids, a larger refund), under the
store's write lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from postmetric.revenue.currency import Rates
from postmetric.revenue.ledger import merged_delivery, parse_payment
from postmetric.revenue.linking import link_payment
from postmetric.store.events import EventStore
from postmetric.store.payments import Payment


@dataclass(frozen=True, slots=True)
class Recorded:
    payment: Payment  # as stored: the earlier delivery's when this one was a duplicate
    added: bool


def record_payments(
    store: EventStore,
    rates: Rates | None,
    *,
    site_id: int,
    site_currency: str,
    raws: Sequence[Mapping],
    provider: str,
    now: datetime,
) -> list[Recorded]:
    """Record the payments `raws` describe (Payments API field names) for one site.

    Raises ValidationError (naming the field) before anything is written if any is invalid.
    Blocking: call it from a worker thread.
    """
    convert = rates.convert if rates else None
    payments = [parse_payment(raw, site_id=site_id, site_currency=site_currency, now=now,
                              provider=provider, convert=convert) for raw in raws]
    payments = [link_payment(store, payment) for payment in payments]
    added = store.record_payments(payments, merge=merged_delivery)
    recorded = []
    for payment, new in zip(payments, added):
        if not new:
            stored = store.payments(site_id, provider=provider, transaction_id=payment.transaction_id)
            payment = next(p for p in stored if p.key == payment.key)
        recorded.append(Recorded(payment, new))
    return recorded
