"""The payments ledger: one validated `Payment` per charge, renewal, refund or free trial.

`parse_payment` turns a Payments API body (DataFast-compatible names accepted) into a `Payment`
(store/payments.py: the row the event store keeps) once, at the edge; nothing downstream
re-validates.

Secondary responsibilities:
1. Money as integers: a Decimal amount in major units becomes minor units per the currency's
   ISO 4217 exponent (JPY 0, USD 2, KWD 3); more decimals than the currency has is an error,
   never a silent rounding.
2. The link a payment carries itself (`link_method`): ids sent with the payment → `metadata`;
   else `none`, until `revenue/linking.py` finds a better one (LINK_METHODS, strongest first).
   `merged_delivery` decides what a repeated delivery changes in the stored payment.
3. The reporting amount in the site currency: equal to the source amount when the currencies
   match; otherwise converted by `convert` (`Rates.convert`, ECB rates of the payment's day). A
   payment currency without an ECB rate is a `currency` error; without a converter, or when the
   site's own currency has no rate, it is None (unknown), never guessed.

Amounts are never negative: a refund is a row of kind `refund` with the refunded amount, so net
revenue is `sum(amount where kind != 'refund') - sum(amount where kind = 'refund')`, each counted
on its own `timestamp` (the refund on its refund date).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from postmetric.errors import ValidationError
from postmetric.revenue.currency import minor_units
from postmetric.store.payments import ERASED_LINK, Payment
from postmetric.time_window import PAYMENT_AHEAD, window_problem

PROVIDERS = ("api", "stripe", "lemonsqueezy", "polar", "paddle", "script")
KINDS = ("new", "renewal", "refund", "trial")
# How a payment found its visitor, strongest first: ids sent with it, the script's success-page
# event of its checkout, a visitor identified with its email or customer id, the one visit
# active before it (low confidence), nothing.
LINK_METHODS = ("metadata", "checkout", "identity", "session_window", "none")
WEAK_LINKS = ("session_window", "none")  # links a later, stronger one replaces
_CURRENCY = re.compile(r"[A-Z]{3}")
_DECIMAL = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
MAX_AMOUNT_MINOR = 10**15  # far above any real payment, far below Int64
MAX_AMOUNT_MAJOR = 10**12  # MAX_AMOUNT_MINOR in a currency with 3 decimals (KWD)
# An amount's text is bounded before it becomes a number: "1e300000" or 5,000 nines are refused
# as text, never converted (an integer that size costs the event loop a CPU-minute).
MAX_AMOUNT_CHARS = 40
MAX_DECIMALS = 8  # more than any currency's (4); "1e-999999999" is refused before any scaling
MAX_TEXT = 255
Converter = Callable[[Decimal, str, str, date], Decimal]


def payment_json(payment: Payment) -> dict[str, Any]:
    """The API's view of a payment: amounts in major units as decimal strings, and in minor units."""
    return {
        "transaction_id": payment.transaction_id, "provider": payment.provider, "kind": payment.kind,
        "amount": str(to_major(payment.amount, payment.currency)), "currency": payment.currency,
        "amount_minor": payment.amount,
        "reporting_amount": (None if payment.reporting_amount is None
                             else str(to_major(payment.reporting_amount, payment.reporting_currency))),
        "reporting_currency": payment.reporting_currency,
        "timestamp": _iso(payment.timestamp), "customer_id": payment.customer_id, "email": payment.email,
        "visitor_id": payment.visitor_id, "session_id": payment.session_id, "link_method": payment.link_method,
    }


def link_strength(method: str) -> int:
    """Higher is stronger: `none` is 0, `metadata` the strongest."""
    return len(LINK_METHODS) - 1 - LINK_METHODS.index(method)


