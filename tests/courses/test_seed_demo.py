from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpRequest

from accounts.models import CreatorProfile, User
from courses.models import Course, Enrollment, Lesson

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _development_machine(settings):
    settings.DEBUG = True


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (User, CreatorProfile, Course, Lesson, Enrollment)}


def _logins(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.endswith(")") and " / " in line]


def test_running_seed_demo_twice_changes_nothing_and_prints_the_same_logins():
    first_output = _seed()
    first_counts = _counts()

    second_output = _seed()

    assert _counts() == first_counts
    assert _logins(second_output) == _logins(first_output)
    assert "Demo data already there." in second_output


def test_seed_demo_creates_what_the_demo_needs():
    output = _seed()

    published = Course.objects.filter(status=Course.Status.PUBLISHED)
    assert CreatorProfile.objects.exclude(payout_alipay_account="").count() == 2
    assert published.filter(price_fen=0).exists()
    assert set(published.values_list("price_fen", flat=True)) >= {990, 4900, 19900}
    assert Course.objects.filter(status=Course.Status.DRAFT).count() == 1
    for course in Course.objects.all():
        assert 3 <= course.lessons.count() <= 5
        assert course.lessons.get(position=1).is_preview
    assert User.objects.filter(is_staff=True, is_superuser=True).count() == 1
    assert len(_logins(output)) == 4


def test_the_demo_logins_work(client):
    _seed()

    # Axes counts every log-in by its request, so the test client passes one.
    assert client.login(request=HttpRequest(), username="learner", password="demo-pass-123")


def test_seed_demo_refuses_to_run_in_production(settings):
    settings.DEBUG = False
    settings.PAYMENTS_SANDBOX = False

    with pytest.raises(CommandError):
        _seed()

    assert not User.objects.exists()
