"""The payments ledger's rows: one `Payment` per charge, renewal, refund or free trial, kept by the
event store beside the events. What the values mean, and how a payment is validated, linked and
merged, is revenue/ledger.py's and revenue/linking.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

# (name, logical type): the columns every store keeps, in this order. `?` marks a nullable column.
PAYMENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("site_id", "uint32"),
    ("provider", "string"),
    ("transaction_id", "string"),
    ("kind", "string"),
    ("amount", "int64"),  # source amount, minor units, never negative
    ("currency", "string"),
    ("reporting_amount", "int64?"),  # minor units of reporting_currency; None until it can be converted
    ("reporting_currency", "string"),  # the site's currency when the payment was recorded
    ("timestamp", "timestamp"),  # when the payment (or refund) happened
    ("customer_id", "string?"),
    ("email", "string?"),
    ("visitor_id", "uuid?"),
    ("session_id", "uuid?"),
    ("link_method", "string"),
    ("created_at", "timestamp"),  # when it was recorded here
    # Added after the first release (event-store migration 3).
    ("checkout_id", "string?"),  # the provider's checkout (session) id, as the success page's URL has it
)
PAYMENT_COLUMN_NAMES = tuple(name for name, _ in PAYMENT_COLUMNS)
# What identifies a stored payment: a refund of a transaction is its own row.
PAYMENT_KEY_COLUMNS = ("site_id", "provider", "transaction_id", "kind")

# An erased person's payment (privacy/erasure.py): its personal columns are NULL and stay so, whatever
# a later delivery or load brings; the transaction id stays, as the key repeated deliveries are merged on.
ERASED_LINK = "erased"
ERASED_COLUMNS = ("customer_id", "email", "visitor_id", "session_id", "checkout_id")


@dataclass(frozen=True, slots=True)
class Payment:
    site_id: int
    provider: str
    transaction_id: str
    kind: str
    amount: int
    currency: str
    reporting_amount: int | None
    reporting_currency: str
    timestamp: datetime  # aware, UTC
    customer_id: str | None
    email: str | None
    visitor_id: str | None
    session_id: str | None
    link_method: str
    created_at: datetime  # aware, UTC
    checkout_id: str | None = None

    @property
    def key(self) -> tuple[int, str, str, bool]:
        """What makes a delivery the same payment: a refund of a transaction is its own entry."""
        return (self.site_id, self.provider, self.transaction_id, self.kind == "refund")

    def row(self) -> tuple:
        return tuple(getattr(self, name) for name in PAYMENT_COLUMN_NAMES)


def payment_from_row(row: Mapping[str, Any]) -> Payment:
    """A `Payment` from a store row (column name → value); UUIDs may come back as UUID objects."""
    values = dict(row)
    for name in ("visitor_id", "session_id"):
        if values[name] is not None:
            values[name] = str(values[name])
    for name in ("timestamp", "created_at"):
        moment = values[name]
        values[name] = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return Payment(**{name: values[name] for name in PAYMENT_COLUMN_NAMES})