def merged_delivery(stored: Payment, delivery: Payment) -> Payment:
    """What the ledger keeps when `delivery` repeats `stored` (same `key`).

    The first delivery's amounts and kind stand, except that a refund is cumulative (Stripe's
    `amount_refunded`): a larger refunded amount replaces the stored one. A weak stored link
    (`WEAK_LINKS`) takes the delivery's stronger one, and missing email, customer and checkout
    ids are filled in. Returns `stored` itself when nothing changes.
    """
    if stored.link_method == ERASED_LINK:
        return stored
    changes: dict[str, Any] = {}
    if stored.kind == "refund" and delivery.amount > stored.amount and delivery.currency == stored.currency:
        changes.update(amount=delivery.amount, reporting_amount=delivery.reporting_amount,
                       reporting_currency=delivery.reporting_currency)
    if stored.link_method in WEAK_LINKS and link_strength(delivery.link_method) > link_strength(stored.link_method):
        changes.update(visitor_id=delivery.visitor_id, session_id=delivery.session_id,
                       link_method=delivery.link_method)
    for name in ("email", "customer_id", "checkout_id"):
        if getattr(stored, name) is None and getattr(delivery, name) is not None:
            changes[name] = getattr(delivery, name)
    return replace(stored, **changes) if changes else stored


def exponent(currency: str) -> int:
    """Digits after the decimal point (ISO 4217), from the one table in `revenue/currency.py`."""
    return minor_units(currency)


def to_minor(amount: Decimal, currency: str) -> int:
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValidationError("amount", f"{amount} has more decimals than {currency} has ({exponent(currency)})")
    return int(scaled)


def to_major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-exponent(currency))


def parse_payment(
    raw: object,
    *,
    site_id: int,
    site_currency: str,
    now: datetime,
    provider: str = "api",
    convert: Converter | None = None,
) -> Payment:
    """The payment `raw` describes (a Payments API body); ValidationError naming the first bad field."""
    if not isinstance(raw, Mapping):
        raise ValidationError("body", "must be a JSON object")
    if provider not in PROVIDERS:
        raise ValidationError("provider", f"{provider!r} is not one of {', '.join(PROVIDERS)}")
    transaction_id = _text(raw, "transaction_id", required=True)
    currency = _currency(raw.get("currency"))
    amount = to_minor(_amount(raw.get("amount")), currency)
    refunded = _flag(raw, "refunded")
    renewal = _flag(raw, "renewal")
    kind = "refund" if refunded else "renewal" if renewal else "trial" if amount == 0 else "new"
    timestamp = _timestamp(raw.get("timestamp"), now)
    visitor_id = _uuid(raw, "visitor_id", "datafast_visitor_id")
    session_id = _uuid(raw, "session_id", "datafast_session_id")
    return Payment(
        site_id=site_id, provider=provider, transaction_id=transaction_id, kind=kind,
        amount=amount, currency=currency,
        reporting_amount=_reporting_amount(amount, currency, site_currency, timestamp.date(), convert),
        reporting_currency=site_currency, timestamp=timestamp,
        customer_id=_text(raw, "customer_id"), email=_email(raw.get("email")),
        visitor_id=visitor_id, session_id=session_id,
        link_method="metadata" if visitor_id or session_id else "none",
        created_at=now.astimezone(timezone.utc), checkout_id=_text(raw, "checkout_id"),
    )


def _reporting_amount(amount: int, currency: str, site_currency: str, on: date,
                      convert: Converter | None) -> int | None:
    if currency == site_currency:
        return amount
    if convert is None:
        return None
    try:
        converted = convert(to_major(amount, currency), currency, site_currency, on)
    except ValidationError as error:
        if error.field == "from_currency":  # the caller can act on this one
            raise ValidationError("currency", error.message) from None
        return None  # the site's currency has no rate: unknown, never guessed
    return int(converted.scaleb(exponent(site_currency)).to_integral_value())


def _text(raw: Mapping, field: str, *, required: bool = False) -> str | None:
    value = raw.get(field)
    if value is None or value == "":
        if required:
            raise ValidationError(field, "is required")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    value = value.strip()
    if not value and required:
        raise ValidationError(field, "is required")
    if len(value) > MAX_TEXT:
        raise ValidationError(field, f"is longer than {MAX_TEXT} characters")
    return value or None


