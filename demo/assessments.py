"""A real quiz in one course of each demo tenant, and certificates on Acme's (issue #7).

The questions are data: `demo/content/<tenant>/quiz.toml`, read into the QuizSpec below.

Called by seed_demo inside the tenant's schema; safe to run again (a course that already
has an assessment is left alone).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from assessments.models import Assessment, CertificateSettings, Choice, Question, QuestionKind
from courses.models import Course, CourseStatus, Lesson, LessonKind
from courses.services import course_publish
from demo.content_files import LazyContent, build, load_toml
from demo.content_spec import CONTENT_DIR, TENANTS


@dataclass(frozen=True)
class ChoiceSpec:
    text: str
    correct: bool


@dataclass(frozen=True)
class QuestionSpec:
    """One question; the optional fields are those of assessments.models.Question for its kind."""

    kind: QuestionKind
    prompt: str
    choices: list[ChoiceSpec] = field(default_factory=list)
    partial_credit: bool | None = None
    correct_true: bool | None = None
    accepted_answers: list[str] | None = None
    numeric_answer: Decimal | None = None
    tolerance: Decimal | None = None

    def question_fields(self) -> dict:
        """The Question fields this spec sets (the model's defaults for the rest)."""
        extra = {
            "partial_credit": self.partial_credit,
            "correct_true": self.correct_true,
            "accepted_answers": None if self.accepted_answers is None else "\n".join(self.accepted_answers),
            "numeric_answer": self.numeric_answer,
            "tolerance": self.tolerance,
        }
        return {name: value for name, value in extra.items() if value is not None}


@dataclass(frozen=True)
class QuizSpec:
    course: str  # slug of a course in the tenant's catalog
    certificates: bool
    questions: list[QuestionSpec]


def quiz_load(folder: Path) -> QuizSpec:
    """The quiz of `folder`/quiz.toml, checked (ContentError names the file and field)."""
    path = folder / "quiz.toml"
    return build(QuizSpec, load_toml(path), path=path)


QUIZZES: Mapping[str, QuizSpec] = LazyContent(TENANTS, lambda slug: quiz_load(CONTENT_DIR / slug))


@transaction.atomic
def demo_quiz_ensure(tenant_slug: str, *, instructor) -> bool:
    """Add the tenant's demo quiz (and certificate setting) if missing; True when added now."""
    spec = QUIZZES.get(tenant_slug)
    course = Course.objects.filter(slug=spec.course, status=CourseStatus.PUBLISHED).first() if spec else None
    if spec is None or course is None or Assessment.objects.filter(lesson__module__course=course).exists():
        return False
    module = course.modules.alive().order_by("position").last()
    lesson = Lesson.objects.create(
        module=module,
        title="Quiz: check your understanding",
        kind=LessonKind.QUIZ,
        position=(module.lessons.count()),
        duration_minutes=10,
        body="Five minutes, a few questions. Pass with 60 % to complete this lesson.",
    )
    assessment = Assessment.objects.create(
        lesson=lesson,
        instructions="You have 10 minutes and three attempts. Your answers are saved as you go.",
        time_limit_minutes=10,
        attempts_allowed=3,
        passing_score=Decimal("60"),
        shuffle_choices=True,
    )
    for position, spec_question in enumerate(spec.questions):
        question = Question.objects.create(
            assessment=assessment,
            kind=spec_question.kind,
            prompt=spec_question.prompt,
            position=position,
            **spec_question.question_fields(),
        )
        for n, choice in enumerate(spec_question.choices):
            Choice.objects.create(question=question, text=choice.text, is_correct=choice.correct, position=n)
    if spec.certificates:
        CertificateSettings.objects.get_or_create(
            course=course, defaults={"signature_name": "Ada Instructor"}
        )
    course_publish(actor=instructor, course=course, summary="Added a quiz.")
    return True
