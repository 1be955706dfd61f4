"""parse_payment: a Payments API body becomes one validated Payment, or a ValidationError naming the field."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from postmetric.errors import ValidationError
from postmetric.revenue.ledger import parse_payment, to_major

NOW = datetime(2026, 3, 11, 12, 0, tzinfo=timezone.utc)
VISITOR = "8c1c4e5e-6f2b-4b7e-9a53-2d0c6a3a9f10"
SESSION = "0b7e4c3e-2f4d-4c53-8a6a-9f0e1d2c3b4a"


def parse(site_currency="USD", convert=None, **fields):
    body = {"transaction_id": "pi_1", "amount": "29.99", "currency": "USD"} | fields
    return parse_payment(body, site_id=7, site_currency=site_currency, now=NOW, convert=convert)


@pytest.mark.parametrize("amount, currency, minor", [
    ("29.99", "USD", 2999), (29.99, "usd", 2999), (30, "EUR", 3000), ("0.1", "EUR", 10),
    (1500, "JPY", 1500), ("1.234", "KWD", 1234), ("0", "USD", 0),
])
def test_amounts_become_minor_units_of_their_currency(amount, currency, minor):
    payment = parse(amount=amount, currency=currency, site_currency=currency.upper())
    assert (payment.amount, payment.currency, payment.reporting_amount) == (minor, currency.upper(), minor)
    assert to_major(payment.amount, payment.currency) == Decimal(str(amount))


@pytest.mark.parametrize("fields, kind", [
    ({}, "new"), ({"renewal": True}, "renewal"), ({"refunded": True}, "refund"),
    ({"refunded": True, "renewal": True}, "refund"), ({"amount": 0}, "trial"), ({"renewal": False}, "new"),
])
def test_the_kind_comes_from_the_flags_and_a_zero_amount_is_a_trial(fields, kind):
    assert parse(**fields).kind == kind


def test_ids_sent_with_the_payment_link_it_by_metadata():
    linked = parse(visitor_id=VISITOR.upper(), session_id=SESSION)
    assert (linked.visitor_id, linked.session_id, linked.link_method) == (VISITOR, SESSION, "metadata")
    assert parse(datafast_visitor_id=VISITOR).visitor_id == VISITOR
    assert parse(datafast_session_id=SESSION).link_method == "metadata"


def test_without_ids_the_payment_is_unattributed_for_now():
    # Identity (email, customer id) and the 30-minute session window are the next step.
    assert parse(email="ada@example.com", customer_id="cus_1").link_method == "none"


def test_the_timestamp_defaults_to_the_clock_and_is_kept_in_utc():
    assert parse().timestamp == NOW
    assert parse(timestamp="2026-03-01T10:00:00+01:00").timestamp == datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    assert parse(timestamp="2026-03-01T10:00:00").timestamp == datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
    assert parse(timestamp="2026-03-01T10:00:00Z").created_at == NOW


def test_another_currency_is_converted_when_a_converter_is_given_and_unknown_otherwise():
    calls = []

    def convert(amount: Decimal, source: str, target: str, on: date) -> Decimal:
        calls.append((amount, source, target, on))
        return amount * Decimal("0.5")

    assert parse(site_currency="EUR").reporting_amount is None
    converted = parse(site_currency="EUR", convert=convert, timestamp="2026-03-01T10:00:00Z")
    assert (converted.amount, converted.reporting_amount, converted.reporting_currency) == (2999, 1500, "EUR")
    assert calls == [(Decimal("29.99"), "USD", "EUR", date(2026, 3, 1))]


def test_email_is_lowercased_and_text_trimmed():
    payment = parse(email=" Ada@Example.COM ", customer_id=" cus_1 ", transaction_id=12345)
    assert (payment.email, payment.customer_id, payment.transaction_id) == ("ada@example.com", "cus_1", "12345")


@pytest.mark.parametrize("fields, field", [
    ({"transaction_id": None}, "transaction_id"), ({"transaction_id": "  "}, "transaction_id"),
    ({"transaction_id": ["x"]}, "transaction_id"), ({"transaction_id": "x" * 256}, "transaction_id"),
    ({"amount": None}, "amount"), ({"amount": "abc"}, "amount"), ({"amount": "-1"}, "amount"),
    ({"amount": True}, "amount"), ({"amount": "NaN"}, "amount"), ({"amount": "1e20"}, "amount"),
    ({"amount": "29.999"}, "amount"), ({"amount": "1.5", "currency": "JPY"}, "amount"),
    ({"currency": None}, "currency"), ({"currency": "US"}, "currency"), ({"currency": "U$D"}, "currency"),
    ({"currency": 840}, "currency"),
    ({"visitor_id": "nope"}, "visitor_id"), ({"visitor_id": 5}, "visitor_id"),
    ({"datafast_visitor_id": "nope"}, "datafast_visitor_id"), ({"session_id": "nope"}, "session_id"),
    ({"renewal": "yes"}, "renewal"), ({"refunded": 1}, "refunded"),
    ({"timestamp": "yesterday"}, "timestamp"), ({"timestamp": 1700000000}, "timestamp"),
    ({"email": "not-an-email"}, "email"), ({"customer_id": {"id": 1}}, "customer_id"),
])
def test_each_invalid_field_is_named(fields, field):
    with pytest.raises(ValidationError) as raised:
        parse(**fields)
    assert raised.value.field == field


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(ValidationError, match="^body: "):
        parse_payment([1], site_id=7, site_currency="USD", now=NOW)


def test_a_currency_the_converter_refuses_is_a_currency_error_and_a_site_currency_without_a_rate_unknown():
    def refuse(field):
        def convert(amount, source, target, on):
            raise ValidationError(field, "has no European Central Bank reference rate")
        return convert

    with pytest.raises(ValidationError) as raised:
        parse(site_currency="EUR", convert=refuse("from_currency"))
    assert raised.value.field == "currency"
    assert parse(site_currency="EUR", convert=refuse("to_currency")).reporting_amount is None