def _currency(value: object) -> str:
    if value is None or value == "":
        raise ValidationError("currency", "is required: a 3-letter ISO 4217 code like USD or EUR")
    code = value.strip().upper() if isinstance(value, str) else None
    if code is None or not _CURRENCY.fullmatch(code):
        raise ValidationError("currency", f"{value!r} is not a 3-letter ISO 4217 code like USD or EUR")
    return code


def _amount(value: object) -> Decimal:
    """The amount in major units, bounded before any arithmetic (see `MAX_AMOUNT_CHARS`)."""
    if value is None or value == "":
        raise ValidationError("amount", "is required: the amount in major units, e.g. 29.99")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValidationError("amount", "must be a number or a decimal string, e.g. 29.99")
    if isinstance(value, int) and abs(value) >= MAX_AMOUNT_MAJOR:  # before str(): no huge conversions
        raise ValidationError("amount", f"is too large: at most {MAX_AMOUNT_MAJOR - 1} in major units")
    # A float goes through its shortest repr: 29.99 is "29.99", not 29.989999…
    text = repr(value) if isinstance(value, float) else str(value).strip()
    if len(text) > MAX_AMOUNT_CHARS:
        raise ValidationError("amount", f"is longer than {MAX_AMOUNT_CHARS} characters; send the amount in "
                                        "major units, e.g. 29.99")
    if not _DECIMAL.fullmatch(text):  # ASCII digits only: no NaN, Infinity, "1_000" or other scripts' digits
        raise ValidationError("amount", f"{value!r} is not a number")
    amount = Decimal(text)
    if amount < 0:
        raise ValidationError("amount", "must not be negative; send a refund with \"refunded\": true")
    # Comparisons only (no arithmetic) until the exponent is sane: "1e999999999" must not reach scaleb.
    if amount >= MAX_AMOUNT_MAJOR:
        raise ValidationError("amount", f"is too large: at most {MAX_AMOUNT_MAJOR - 1} in major units")
    if amount and amount.adjusted() < -MAX_DECIMALS:
        raise ValidationError("amount", f"{value!r} has more decimals than any currency has")
    return amount


def _flag(raw: Mapping, field: str) -> bool:
    value = raw.get(field, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValidationError(field, "must be true or false")
    return value


def _timestamp(value: object, now: datetime) -> datetime:
    """When the payment happened: absent is `now`; else inside the window of `time_window`."""
    if value is None or value == "":
        return now.astimezone(timezone.utc)
    if not isinstance(value, str):
        raise ValidationError("timestamp", "must be an ISO 8601 date and time, e.g. 2026-03-11T12:00:00Z")
    if len(value) > 64:
        raise ValidationError("timestamp", f"{value[:64]!r}… is not an ISO 8601 date and time")
    try:
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moment = moment.astimezone(timezone.utc)
    except ValueError:
        raise ValidationError("timestamp", f"{value[:64]!r} is not an ISO 8601 date and time") from None
    except OverflowError:  # year 1 or 9999 with an offset: outside what a datetime holds in UTC
        raise ValidationError("timestamp", f"{value[:64]!r} is out of range") from None
    problem = window_problem(moment, now=now, ahead=PAYMENT_AHEAD)
    if problem is not None:
        raise ValidationError("timestamp", problem)
    return moment


def _uuid(raw: Mapping, field: str, alias: str) -> str | None:
    name = field if raw.get(field) not in (None, "") else alias
    value = raw.get(name)
    if value is None or value == "":
        return None
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else _not_uuid(name, value)
    except ValueError:
        return _not_uuid(name, value)


def _not_uuid(field: str, value: object):
    raise ValidationError(field, f"{value!r} is not a visitor or session id (a UUID)")


def _email(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or "@" not in value or len(value) > MAX_TEXT:
        raise ValidationError("email", f"{value!r} is not an email address")
    return value.strip().lower()


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
