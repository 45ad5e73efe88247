"""A real quiz in one course of each demo tenant, and certificates on Acme's (issue #7).

Called by seed_demo inside the tenant's schema; safe to run again (a course that already
has an assessment is left alone).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from assessments.models import Assessment, CertificateSettings, Choice, Question, QuestionKind
from courses.models import Course, CourseStatus, Lesson, LessonKind
from courses.services import course_publish

QUIZZES = {
    "acme": {
        "course": "spreadsheet-skills",
        "certificates": True,
        "questions": [
            (
                QuestionKind.SINGLE,
                "Which function adds up a range of cells?",
                {"choices": [("SUM", True), ("COUNT", False), ("AVERAGE", False)]},
            ),
            (
                QuestionKind.MULTIPLE,
                "Which of these are cell references?",
                {"choices": [("A1", True), ("$B$2", True), ("Total", False)], "partial_credit": True},
            ),
            (
                QuestionKind.TRUE_FALSE,
                "An absolute reference keeps pointing at the same cell when you copy the formula.",
                {"correct_true": True},
            ),
            (
                QuestionKind.SHORT,
                "Which function looks a value up in the first column of a table?",
                {"accepted_answers": "VLOOKUP\nXLOOKUP"},
            ),
            (
                QuestionKind.NUMERIC,
                "What does =ROUND(2.675, 1) show?",
                {"numeric_answer": Decimal("2.7"), "tolerance": Decimal("0")},
            ),
        ],
    },
    "globex": {
        "course": "data-privacy-basics",
        "certificates": False,
        "questions": [
            (
                QuestionKind.SINGLE,
                "A customer asks for a copy of their data. What do you do first?",
                {
                    "choices": [
                        ("Verify who they are", True),
                        ("E-mail the export at once", False),
                        ("Ignore it", False),
                    ]
                },
            ),
            (
                QuestionKind.TRUE_FALSE,
                "Personal data may be kept for as long as it might be useful some day.",
                {"correct_true": False},
            ),
            (
                QuestionKind.MULTIPLE,
                "Which of these are personal data?",
                {
                    "choices": [
                        ("An e-mail address", True),
                        ("An IP address", True),
                        ("The office's opening hours", False),
                    ],
                    "partial_credit": True,
                },
            ),
            (
                QuestionKind.NUMERIC,
                "How many days do you have to answer a subject access request (one month)?",
                {"numeric_answer": Decimal("30"), "tolerance": Decimal("1")},
            ),
        ],
    },
}


@transaction.atomic
def demo_quiz_ensure(tenant_slug: str, *, instructor) -> bool:
    """Add the tenant's demo quiz (and certificate setting) if missing; True when added now."""
    spec = QUIZZES.get(tenant_slug)
    course = (
        Course.objects.filter(slug=spec["course"], status=CourseStatus.PUBLISHED).first() if spec else None
    )
    if course is None or Assessment.objects.filter(lesson__module__course=course).exists():
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
    for position, (kind, prompt, extra) in enumerate(spec["questions"]):
        extra = dict(extra)
        choices = extra.pop("choices", [])
        question = Question.objects.create(
            assessment=assessment, kind=kind, prompt=prompt, position=position, **extra
        )
        for n, (text, right) in enumerate(choices):
            Choice.objects.create(question=question, text=text, is_correct=right, position=n)
    if spec["certificates"]:
        CertificateSettings.objects.get_or_create(
            course=course, defaults={"signature_name": "Ada Instructor"}
        )
    course_publish(actor=instructor, course=course, summary="Added a quiz.")
    return True
