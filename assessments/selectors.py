"""Reads for assessment pages: the assessment of a lesson, a learner's attempts, the gradebook."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from courses.models import Course
from courses.selectors import outline_for
from enrollments.access import courses_for_grading
from enrollments.models import Enrollment, EnrollmentStatus
from tenants.replica import reading_from_default, replica_read

from .models import (
    CHOICE_KINDS,
    Answer,
    Assessment,
    Attempt,
    AttemptStatus,
    Certificate,
    CertificateSettings,
    Choice,
    GradePolicy,
    Question,
    ShowAnswers,
)


def attempts_of(*, user, assessment: Assessment) -> list[Attempt]:
    return list(Attempt.objects.filter(user_id=user.pk, assessment=assessment).order_by("number"))


def answers_visible(attempt: Attempt, attempts: list[Attempt]) -> bool:
    """Whether the settings let the learner see correct answers and feedback for this attempt."""
    assessment = attempt.assessment
    if attempt.status != AttemptStatus.GRADED or assessment.show_answers == ShowAnswers.NEVER:
        return False
    if assessment.show_answers == ShowAnswers.AFTER_EACH:
        return True
    out_of_attempts = assessment.attempts_allowed is not None and len(attempts) >= assessment.attempts_allowed
    return any(a.passed for a in attempts) or out_of_attempts


@dataclass
class Item:
    number: int
    question: Question
    choices: list[Choice]
    response: dict
    answer: Answer | None
    correct_ids: set[int]


def attempt_items(attempt: Attempt) -> list[Item]:
    """The attempt's questions in the order drawn, with choices in their drawn order and the saved answers."""
    ids = attempt.question_ids
    questions = {q.pk: q for q in Question.objects.filter(pk__in=ids)}
    choices = {c.pk: c for c in Choice.objects.filter(question_id__in=ids)}
    answers = {a.question_id: a for a in attempt.answers.all()}
    items: list[Item] = []
    for item in attempt.questions:
        question = questions.get(item["id"])
        if question is None:
            continue
        ordered = [choices[c] for c in item["choices"] if c in choices]
        answer = answers.get(question.pk)
        items.append(
            Item(
                number=len(items) + 1,
                question=question,
                choices=ordered if question.kind in CHOICE_KINDS else [],
                response=answer.response if answer else {},
                answer=answer,
                correct_ids={c.pk for c in ordered if c.is_correct},
            )
        )
    return items


def grading_queue(*, user) -> list[Attempt]:
    """Submissions waiting for a person, in the courses this user may grade, oldest first."""
    courses = courses_for_grading(user).alive()
    return list(
        Attempt.objects.filter(status=AttemptStatus.SUBMITTED, assessment__lesson__module__course__in=courses)
        .select_related("user", "assessment__lesson__module__course")
        .order_by("submitted_at")
    )


@dataclass
class Gradebook:
    assessments: list[Assessment]
    rows: list[tuple]  # (user, [Attempt | None per assessment])


@replica_read
def gradebook(*, course: Course) -> Gradebook:
    """Learners x assessments: the attempt that counts (best or last graded, per assessment).

    A report: read from the streaming replica when there is one (tenants/replica.py)."""
    with reading_from_default():
        outline = outline_for(course)
    order = {lesson.id: lesson.index for lesson in outline.lessons}
    assessments = sorted(
        Assessment.objects.filter(lesson_id__in=order).select_related("lesson"),
        key=lambda a: order[a.lesson_id],
    )
    enrollments = (
        Enrollment.objects.filter(course=course)
        .exclude(status__in=[EnrollmentStatus.PENDING, EnrollmentStatus.REJECTED])
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    graded = Attempt.objects.filter(assessment__in=assessments).filter(
        Q(status=AttemptStatus.GRADED) | Q(status=AttemptStatus.SUBMITTED)
    )
    by_key: dict[tuple[int, int], list[Attempt]] = {}
    for attempt in graded.order_by("number"):
        by_key.setdefault((attempt.user_id, attempt.assessment_id), []).append(attempt)
    rows = []
    for enrollment in enrollments:
        cells = []
        for assessment in assessments:
            attempts = by_key.get((enrollment.user_id, assessment.pk), [])
            done = [a for a in attempts if a.status == AttemptStatus.GRADED]
            if not done:
                cells.append(attempts[-1] if attempts else None)
            elif assessment.grade_policy == GradePolicy.LAST:
                cells.append(done[-1])
            else:
                cells.append(max(done, key=lambda a: (a.score, a.number)))
        rows.append((enrollment.user, cells))
    return Gradebook(assessments, rows)


def course_certificate(*, user, course: Course) -> dict:
    """{"certificates": whether the course awards one, "certificate": the learner's valid one or None}.

    Issuing runs after the enrollment completes (a Celery task), so a learner who has just
    finished may see certificates=True and certificate=None for a moment: "being prepared".
    """
    enabled = CertificateSettings.objects.filter(course=course, enabled=True).exists()
    certificate = (
        Certificate.objects.filter(user_id=user.pk, course=course, revoked_at__isnull=True).first()
        if enabled
        else None
    )
    return {"certificates": enabled, "certificate": certificate}
