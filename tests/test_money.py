"""Edge cases of the one fen <-> yuan conversion (knowpay/money.py)."""

import pytest

from knowpay.money import (
    MoneyFormatError,
    UnknownCurrency,
    currency_by_numeric,
    currency_get,
    decimal_to_minor,
    fen_to_yuan,
    format_cny,
    minor_to_decimal,
    yuan_to_fen,
)


@pytest.mark.parametrize(
    ("yuan", "fen"),
    [
        ("0.01", 1),
        ("12.90", 1290),
        ("12.9", 1290),
        ("12", 1200),
        ("0", 0),
        ("0.00", 0),
        ("100000.00", 10000000),
        ("99999999.99", 9999999999),
        ("-0.01", -1),
        ("-12.90", -1290),
    ],
)
def test_exact_yuan_strings_parse_to_fen(yuan, fen):
    assert yuan_to_fen(yuan) == fen


@pytest.mark.parametrize(
    "yuan",
    ["0.001", "12.901", "1e2", "1E2", " 1", "1 ", "1,000.00", "01.00", "00", ".5", "5.", "+1", "--1", "", "NaN",
     "Infinity", "\uff11\uff12", "12.9\n", "0x10", "1_000"],
)  # fmt: skip
def test_anything_but_an_exact_yuan_string_is_refused(yuan):
    with pytest.raises(MoneyFormatError):
        yuan_to_fen(yuan)


@pytest.mark.parametrize("value", [12.9, 1290, None, b"12.90"])
def test_non_strings_are_refused_even_when_they_look_like_amounts(value):
    with pytest.raises(MoneyFormatError):
        yuan_to_fen(value)


@pytest.mark.parametrize("yuan", ["1\uff12", "12.9\u0660"], ids=["fullwidth-two", "arabic-indic-zero"])
def test_non_ascii_digits_are_refused(yuan):
    with pytest.raises(MoneyFormatError):
        yuan_to_fen(yuan)


def test_the_largest_amount_has_fifteen_digits_of_whole_yuan():
    assert yuan_to_fen("999999999999999.99") == 99999999999999999


@pytest.mark.parametrize("yuan", ["1000000000000000", "92233720368547758.08", "9" * 5000, "-" + "9" * 5000])
def test_amounts_beyond_fifteen_digits_of_whole_yuan_are_refused_without_parsing_them(yuan):
    with pytest.raises(MoneyFormatError):
        yuan_to_fen(yuan)


def test_negative_zero_is_zero():
    assert yuan_to_fen("-0.00") == 0


@pytest.mark.parametrize(
    ("fen", "yuan"),
    [
        (1, "0.01"),
        (10, "0.10"),
        (1290, "12.90"),
        (10000000, "100000.00"),
        (0, "0.00"),
        (-5, "-0.05"),
        (-1290, "-12.90"),
    ],
)
def test_fen_render_as_yuan_with_two_decimals(fen, yuan):
    assert fen_to_yuan(fen) == yuan


@pytest.mark.parametrize("value", [12.9, "1290", True, None])
def test_fen_must_be_an_int(value):
    with pytest.raises(TypeError):
        fen_to_yuan(value)


@pytest.mark.parametrize("fen", [0, 1, 9, 10, 99, 100, 1290, 123456789, -1, -1290])
def test_round_trip_is_exact(fen):
    assert yuan_to_fen(fen_to_yuan(fen)) == fen


def test_people_read_yuan_with_thousands_separators():
    assert (format_cny(123456), format_cny(-1290)) == ("¥1,234.56", "-¥12.90")


# --- Other currencies: minor units by each currency's ISO 4217 exponent ----------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("12.90", "USD", 1290), ("12.9", "EUR", 1290), ("0.01", "USD", 1), ("12", "CNY", 1200), ("-0.05", "EUR", -5)],
)
def test_exact_decimal_strings_parse_to_minor_units(text, currency, minor):
    assert decimal_to_minor(text, currency) == minor


@pytest.mark.parametrize("text", ["0.001", "1e2", " 1", "01.00", "+1", "", "NaN", "1,000.00", "\uff11", "12.9\u0660"])
def test_anything_but_an_exact_decimal_in_the_currencys_places_is_refused(text):
    with pytest.raises(MoneyFormatError):
        decimal_to_minor(text, "USD")


@pytest.mark.parametrize(
    ("minor", "currency", "text"), [(1290, "USD", "12.90"), (5, "EUR", "0.05"), (-1, "CNY", "-0.01")]
)
def test_minor_units_render_with_the_currencys_places(minor, currency, text):
    assert minor_to_decimal(minor, currency) == text


@pytest.mark.parametrize("minor", [0, 1, 99, 100, 123456789, -1290])
@pytest.mark.parametrize("currency", ["CNY", "USD", "EUR"])
def test_minor_unit_round_trip_is_exact(minor, currency):
    assert decimal_to_minor(minor_to_decimal(minor, currency), currency) == minor


def test_unknown_currencies_are_refused_not_guessed():
    with pytest.raises(UnknownCurrency):
        minor_to_decimal(100, "XXX")
    with pytest.raises(UnknownCurrency):
        decimal_to_minor("1.00", "usd")


def test_numeric_codes_are_iso_4217():
    assert [currency_get(code).numeric for code in ("CNY", "USD", "EUR")] == ["156", "840", "978"]
    assert currency_by_numeric("840").code == "USD"
