"""Input validation for the course pages; saving is left to courses.services."""

from django import forms
from django.core.exceptions import ValidationError

from courses.models import Course, Lesson
from courses.services import COURSE_PRICE_MAX_FEN
from courses.validators import cover_image_validate
from knowpay.money import MoneyFormatError, fen_to_yuan, format_cny, yuan_to_fen


class YuanPriceField(forms.CharField):
    """Typed as yuan text ("12.90"), cleaned to integer fen (1290); never passes through float."""

    def to_python(self, value) -> int | None:
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        try:
            fen = yuan_to_fen(text)
        except MoneyFormatError:
            raise ValidationError(
                "Enter the price in yuan with at most two decimals, for example 12.90.", code="invalid"
            ) from None
        if fen < 0:
            raise ValidationError("The price cannot be negative.", code="negative")
        if fen > COURSE_PRICE_MAX_FEN:
            raise ValidationError(f"The price can be at most {format_cny(COURSE_PRICE_MAX_FEN)}.", code="too_high")
        return fen

    def prepare_value(self, value):
        # Initial data holds fen; what was typed into a bound form is shown back unchanged.
        if isinstance(value, int) and not isinstance(value, bool):
            return fen_to_yuan(value)
        return value


class CatalogSearchForm(forms.Form):
    # A CharField refuses NUL bytes (PostgreSQL cannot search for them) and overlong queries.
    q = forms.CharField(max_length=100, required=False)


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


class CourseForm(forms.Form):
    title = forms.CharField(max_length=_max_length(Course, "title"))
    slug = forms.SlugField(
        label="Address",
        max_length=_max_length(Course, "slug"),
        allow_unicode=True,
        required=False,
        help_text="Part of the course's web address. Leave it blank to make one from the title.",
    )
    summary = forms.CharField(
        max_length=_max_length(Course, "summary"), required=False, help_text="One or two sentences for the catalog."
    )
    description = forms.CharField(widget=forms.Textarea, required=False)
    cover = forms.ImageField(
        label="Cover image",
        required=False,
        help_text="A 16:9 picture looks best.",
        validators=[cover_image_validate],
    )
    price_yuan = YuanPriceField(
        label="Price (¥)",
        help_text="In yuan, for example 12.90. 0 makes the course free.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "12.90"}),
    )


class LessonForm(forms.Form):
    title = forms.CharField(max_length=_max_length(Lesson, "title"))
    body = forms.CharField(widget=forms.Textarea, required=False)
    is_preview = forms.BooleanField(
        label="Free preview", required=False, help_text="Anyone can read a preview lesson, enrolled or not."
    )
