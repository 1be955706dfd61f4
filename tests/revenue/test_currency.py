"""Rates: reporting amounts in the site currency, checked against the ECB rows in the bundled file."""

import csv
import io
import socket
import zipfile
from datetime import date
from decimal import Decimal

import pytest

from postmetric.errors import ValidationError
from postmetric.revenue.currency import BUNDLED_HISTORY, Rates, minor_units

FRIDAY = date(2024, 1, 5)


@pytest.fixture(scope="module")
def rates():
    return Rates()


@pytest.fixture(scope="module")
def ecb_rows():
    """The bundled file's rows as the ECB published them: {date: {currency: Decimal units per EUR}}."""
    with zipfile.ZipFile(BUNDLED_HISTORY) as archive, archive.open("eurofxref-hist.csv") as raw:
        return {
            date.fromisoformat(row.pop("Date")): {
                code: Decimal(rate) for code, rate in row.items() if code and rate != "N/A"
            }
            for row in csv.DictReader(io.TextIOWrapper(raw, "utf-8"))
        }


def test_the_ecb_published_rows_read_from_the_file_hold_known_values(ecb_rows):
    assert ecb_rows[date(2014, 3, 28)]["USD"] == Decimal("1.3759")
    assert ecb_rows[FRIDAY]["GBP"] == Decimal("0.8621")


def test_euros_convert_at_the_ecb_rate_of_that_day():
    assert Rates().convert(Decimal("100"), "EUR", "USD", date(2014, 3, 28)) == Decimal("137.59")
    assert Rates().convert(Decimal("100"), "USD", "EUR", FRIDAY) == Decimal("91.57")  # 100 / 1.0921


@pytest.mark.parametrize("day", [date(2014, 3, 28), FRIDAY, date(2024, 12, 24), date(2026, 10, 29)])
@pytest.mark.parametrize("currency", ["USD", "GBP", "CHF", "JPY", "SEK"])
def test_every_conversion_from_euros_matches_the_published_row(rates, ecb_rows, day, currency):
    expected = Decimal("1234.56") * ecb_rows[day][currency]
    places = Decimal(1).scaleb(-minor_units(currency))
    assert rates.convert(Decimal("1234.56"), "EUR", currency, day) == expected.quantize(places)


def test_a_cross_rate_goes_through_the_euro(rates, ecb_rows):
    row = ecb_rows[FRIDAY]
    assert rates.convert(Decimal("100"), "USD", "GBP", FRIDAY) == Decimal("78.94")  # 100 / 1.0921 * 0.8621
    assert rates.convert(Decimal("100"), "USD", "GBP", FRIDAY) == (100 / row["USD"] * row["GBP"]).quantize(
        Decimal("0.01")
    )


@pytest.mark.parametrize("weekend_day", [date(2024, 1, 6), date(2024, 1, 7)])
def test_a_weekend_uses_fridays_rate(rates, ecb_rows, weekend_day):
    assert weekend_day not in ecb_rows
    assert rates.convert(Decimal("100"), "EUR", "USD", weekend_day) == Decimal("109.21")
    assert rates.convert(Decimal("100"), "USD", "GBP", weekend_day) == rates.convert(
        Decimal("100"), "USD", "GBP", FRIDAY
    )


@pytest.mark.parametrize("holiday", [date(2024, 12, 25), date(2024, 12, 26)])
def test_a_target_holiday_uses_the_previous_business_days_rate(rates, holiday):
    assert rates.convert(Decimal("100"), "EUR", "USD", holiday) == Decimal("103.95")  # 2024-12-24: 1.0395


def test_the_last_date_is_the_files_last_row(rates, ecb_rows):
    assert rates.last_date == max(ecb_rows)


@pytest.mark.parametrize("later", [date(2026, 11, 20), date(2040, 1, 1)])
def test_a_date_after_the_file_ends_uses_the_last_known_rate(rates, ecb_rows, later):
    last = ecb_rows[rates.last_date]
    assert later > rates.last_date
    assert rates.convert(Decimal("100"), "EUR", "USD", later) == (100 * last["USD"]).quantize(Decimal("0.01"))
    assert rates.convert(Decimal("100"), "USD", "JPY", later) == rates.convert(
        Decimal("100"), "USD", "JPY", rates.last_date
    )


def test_yen_round_half_up_to_whole_yen(rates):
    # 5 × 140.9 = 704.5: half-up gives 705 where banker's rounding would give 704.
    assert rates.convert(Decimal("5"), "EUR", "JPY", date(2014, 3, 28)) == Decimal("705")
    assert rates.convert(Decimal("5"), "EUR", "JPY", date(2014, 3, 28)).as_tuple().exponent == 0


def test_cents_round_half_up(rates):
    # 5 × 1.113 = 5.565 → 5.57.
    assert rates.convert(Decimal("5"), "EUR", "USD", date(2026, 10, 29)) == Decimal("5.57")


def test_the_same_currency_is_unchanged(rates):
    assert rates.convert(Decimal("12.345"), "USD", "USD", FRIDAY) == Decimal("12.345")
    # No ECB rate is needed to leave an amount alone.
    assert rates.convert(Decimal("250000"), "VND", "vnd", FRIDAY) == Decimal("250000")


def test_codes_are_case_insensitive(rates):
    assert rates.convert(Decimal("100"), "eur", "usd", date(2014, 3, 28)) == Decimal("137.59")


@pytest.mark.parametrize(
    ("source", "target", "field", "message"),
    [
        ("XYZ", "USD", "from_currency", "XYZ has no European Central Bank reference rate"),
        ("EUR", "VND", "to_currency", "VND has no European Central Bank reference rate"),
        ("US", "EUR", "from_currency", "'US' is not a 3-letter ISO 4217 code like USD or EUR"),
        ("EUR", "EURO", "to_currency", "'EURO' is not a 3-letter ISO 4217 code like USD or EUR"),
    ],
)
def test_a_currency_without_an_ecb_rate_is_refused(rates, source, target, field, message):
    with pytest.raises(ValidationError) as error:
        rates.convert(Decimal("1"), source, target, FRIDAY)
    assert (error.value.field, error.value.message) == (field, message)


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("JPY", 0), ("KRW", 0), ("ISK", 0), ("USD", 2), ("EUR", 2), ("gbp", 2), ("KWD", 3)],
)
def test_minor_units_follow_iso_4217(currency, digits):
    assert minor_units(currency) == digits


def test_minor_units_refuses_a_malformed_code():
    with pytest.raises(ValidationError, match="currency: 'DOLLAR' is not a 3-letter ISO 4217 code"):
        minor_units("DOLLAR")


def test_rates_load_lazily_on_first_use(tmp_path):
    missing = Rates(tmp_path / "absent.zip")  # building reads nothing…
    with pytest.raises(FileNotFoundError):
        missing.convert(Decimal("1"), "EUR", "USD", FRIDAY)  # …the first conversion does


def test_rates_never_touch_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("Rates tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr("currency_converter.currency_converter.urlopen", refuse)
    assert Rates().convert(Decimal("100"), "EUR", "USD", date(2014, 3, 28)) == Decimal("137.59")
