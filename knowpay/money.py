"""Money is integer fen (分) everywhere inside KnowPay.

Yuan strings exist only at the edge: gateways speak them, people read them. This module is the one
place that converts, exactly and never through float.
"""

import re

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
