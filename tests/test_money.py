"""Edge cases of the one fen <-> yuan conversion (knowpay/money.py)."""

import pytest

from knowpay.money import MoneyFormatError, fen_to_yuan, format_cny, yuan_to_fen


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
