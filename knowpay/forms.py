"""Form fields shared by the apps' forms."""

from django import forms
from django.core.exceptions import ValidationError

from knowpay.money import MoneyFormatError, format_cny, yuan_to_fen


class YuanAmountField(forms.CharField):
    """An amount typed in yuan ("150.00"), cleaned to integer fen (15000) within [min_fen, max_fen].

    Anything else (thousands of digits, NUL bytes, "1e400", non-ASCII digits) is a validation
    error of this field, never an exception further down: yuan_to_fen accepts only short exact
    decimals, so it also stands in for the length and NUL validators of a text field.
    """

    def __init__(self, *, min_fen: int = 1, max_fen: int | None = None, **kwargs) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "maxlength": 20}))
        super().__init__(**kwargs)
        self.min_fen, self.max_fen = min_fen, max_fen
        self.validators = []  # they would judge the cleaned value, which is fen

    def to_python(self, value) -> int | None:
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            fen = yuan_to_fen(text)
        except MoneyFormatError:
            raise ValidationError(
                "Enter an amount in yuan with at most two decimals, for example 150.00.", code="invalid"
            ) from None
        if fen < self.min_fen:
            raise ValidationError(f"The amount must be at least {format_cny(self.min_fen)}.", code="min_value")
        if self.max_fen is not None and fen > self.max_fen:
            raise ValidationError(f"The amount can be at most {format_cny(self.max_fen)}.", code="max_value")
        return fen
