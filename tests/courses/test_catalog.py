import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Course
from tests.factories import CourseFactory

pytestmark = pytest.mark.django_db

CATALOG = reverse("courses:catalog")


def _slugs(response) -> list[str]:
    return [course.slug for course in response.context["page"]]


def test_only_published_courses_are_listed(client, course, draft_course):
    archived = CourseFactory(status=Course.Status.ARCHIVED)

    response = client.get(CATALOG)

    assert _slugs(response) == [course.slug]
    assert draft_course.title not in response.text
    assert archived.title not in response.text


def test_the_search_narrows_the_catalog_by_title(client):
    CourseFactory(title="Python 数据分析入门", slug="python")
    CourseFactory(title="Excel 高效办公", slug="excel")

    response = client.get(CATALOG, {"q": "数据分析"})

    assert _slugs(response) == ["python"]
    assert 'value="数据分析"' in response.text


def test_a_search_without_results_says_so(client, course):
    response = client.get(CATALOG, {"q": "nothing like this"})

    assert _slugs(response) == []
    assert "No course title contains" in response.text


def test_the_catalog_shows_twelve_courses_a_page(client):
    CourseFactory.create_batch(13)

    first = client.get(CATALOG)
    second = client.get(CATALOG, {"page": 2})

    assert len(first.context["page"]) == 12
    assert len(second.context["page"]) == 1
    assert "?page=2" in first.text


def test_a_page_number_out_of_range_shows_the_last_page(client, course):
    response = client.get(CATALOG, {"page": 99})

    assert _slugs(response) == [course.slug]


def test_a_card_shows_title_creator_summary_price_and_a_cover_placeholder(client, course):
    response = client.get(CATALOG)

    assert course.title in response.text
    assert course.creator.creator_profile.display_name in response.text
    assert course.summary in response.text
    assert "¥12.90" in response.text
    assert 'aria-label="No cover image"' in response.text


def test_a_free_course_is_shown_as_free(client, free_course):
    response = client.get(CATALOG)

    assert '<span class="price free">Free</span>' in response.text


def test_the_catalog_query_count_does_not_grow_with_the_courses(client, learner, django_assert_max_num_queries):
    client.force_login(learner)
    CourseFactory()
    with CaptureQueriesContext(connection) as one_course:
        client.get(CATALOG)
    CourseFactory.create_batch(11)

    with django_assert_max_num_queries(len(one_course)):
        response = client.get(CATALOG)

    assert len(response.context["page"]) == 12


@pytest.mark.parametrize("query", ["\x00", "a\x00b", "x" * 101])
def test_a_search_that_cannot_be_run_shows_every_course_with_a_message(client, db, query):
    CourseFactory(title="Listed course")

    response = client.get("/", {"q": query})

    assert response.status_code == 200
    assert "Listed course" in response.content.decode()
    assert "That search cannot be run" in response.content.decode()
