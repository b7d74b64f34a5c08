"""Learner-facing course pages: thin adapters over courses.selectors and courses.services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from courses.forms import CatalogSearchForm
from courses.models import Course, Enrollment
from courses.selectors import (
    course_can_read_lesson,
    course_get_visible,
    course_is_enrolled,
    course_list_published,
    enrollment_list_active,
    lesson_get,
    lesson_get_first,
    lesson_get_neighbours,
    lesson_list_with_access,
)
from courses.services import enrollment_grant
from knowpay.api import ServiceError

CATALOG_PAGE_SIZE = 12


def catalog(request: HttpRequest) -> HttpResponse:
    search = CatalogSearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    if search.errors:
        messages.error(request, "That search cannot be run; showing every course.")
    page = Paginator(course_list_published(query=query), CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "courses/catalog.html", {"page": page, "query": query})


def _course_or_404(request: HttpRequest, slug: str) -> Course:
    course = course_get_visible(slug=slug, user=request.user)
    if course is None:
        raise Http404("No such course.")
    return course


def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    course = _course_or_404(request, slug)
    context = {
        "course": course,
        "lessons": lesson_list_with_access(course=course, user=request.user),
        "is_owner": request.user.is_authenticated and course.creator_id == request.user.id,
        "is_enrolled": course_is_enrolled(learner=request.user, course=course),
        "first_lesson": lesson_get_first(course=course),
    }
    return render(request, "courses/course_detail.html", context)


def lesson_detail(request: HttpRequest, slug: str, position: int) -> HttpResponse:
    course = _course_or_404(request, slug)
    lesson = lesson_get(course=course, position=position)
    if lesson is None:
        raise Http404("No such lesson.")
    if not course_can_read_lesson(user=request.user, lesson=lesson):
        # Back to the course page, where the way to get access (enroll, buy, log in) is offered.
        messages.warning(request, f"“{lesson.title}” is for enrolled learners. Enroll in the course to read it.")
        return redirect("courses:course_detail", slug=course.slug)
    previous, following = lesson_get_neighbours(lesson=lesson)
    return render(
        request,
        "courses/lesson_detail.html",
        {"course": course, "lesson": lesson, "previous": previous, "next": following},
    )


@login_required
@require_POST
def enroll_free(request: HttpRequest, slug: str) -> HttpResponse:
    course = _course_or_404(request, slug)
    try:
        enrollment_grant(learner=request.user, course=course, source=Enrollment.Source.FREE)
    except ServiceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"You are enrolled in “{course.title}”. Enjoy!")
    return redirect("courses:course_detail", slug=course.slug)


@login_required
def my_learning(request: HttpRequest) -> HttpResponse:
    return render(request, "courses/my_learning.html", {"enrollments": enrollment_list_active(learner=request.user)})
