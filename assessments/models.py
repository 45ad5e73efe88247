"""Assessments (quizzes, exams, assignments), question banks, attempts, grades and certificates.

An assessment belongs to one lesson of kind quiz or assignment. An attempt records the
question set drawn for it when it starts, so later edits to the assessment never change
what a learner was asked or how they were graded.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from courses.models import Course, Lesson
from media_delivery.models import MediaAsset

MAX_QUESTIONS_PER_ATTEMPT = 200
MAX_TIME_LIMIT_MINUTES = 24 * 60
#: The largest assignment file an assessment may allow (media_delivery's rule for submissions).
MAX_SUBMISSION_MB = 50


class AssessmentKind(models.TextChoices):
    QUIZ = "quiz", "Quiz"
    EXAM = "exam", "Exam"
    ASSIGNMENT = "assignment", "Assignment"


class ShowAnswers(models.TextChoices):
    NEVER = "never", "Never"
    AFTER_EACH = "after_each", "After each attempt"
    AFTER_LAST = "after_last", "After the last attempt or after passing"


class GradePolicy(models.TextChoices):
    BEST = "best", "Best attempt"
    LAST = "last", "Last attempt"


class Assessment(models.Model):
    lesson = models.OneToOneField(Lesson, on_delete=models.CASCADE, related_name="assessment")
    kind = models.CharField(max_length=20, choices=AssessmentKind.choices, default=AssessmentKind.QUIZ)
    instructions = models.TextField(blank=True, help_text="Shown before the learner starts.")
    max_score = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        default=Decimal("100"),
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Scores are scaled to this (e.g. 100 for percentages).",
    )
    passing_score = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        default=Decimal("60"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The score needed to pass, on the same scale as the max score.",
    )
    time_limit_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_TIME_LIMIT_MINUTES)],
        help_text="Empty: no limit.",
    )
    attempts_allowed = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Empty: unlimited."
    )
    shuffle_questions = models.BooleanField(default=False)
    shuffle_choices = models.BooleanField(default=False)
    show_answers = models.CharField(
        "show correct answers", max_length=20, choices=ShowAnswers.choices, default=ShowAnswers.AFTER_LAST
    )
    grade_policy = models.CharField(
        "gradebook counts", max_length=10, choices=GradePolicy.choices, default=GradePolicy.BEST
    )
    available_from = models.DateTimeField(null=True, blank=True)
    available_until = models.DateTimeField(null=True, blank=True)
    accepts_text = models.BooleanField(
        default=True, help_text="Assignments: the learner may write an answer."
    )
    accepts_file = models.BooleanField(default=True, help_text="Assignments: the learner may upload a file.")
    max_file_mb = models.PositiveSmallIntegerField(
        "largest file (MB)",
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SUBMISSION_MB)],
        help_text=f"Assignments: the largest file a learner may upload, at most {MAX_SUBMISSION_MB} MB.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(passing_score__lte=models.F("max_score")), name="assessments_pass_le_max"
            ),
            models.CheckConstraint(
                condition=models.Q(available_until__isnull=True)
                | models.Q(available_from__isnull=True)
                | models.Q(available_until__gt=models.F("available_from")),
                name="assessments_window_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.lesson.title

    @property
    def course_id(self) -> int:
        return self.lesson.module.course_id

    @property
    def is_assignment(self) -> bool:
        return self.kind == AssessmentKind.ASSIGNMENT

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    def clean(self) -> None:
        errors = {}
        if (
            self.max_score is not None
            and self.passing_score is not None
            and self.passing_score > self.max_score
        ):
            errors["passing_score"] = "The passing score cannot be higher than the max score."
        if self.available_from and self.available_until and self.available_until <= self.available_from:
            errors["available_until"] = "The window must end after it starts."
        lesson = getattr(self, "lesson", None) if self.lesson_id else None
        if lesson is not None:
            wanted = "assignment" if self.kind == AssessmentKind.ASSIGNMENT else "quiz"
            if lesson.kind != wanted:
                errors["lesson"] = (
                    f"A {self.get_kind_display().lower()} belongs to a lesson of kind '{wanted}'."
                )
        if self.kind == AssessmentKind.ASSIGNMENT and not (self.accepts_text or self.accepts_file):
            errors["accepts_text"] = "An assignment accepts text, a file, or both."
        if errors:
            raise ValidationError(errors)


class QuestionPool(models.Model):
    """A course's question bank: an assessment can draw N random questions from it."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="question_pools")
    title = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = "question bank"

    def __str__(self) -> str:
        return self.title


class PoolDraw(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="draws")
    pool = models.ForeignKey(
        QuestionPool, on_delete=models.CASCADE, related_name="draws", verbose_name="question bank"
    )
    count = models.PositiveSmallIntegerField(
        "draw", default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_QUESTIONS_PER_ATTEMPT)]
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assessment", "pool"], name="assessments_draw_once")]

    def __str__(self) -> str:
        return f"{self.count} from {self.pool}"

    def clean(self) -> None:
        if self.pool_id and self.assessment_id and self.pool.course_id != self.assessment.course_id:
            raise ValidationError({"pool": "Choose a question bank of this assessment's course."})


class QuestionKind(models.TextChoices):
    SINGLE = "single", "Single choice"
    MULTIPLE = "multiple", "Multiple choice"
    TRUE_FALSE = "true_false", "True / false"
    SHORT = "short", "Short answer"
    NUMERIC = "numeric", "Numeric"
    ESSAY = "essay", "Essay (graded by hand)"


CHOICE_KINDS = frozenset({QuestionKind.SINGLE, QuestionKind.MULTIPLE})


