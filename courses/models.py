"""What creators author: categories, courses, modules, lessons, and published revisions.

Learners never read the live (draft) rows: they see the snapshot of the course's
published revision. Every entity has timestamps and soft delete.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from .embeds import embed_player_url

MAX_DURATION_MINUTES = 100_000
MAX_DRIP_DAYS = 3650  # ten years: anything longer is a typing mistake


class DripFields(models.Model):
    """When content opens: N days after the learner's enrollment, and/or not before a fixed moment."""

    drip_days = models.PositiveSmallIntegerField(
        "opens after (days)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_DRIP_DAYS)],
        help_text="Days after the learner enrolls. Empty: no delay.",
    )
    drip_at = models.DateTimeField(
        "opens on", null=True, blank=True, help_text="A fixed date and time (your organization's time zone)."
    )

    class Meta:
        abstract = True


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)

    def deleted(self):
        return self.filter(deleted_at__isnull=False)


class Authored(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = SoftDeleteQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def soft_delete(self) -> None:
        self.deleted_at = timezone.now()
        self.save(update_fields=["deleted_at", "updated_at"])

    def restore(self) -> None:
        self.deleted_at = None
        self.save(update_fields=["deleted_at", "updated_at"])


class Category(Authored):
    """A catalog category; categories nest one level (a parent has no parent)."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    def clean(self) -> None:
        if self.parent_id:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": "A category cannot be its own parent."})
            if self.parent.parent_id:
                raise ValidationError({"parent": "Categories nest one level: choose a top-level category."})
            if self.pk and self.children.exists():
                raise ValidationError(
                    {"parent": "This category has subcategories, so it must stay top-level."}
                )


class Level(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class EnrollmentPolicy(models.TextChoices):
    OPEN = "open", "Open: anyone in the organization can enroll"
    INVITATION = "invitation", "Invitation only"
    APPROVAL = "approval", "Approval required"


class CourseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    ARCHIVED = "archived", "Archived"


class Course(Authored):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True, help_text="Used in the course's address.")
    summary = models.CharField(max_length=300, blank=True, help_text="One or two sentences for the catalog.")
    description = models.TextField(blank=True, help_text="Markdown.")
    cover = models.FileField(upload_to="covers/", blank=True, help_text="PNG, JPEG or WebP image.")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="courses"
    )
    #: The course's staff (owner, co-instructors, teaching assistants): see CourseStaff.
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, through="CourseStaff", related_name="taught_courses"
    )
    level = models.CharField(max_length=20, choices=Level.choices, default=Level.BEGINNER)
    estimated_minutes = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(MAX_DURATION_MINUTES)], help_text="Estimated time to finish."
    )
    enrollment_policy = models.CharField(
        max_length=20, choices=EnrollmentPolicy.choices, default=EnrollmentPolicy.OPEN
    )
    status = models.CharField(
        max_length=20, choices=CourseStatus.choices, default=CourseStatus.DRAFT, editable=False
    )
    published_revision = models.ForeignKey(
        "CourseRevision", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class CourseStaffRole(models.TextChoices):
    OWNER = "owner", "Owner"
    CO_INSTRUCTOR = "co_instructor", "Co-instructor"
    ASSISTANT = "assistant", "Teaching assistant"


class CourseStaff(models.Model):
    """A person on a course's staff. Owners and co-instructors edit and grade; assistants grade.

    The owner (at most one) and the tenant's admins manage the staff list. Uses the table of
    the plain many-to-many it replaced (migration 0003 kept the rows: each became a co-instructor).
    """

    course = models.ForeignKey("Course", on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_staff")
    role = models.CharField(
        max_length=20, choices=CourseStaffRole.choices, default=CourseStaffRole.CO_INSTRUCTOR
    )

    class Meta:
        db_table = "courses_course_instructors"
        unique_together = [("course", "user")]
        constraints = [
            models.UniqueConstraint(
                fields=["course"], condition=models.Q(role="owner"), name="courses_one_owner_per_course"
            )
        ]
        verbose_name = "course staff member"
        verbose_name_plural = "course staff"

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class Module(Authored, DripFields):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)
    prerequisites = models.ManyToManyField(
        "Lesson",
        blank=True,
        related_name="unlocks_modules",
        help_text="Lessons of this course (in other modules) the learner must complete before any "
        "lesson of this module opens.",
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title


class LessonKind(models.TextChoices):
    VIDEO = "video", "Video"
    TEXT = "text", "Text"
    DOCUMENT = "document", "Document (PDF)"
    EMBED = "embed", "External video (YouTube, Vimeo)"
    QUIZ = "quiz", "Quiz"
    ASSIGNMENT = "assignment", "Assignment"


# Kinds a learner completes by pressing "Mark complete"; video completes by watching.
SELF_COMPLETED_KINDS = frozenset({LessonKind.TEXT, LessonKind.DOCUMENT, LessonKind.EMBED})


class Lesson(Authored, DripFields):
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=LessonKind.choices, default=LessonKind.TEXT)
    position = models.PositiveIntegerField(default=0)
    duration_minutes = models.PositiveIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_DURATION_MINUTES)]
    )
    is_preview = models.BooleanField(
        "free preview",
        default=False,
        help_text="Anyone signed in to this site may open it without enrolling.",
    )
    is_required = models.BooleanField(default=True, help_text="Counts towards course completion.")
    body = models.TextField(blank=True, help_text="Markdown. Shown for text lessons, and under other kinds.")
    video = models.FileField(upload_to="lessons/video/", blank=True)
    document = models.FileField(upload_to="lessons/documents/", blank=True)
    embed_url = models.URLField(blank=True, help_text="A YouTube or Vimeo address.")
    prerequisites = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="unlocks",
        help_text="Lessons of this course the learner must complete before this one opens.",
    )
    # Counts the edits of the lesson's content (not its place): an editor sends the version it
    # loaded, and a save over a newer one is refused instead of silently winning (ADR 0205).
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.embed_url and embed_player_url(self.embed_url) is None:
            raise ValidationError(
                {
                    "embed_url": "Only YouTube and Vimeo videos can be embedded; paste the video's "
                    "address, e.g. https://www.youtube.com/watch?v=..."
                }
            )
        if self.kind == LessonKind.EMBED and not self.embed_url:
            raise ValidationError({"embed_url": "An external video lesson needs the video's address."})


class CourseRevision(models.Model):
    """A published state of a course: who, when, what changed, and the full snapshot."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    summary = models.TextField(blank=True)
    # The catalog card (title, summary, cover, level, ...) apart from the full snapshot,
    # so lists never load every lesson body.
    card = models.JSONField(default=dict)
    snapshot = models.JSONField()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="courses_revision_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.course} r{self.number}"
