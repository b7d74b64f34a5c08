from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords


class Course(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="courses")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True, allow_unicode=True)
    summary = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    cover = models.ImageField(upload_to="covers/%Y/%m/", blank=True)
    price_fen = models.PositiveIntegerField(help_text="Price in fen (分); 0 makes the course free.")
    currency = models.CharField(max_length=3, default="CNY", editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Price and status changes, with who made them (admin history); the texts and cover are not kept.
    history = HistoricalRecords(excluded_fields=["summary", "description", "cover"])

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["status", "-published_at"], name="course_catalog_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(price_fen__gte=0), name="course_price_not_negative"),
            models.CheckConstraint(condition=Q(currency="CNY"), name="course_currency_cny"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "published", "archived"]), name="course_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_free(self) -> bool:
        return self.price_fen == 0

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class Lesson(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    is_preview = models.BooleanField(default=False, help_text="Readable by anyone, enrolled or not.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["course", "position"]
        constraints = [
            models.UniqueConstraint(fields=["course", "position"], name="lesson_position_unique_in_course"),
        ]

    def __str__(self) -> str:
        return self.title


class Enrollment(models.Model):
    """A learner's access to a course. Revoked (not deleted) by a full refund; granted again on repurchase."""

    class Source(models.TextChoices):
        FREE = "free", "Free course"
        PURCHASE = "purchase", "Purchase"
        STAFF = "staff", "Granted by staff"

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrollments")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrollments")
    source = models.CharField(max_length=10, choices=Source.choices)
    # What granted it, e.g. the order number of a purchase.
    reference = models.CharField(max_length=64, blank=True)
    granted_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "course"], name="enrollment_unique_per_learner_course"),
            models.CheckConstraint(
                condition=Q(source__in=["free", "purchase", "staff"]), name="enrollment_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.learner} → {self.course}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
