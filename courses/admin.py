from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from courses.forms import YuanPriceField
from courses.models import Course, Enrollment, Lesson
from courses.services import course_archive, course_cover_file_discard, course_publish, course_unpublish
from courses.validators import cover_image_validate
from knowpay.api import ServiceError
from knowpay.history import HistoryAdmin
from knowpay.money import format_cny


class LessonInline(admin.TabularInline):
    model = Lesson
    extra = 0
    fields = ["position", "title", "is_preview"]
    ordering = ["position"]
    show_change_link = True


class CourseAdminForm(forms.ModelForm):
    # Staff type the price in yuan, as creators do in the studio; it is stored in fen.
    price_fen = YuanPriceField(label="Price (¥)", help_text="In yuan, for example 12.90. 0 makes the course free.")
    cover = forms.ImageField(required=False, validators=[cover_image_validate])

    class Meta:
        model = Course
        fields = ["creator", "title", "slug", "summary", "description", "cover", "price_fen"]


@admin.register(Course)
class CourseAdmin(HistoryAdmin):
    """Editing needs change_course; so do publish, unpublish and archive (view_course only looks)."""

    form = CourseAdminForm
    list_display = ["title", "creator", "status", "price", "lesson_count", "published_at", "updated_at"]
    list_filter = ["status", "published_at"]
    search_fields = ["title", "slug", "creator__username", "creator__creator_profile__display_name"]
    list_select_related = ["creator"]
    raw_id_fields = ["creator"]
    # Status changes go through the services (a course needs a lesson to be published), not the form.
    readonly_fields = ["status", "published_at", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [LessonInline]
    actions = ["publish", "unpublish", "archive"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        replaced = form.initial.get("cover")
        if "cover" in form.changed_data and replaced and replaced.name != obj.cover.name:
            course_cover_file_discard(name=replaced.name)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return super().get_queryset(request).annotate(lesson_count=Count("lessons"))

    @admin.display(description="Price", ordering="price_fen")
    def price(self, course: Course) -> str:
        return format_cny(course.price_fen)

    @admin.display(description="Lessons", ordering="lesson_count")
    def lesson_count(self, course: Course) -> int:
        return course.lesson_count

    def _apply(self, request: HttpRequest, queryset: QuerySet[Course], service, verb: str) -> None:
        done = 0
        for course in queryset:
            try:
                service(course=course)
            except ServiceError as error:
                self.message_user(request, f"{course}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{verb} {done} course(s).", messages.SUCCESS)

    @admin.action(description="Publish selected courses", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        self._apply(request, queryset, course_publish, "Published")

    @admin.action(description="Unpublish selected courses (back to draft)", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        self._apply(request, queryset, course_unpublish, "Unpublished")

    @admin.action(description="Archive selected courses", permissions=["change"])
    def archive(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        self._apply(request, queryset, course_archive, "Archived")


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    """Read-only: access is granted and revoked by courses.services (free enrollment, payments, refunds)."""

    list_display = ["learner", "course", "source", "reference", "granted_at", "revoked_at"]
    list_filter = ["source", ("revoked_at", admin.EmptyFieldListFilter), "granted_at"]
    search_fields = ["learner__username", "learner__email", "course__title", "course__slug", "reference"]
    list_select_related = ["learner", "course"]
    date_hierarchy = "granted_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Enrollment | None = None) -> bool:
        return False
