"""Money is integer fen (分) everywhere inside KnowPay.

Yuan strings exist only at the edge: gateways speak them, people read them. This module is the one
place that converts, exactly and never through float, for CNY and for every other currency a
gateway takes (minor units of each currency, by its ISO 4217 exponent).
"""

import re
from dataclasses import dataclass

# At most 15 digits of whole yuan (under ¥1,000 trillion): every amount fits a 64-bit column in fen,
# and a string of thousands of digits is refused before Python is asked to make an int of it.
MAX_WHOLE_YUAN_DIGITS = 15
_YUAN = re.compile(rf"\A(-?)(0|[1-9][0-9]{{0,{MAX_WHOLE_YUAN_DIGITS - 1}}})(?:\.([0-9]{{1,2}}))?\Z")


class MoneyFormatError(ValueError):
    """A yuan amount that is not an exact decimal with at most two places."""


def fen_to_yuan(fen: int) -> str:
    """Render fen as the yuan string gateways expect, always with two decimals.

    >>> fen_to_yuan(1), fen_to_yuan(1290), fen_to_yuan(10000000), fen_to_yuan(-5)
    ('0.01', '12.90', '100000.00', '-0.05')
    """
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"fen must be an int, not {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def yuan_to_fen(yuan: str) -> int:
    """Parse an exact yuan string into fen; anything that is not exact is refused.

    >>> yuan_to_fen("12.90"), yuan_to_fen("12.9"), yuan_to_fen("12"), yuan_to_fen("-0.01")
    (1290, 1290, 1200, -1)

    "0.001", "1e2", " 1", "1,000.00", "01.00", "", "NaN", non-ASCII digits and more than 15 digits of
    whole yuan raise MoneyFormatError.
    """
    if not isinstance(yuan, str):
        raise MoneyFormatError(f"a yuan amount must be a string, not {type(yuan).__name__}")
    match = _YUAN.match(yuan)
    if match is None:
        raise MoneyFormatError(f"not an exact yuan amount: {yuan!r}")
    sign, whole, cents = match.groups()
    fen = int(whole) * 100 + int((cents or "0").ljust(2, "0"))
    return -fen if sign and fen else fen


def format_cny(fen: int) -> str:
    """What people read: ¥ and thousands separators. format_cny(123456) == '¥1,234.56'."""
    yuan = fen_to_yuan(fen)
    sign = "-" if yuan.startswith("-") else ""
    whole, cents = yuan.lstrip("-").split(".")
    return f"{sign}¥{int(whole):,}.{cents}"


# --- Other currencies -------------------------------------------------------------------------
# Amounts in any currency are integers in its minor unit (ISO 4217 exponent): fen, cents. Gateways
# that speak decimal strings (PayPal) or numeric codes (UnionPay) convert here and nowhere else.


class UnknownCurrency(ValueError):
    """A currency KnowPay does not handle."""


@dataclass(frozen=True)
class Currency:
    code: str  # ISO 4217 alphabetic
    numeric: str  # ISO 4217 numeric, as UnionPay's currencyCode
    exponent: int  # digits after the decimal point of the major unit


CURRENCIES = {
    currency.code: currency
    for currency in (
        Currency("CNY", "156", 2),
        Currency("USD", "840", 2),
        Currency("EUR", "978", 2),
    )
}


def currency_get(code: str) -> Currency:
    try:
        return CURRENCIES[code]
    except (KeyError, TypeError):
        raise UnknownCurrency(f"unknown currency {code!r}") from None


def currency_by_numeric(numeric: str) -> Currency:
    for currency in CURRENCIES.values():
        if currency.numeric == numeric:
            return currency
    raise UnknownCurrency(f"unknown numeric currency code {numeric!r}")


def minor_to_decimal(amount: int, currency: str) -> str:
    """Minor units as the decimal string of the major unit, with exactly the currency's places.

    >>> minor_to_decimal(1290, "USD"), minor_to_decimal(5, "EUR"), minor_to_decimal(-100, "CNY")
    ('12.90', '0.05', '-1.00')
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an int, not {type(amount).__name__}")
    exponent = currency_get(currency).exponent
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole}.{fraction:0{exponent}d}" if exponent else f"{sign}{whole}"


def decimal_to_minor(text: str, currency: str) -> int:
    """Parse an exact decimal string of the major unit into minor units; anything inexact is refused.

    >>> decimal_to_minor("12.90", "USD"), decimal_to_minor("12.9", "EUR"), decimal_to_minor("12", "CNY")
    (1290, 1290, 1200)

    More places than the currency has ("0.001" USD), exponents, spaces, signs other than a leading
    "-", and non-ASCII digits raise MoneyFormatError.
    """
    exponent = currency_get(currency).exponent
    if not isinstance(text, str):
        raise MoneyFormatError(f"an amount must be a string, not {type(text).__name__}")
    match = _DECIMAL.match(text)
    if match is None:
        raise MoneyFormatError(f"not an exact decimal amount: {text!r}")
    sign, whole, fraction = match.groups()
    fraction = fraction or ""
    if len(fraction) > exponent:
        raise MoneyFormatError(f"{text!r} has more than {exponent} decimal places for {currency}")
    minor = int(whole) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")
    return -minor if sign and minor else minor


_DECIMAL = re.compile(r"\A(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?\Z", re.ASCII)