class Question(models.Model):
    """A question of one assessment, or of a question bank (exactly one of the two)."""

    assessment = models.ForeignKey(
        Assessment, null=True, blank=True, on_delete=models.CASCADE, related_name="questions"
    )
    pool = models.ForeignKey(
        QuestionPool,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name="question bank",
        help_text="Or put the question in a bank of this course (leave the assessment empty).",
    )
    kind = models.CharField(max_length=20, choices=QuestionKind.choices, default=QuestionKind.SINGLE)
    prompt = models.TextField()
    points = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1"), validators=[MinValueValidator(Decimal("0"))]
    )
    position = models.PositiveIntegerField(default=0)
    partial_credit = models.BooleanField(
        default=False,
        help_text="Multiple choice: each right choice earns its share, each wrong one costs one.",
    )
    correct_true = models.BooleanField("the statement is true", null=True, blank=True)
    accepted_answers = models.TextField(blank=True, help_text="Short answer: one accepted answer per line.")
    case_sensitive = models.BooleanField(default=False, help_text="Short answer: match letter case exactly.")
    numeric_answer = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    tolerance = models.DecimalField(
        max_digits=18,
        decimal_places=6,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Numeric: answers within ± this count as right.",
    )
    explanation = models.TextField(blank=True, help_text="Feedback shown when correct answers are shown.")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(assessment__isnull=True, pool__isnull=False)
                | models.Q(assessment__isnull=False, pool__isnull=True),
                name="assessments_question_in_one_place",
            )
        ]

    def __str__(self) -> str:
        return self.prompt[:80]

    @property
    def accepted(self) -> list[str]:
        return [line.strip() for line in self.accepted_answers.splitlines() if line.strip()]

    def clean(self) -> None:
        if (self.assessment_id is None) == (self.pool_id is None):
            raise ValidationError("A question belongs to an assessment or to a question bank, not both.")
        if self.kind == QuestionKind.TRUE_FALSE and self.correct_true is None:
            raise ValidationError({"correct_true": "Say whether the statement is true or false."})
        if self.kind == QuestionKind.SHORT and not self.accepted:
            raise ValidationError({"accepted_answers": "List at least one accepted answer."})
        if self.kind == QuestionKind.NUMERIC and self.numeric_answer is None:
            raise ValidationError({"numeric_answer": "Give the correct number."})


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(max_length=500)
    is_correct = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class RubricCriterion(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="rubric")
    title = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    points = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1"), validators=[MinValueValidator(Decimal("0"))]
    )
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "rubric criteria"

    def __str__(self) -> str:
        return self.title


class AttemptStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Waiting for grading"
    GRADED = "graded", "Graded"


class Attempt(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="attempts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=AttemptStatus.choices, default=AttemptStatus.IN_PROGRESS)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    #: the question set drawn at start: [{"id": question id, "choices": [choice ids in display order]}]
    questions = models.JSONField(default=list)
    score = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    text_answer = models.TextField(blank=True)
    #: the handed-in file: a ready media asset uploaded straight to S3 for this assignment
    asset = models.OneToOneField(
        MediaAsset, null=True, blank=True, on_delete=models.PROTECT, related_name="submission"
    )
    #: files handed in through the form before direct uploads (still downloadable)
    file = models.FileField(upload_to="assessments/submissions/", blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    rubric_scores = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "user", "number"], name="assessments_attempt_number"
            ),
            # Two tabs pressing "Start" at once open one attempt, not two.
            models.UniqueConstraint(
                fields=["assessment", "user"],
                condition=models.Q(status="in_progress"),
                name="assessments_one_open_attempt",
            ),
        ]
        indexes = [models.Index(fields=["assessment", "status"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.assessment} #{self.number}"

    @property
    def question_ids(self) -> list[int]:
        return [item["id"] for item in self.questions]


class AssignmentUpload(models.Model):
    """An upload the server issued for one learner's next submission to one assignment.

    Handing in accepts only an asset issued here for the same learner and assignment,
    once media_delivery has verified it (ready) and no other submission uses it.
    """

    asset = models.OneToOneField(
        MediaAsset, primary_key=True, on_delete=models.CASCADE, related_name="assignment_upload"
    )
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="uploads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["assessment", "user"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.assessment} · {self.asset_id}"


class Answer(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    response = models.JSONField(default=dict)
    saved_at = models.DateTimeField()
    correct = models.BooleanField(null=True, blank=True)
    points = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question"], name="assessments_answer_once")
        ]

    def __str__(self) -> str:
        return f"{self.attempt} · q{self.question_id}"


class CertificateSettings(models.Model):
    """Certificates of a course: off unless turned on here."""

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="certificate_settings")
    enabled = models.BooleanField("issue certificates", default=True)
    signature_name = models.CharField(
        max_length=200, blank=True, help_text="Printed under the signature line."
    )

    class Meta:
        verbose_name = "certificate settings"
        verbose_name_plural = "certificate settings"

    def __str__(self) -> str:
        return f"Certificates of {self.course}"


class Certificate(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certificates")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="certificates")
    code = models.CharField(max_length=32, unique=True)
    learner_name = models.CharField(max_length=200)
    course_title = models.CharField(max_length=200)
    issued_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=300, blank=True)
    file = models.FileField(upload_to="certificates/", blank=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"],
                condition=models.Q(revoked_at__isnull=True),
                name="assessments_one_valid_certificate",
            )
        ]

    def __str__(self) -> str:
        return f"{self.learner_name} · {self.course_title} ({self.code})"

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None
