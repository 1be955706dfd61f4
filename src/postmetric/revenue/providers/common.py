"""What the four provider modules share: the verdicts of a verification, and payload helpers.

A provider module has two functions, called in this order by `web/routes/webhooks.py`:
1. `verify(raw, headers, secret, now)`: checks the signature over the raw body bytes, then the
   delivery's timestamp against `now` (the app's clock, unix seconds, so tests never sleep).
   Raises `Unsigned` or `Forged` (Unauthorized) or `Stale` (Invalid); returns nothing.
2. `parse(event)`: the verified, JSON-decoded event → a `Delivery`: its type and the payments it
   describes as Payments API dicts (see `postmetric.revenue.recorder.record_payments`), or why it
   is ignored. Raises `MalformedPayload` when a handled event lacks what it must have.

Secondary responsibilities:
1. Reading the visit ids from checkout metadata in the one documented order (`visit_ids`); ids
   that are not UUIDs are dropped, never a reason to refuse a delivery.
2. Money: provider minor units → a major-units decimal string (`major`), via the ledger's
   ISO 4217 table, so `parse_payment` turns it back into the same integer.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from postmetric.errors import DomainError, Invalid, Unauthorized
from postmetric.revenue.ledger import MAX_AMOUNT_MINOR, to_major

# How far a signed timestamp may be from this server's clock, either way: Stripe's default, the
# Standard Webhooks window, and generous enough for a self-hosted server's clock drift. Deliveries
# inside it that repeat are still counted once (idempotency on the transaction id).
TOLERANCE_SECONDS = 300

# 9999-12-31T23:59:59Z: the last second `datetime` can hold.
MAX_UNIX_SECONDS = 253_402_300_799
_UNIX_NUMBER = re.compile(r"-?[0-9]+")
_MINOR_DIGITS = re.compile(r"-?[0-9]{1,20}")

# (visitor key, session key), in the order they are looked for (SPEC §6).
METADATA_KEYS = (
    ("postmetric_visitor_id", "postmetric_session_id"),
    ("visitorId", "sessionId"),
    ("datafast_visitor_id", "datafast_session_id"),
)


class Rejected(DomainError):
    """A delivery that is not taken, with a message for the provider's delivery log."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unsigned(Rejected, Unauthorized):
    """No signature header, or one that cannot be read."""


class Forged(Rejected, Unauthorized):
    """A signature that does not match the body with this site's secret."""


class Stale(Rejected, Invalid):
    """A correct signature over a timestamp too far from now: an old delivery replayed."""


class MalformedPayload(Invalid):
    """A signed body that is not the event it says it is (invalid: the provider should not retry it)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a verified event means: payments to record, or why there are none."""

    event_type: str
    payments: list[dict] = field(default_factory=list)
    ignored: str | None = None  # None when handled; else why nothing is recorded


def header_timestamp(value: str, header: str) -> int:
    """A signature header's unix timestamp, bounded before any date arithmetic.

    Not a number (ASCII digits) is `Unsigned`; a number outside 1970 … 9999 is `Stale`, like
    any timestamp far from now, and never reaches an overflow (a 500) or a huge conversion.
    """
    value = value.strip()
    if not _UNIX_NUMBER.fullmatch(value):
        raise Unsigned(f"{header}: timestamp {value[:40]!r} is not a unix timestamp")
    if value.startswith("-") or len(value) > len(str(MAX_UNIX_SECONDS)) or int(value) > MAX_UNIX_SECONDS:
        raise Stale(f"{header}: timestamp {value[:40]!r} is out of range, far from this server's clock")
    return int(value)


def check_timestamp(timestamp: float, now: float, *, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Stale unless `timestamp` is within `tolerance` seconds of `now`."""
    drift = now - timestamp
    if abs(drift) > tolerance:
        direction = "old" if drift > 0 else "in the future"
        raise Stale(f"timestamp: the delivery is {abs(int(drift))} s {direction}, more than {tolerance} s "
                    "from this server's clock (a replayed delivery, or a server clock that is off)")


def visit_ids(*sources: object) -> tuple[str | None, str | None]:
    """(visitor id, session id) from the first metadata mapping and key pair that has them.

    Each source is tried with the keys of `METADATA_KEYS` in order; a value that is not a UUID is
    skipped as if it were absent.
    """
    visitor = session = None
    for visitor_key, session_key in METADATA_KEYS:
        for source in sources:
            if not isinstance(source, Mapping):
                continue
            visitor = visitor or _uuid(source.get(visitor_key))
            session = session or _uuid(source.get(session_key))
        if visitor or session:
            break
    return visitor, session


def _uuid(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


def major(minor: object, currency: str, name: str) -> str:
    """Provider minor units at `name` (an int, or a string of digits as Paddle sends them) → "29.99".

    Bounded (`MAX_AMOUNT_MINOR`) before any conversion: turning "1e300000" into an integer takes
    a CPU-minute, so a string must be plain digits and a number small, or it is malformed.
    """
    if isinstance(minor, bool) or not isinstance(minor, (int, str)):
        raise MalformedPayload(f"{name}: {_short(minor)} is not an amount in minor units")
    if isinstance(minor, str):
        if not _MINOR_DIGITS.fullmatch(minor.strip()):
            raise MalformedPayload(f"{name}: {_short(minor)} is not an amount in minor units (digits only)")
        minor = int(minor.strip())
    if abs(minor) >= MAX_AMOUNT_MINOR:
        raise MalformedPayload(f"{name}: is out of range (at most {MAX_AMOUNT_MINOR - 1} minor units)")
    return str(to_major(minor, currency.upper()))


def iso_from_unix(seconds: object, name: str) -> str | None:
    """A unix timestamp (seconds) at `name` → "2026-03-11T12:00:00Z"; None when absent or not a number.

    A number outside 1970 … 9999 is malformed (`datetime` would overflow); the ledger then
    refuses dates outside its own window with a message of its own.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return None
    if not 0 <= seconds <= MAX_UNIX_SECONDS:  # also False for NaN
        raise MalformedPayload(f"{name}: {_short(seconds)} is not a unix timestamp between 1970 and 9999")
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def as_dict(value: object, name: str) -> dict:
    """`value` if it is a JSON object, else MalformedPayload naming `name`."""
    if not isinstance(value, dict):
        raise MalformedPayload(f"{name}: must be a JSON object")
    return value


def text(value: object) -> str | None:
    """A non-empty string or int as a string; anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def required_text(mapping: Mapping, key: str, name: str) -> str:
    value = text(mapping.get(key))
    if value is None:
        raise MalformedPayload(f"{name}.{key}: is required")
    return value


def required_currency(mapping: Mapping, key: str, name: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or len(value.strip()) != 3:
        raise MalformedPayload(f"{name}.{key}: {value!r} is not a currency code")
    return value.strip().upper()
