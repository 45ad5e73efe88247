"""Build courses with quizzes and assignments for tests: call inside a tenant."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model

from courses.models import Course, Lesson, LessonKind, Module
from courses.services import course_publish

from ..models import Assessment, AssessmentKind, Choice, Question, QuestionKind


def add_question(assessment=None, *, pool=None, kind=QuestionKind.SINGLE, points="1", choices=(), **fields):
    """choices: [(text, is_correct), ...]"""
    question = Question.objects.create(
        assessment=assessment,
        pool=pool,
        kind=kind,
        prompt=fields.pop("prompt", f"A {kind} question?"),
        points=Decimal(points),
        position=fields.pop("position", 0),
        **fields,
    )
    for n, (text, right) in enumerate(choices):
        Choice.objects.create(question=question, text=text, is_correct=right, position=n)
    return question


def standard_questions(assessment) -> list[Question]:
    """One of each auto-graded kind, one point each: single, multiple, true/false, short, numeric."""
    return [
        add_question(
            assessment, prompt="2 + 2?", choices=[("3", False), ("4", True), ("5", False)], position=1
        ),
        add_question(
            assessment,
            kind=QuestionKind.MULTIPLE,
            prompt="Primes?",
            choices=[("2", True), ("3", True), ("4", False)],
            position=2,
        ),
        add_question(
            assessment, kind=QuestionKind.TRUE_FALSE, prompt="Water is wet.", correct_true=True, position=3
        ),
        add_question(
            assessment,
            kind=QuestionKind.SHORT,
            prompt="Capital of France?",
            accepted_answers="Paris",
            position=4,
        ),
        add_question(
            assessment,
            kind=QuestionKind.NUMERIC,
            prompt="Pi to two places?",
            numeric_answer=Decimal("3.14"),
            tolerance=Decimal("0.01"),
            position=5,
        ),
    ]


def make_assessed_course(
    *,
    slug: str = "assessed",
    kind: str = AssessmentKind.QUIZ,
    questions: bool = True,
    publish: bool = True,
    text_lessons: int = 1,
    **settings,
) -> tuple[Course, Lesson, Assessment]:
    """A course with `text_lessons` text lessons and then one quiz (or assignment) lesson."""
    course = Course.objects.create(title=slug.replace("-", " ").title(), slug=slug)
    module = Module.objects.create(course=course, title="Module 1", position=0)
    for n in range(text_lessons):
        Lesson.objects.create(
            module=module, title=f"Reading {n + 1}", kind=LessonKind.TEXT, body="Read.", position=n
        )
    lesson_kind = LessonKind.ASSIGNMENT if kind == AssessmentKind.ASSIGNMENT else LessonKind.QUIZ
    lesson = Lesson.objects.create(
        module=module,
        title="Final " + kind,
        kind=lesson_kind,
        body="Show what you know.",
        position=text_lessons,
    )
    assessment = Assessment.objects.create(lesson=lesson, kind=kind, **settings)
    if questions and kind != AssessmentKind.ASSIGNMENT:
        standard_questions(assessment)
    if publish:
        admin = get_user_model().objects.filter(role="admin").first()
        course_publish(actor=admin, course=course)
        course.refresh_from_db()
    return course, lesson, assessment


RIGHT_ANSWERS = "right"


def answers_for(assessment, *, right: bool = True) -> dict:
    """Responses to the standard questions, all right or all wrong."""
    out = {}
    for q in assessment.questions.all():
        correct = [c.pk for c in q.choices.all() if c.is_correct]
        wrong = [c.pk for c in q.choices.all() if not c.is_correct]
        if q.kind == QuestionKind.SINGLE:
            out[q.pk] = {"choice": correct[0] if right else wrong[0]}
        elif q.kind == QuestionKind.MULTIPLE:
            out[q.pk] = {"choices": correct if right else wrong}
        elif q.kind == QuestionKind.TRUE_FALSE:
            out[q.pk] = {"value": q.correct_true if right else not q.correct_true}
        elif q.kind == QuestionKind.SHORT:
            out[q.pk] = {"text": q.accepted[0] if right else "nope"}
        elif q.kind == QuestionKind.NUMERIC:
            out[q.pk] = {"value": str(q.numeric_answer) if right else "99"}
        elif q.kind == QuestionKind.ESSAY:
            out[q.pk] = {"text": "My essay."}
    return out
