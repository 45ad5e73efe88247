from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from courses.models import Course, Lesson


class EnrollmentStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    ACTIVE = "active", "Active"
    AUDITING = "auditing", "Auditing (no graded work)"
    COMPLETED = "completed", "Completed"
    BLOCKED = "blocked", "Blocked"
    REJECTED = "rejected", "Request declined"


# Statuses whose learners may open lessons (within their access window).
OPENING_STATUSES = frozenset({"active", "auditing", "completed"})


class Enrollment(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    status = models.CharField(
        max_length=20, choices=EnrollmentStatus.choices, default=EnrollmentStatus.ACTIVE
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    access_starts_at = models.DateTimeField(null=True, blank=True, help_text="Empty: from enrollment.")
    access_ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: no end.")
    progress_percent = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    last_lesson = models.ForeignKey(
        Lesson, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_activity_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_activity_at", "-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="enrollments_one_per_course"),
            models.CheckConstraint(
                condition=models.Q(access_ends_at__isnull=True)
                | models.Q(access_starts_at__isnull=True)
                | models.Q(access_ends_at__gt=models.F("access_starts_at")),
                name="enrollments_window_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["course", "status"])]

    def __str__(self) -> str:
        return f"{self.user} in {self.course}"

    @property
    def opens_lessons(self) -> bool:
        """By status alone; the access window is checked by the policy (enrollments.access)."""
        return self.status in OPENING_STATUSES

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.access_starts_at and self.access_ends_at and self.access_ends_at <= self.access_starts_at:
            raise ValidationError({"access_ends_at": "The access window must end after it starts."})


class ProgressStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


class LessonProgress(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=20, choices=ProgressStatus.choices, default=ProgressStatus.IN_PROGRESS
    )
    percent = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    time_spent_seconds = models.PositiveIntegerField(default=0)
    last_position_seconds = models.PositiveIntegerField(default=0)
    # Video: what the server counted from heartbeats (never what the player claims), ADR 0076.
    watched_seconds = models.FloatField(
        default=0, help_text="Seconds of video watched, as the server counted them from heartbeats."
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="When the last heartbeat came.")
    heartbeat_position = models.FloatField(
        null=True, blank=True, help_text="The video position (seconds) the last heartbeat reported."
    )
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "lesson"], name="enrollments_progress_once")]
        indexes = [models.Index(fields=["user", "course"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.lesson}: {self.status}"
