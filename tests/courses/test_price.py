import pytest
from django.db import IntegrityError, transaction

from courses.forms import CourseForm
from courses.models import Course
from courses.services import CourseError, course_create
from tests.factories import CourseFactory


def _form(price: str) -> CourseForm:
    return CourseForm(data={"title": "A course", "price_yuan": price})


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("-1.00", "The price cannot be negative."),
        ("abc", "Enter the price in yuan with at most two decimals, for example 12.90."),
        ("12.345", "Enter the price in yuan with at most two decimals, for example 12.90."),
        ("1e3", "Enter the price in yuan with at most two decimals, for example 12.90."),
        ("1,000.00", "Enter the price in yuan with at most two decimals, for example 12.90."),
        ("100000.01", "The price can be at most ¥100,000.00."),
    ],
)
def test_the_course_form_refuses_a_price_that_is_not_an_exact_yuan_amount(typed, error):
    form = _form(typed)

    assert not form.is_valid()
    assert form.errors["price_yuan"] == [error]


def test_the_course_form_requires_a_price():
    form = _form("")

    assert not form.is_valid()
    assert "price_yuan" in form.errors


@pytest.mark.parametrize(("typed", "fen"), [("12.90", 1290), ("12.9", 1290), ("0", 0), ("199", 19900), (" 9.90 ", 990)])
def test_the_course_form_turns_yuan_text_into_integer_fen(typed, fen):
    form = _form(typed)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["price_yuan"] == fen
    assert type(form.cleaned_data["price_yuan"]) is int


def test_a_refused_price_is_shown_back_as_typed():
    form = _form("12.345")
    form.is_valid()

    assert 'value="12.345"' in str(form["price_yuan"])


def test_an_initial_price_in_fen_is_shown_in_yuan():
    form = CourseForm(initial={"price_yuan": 1290})

    assert 'value="12.90"' in str(form["price_yuan"])


@pytest.mark.django_db
def test_the_database_refuses_a_negative_price():
    course = CourseFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.filter(pk=course.pk).update(price_fen=-1)


@pytest.mark.django_db
def test_course_create_refuses_a_negative_price(creator):
    with pytest.raises(CourseError) as raised:
        course_create(creator=creator, title="Negative", price_fen=-100)

    assert raised.value.code == "price_negative"
    assert not Course.objects.filter(title="Negative").exists()
