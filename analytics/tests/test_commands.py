"""analytics_status and rebuild_reports."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from analytics.consumer import Consumer
from analytics.ingest import track
from analytics.models import CourseDay, LearnerCourse, LessonLearner
from courses.tests.factories import lessons_of, make_course
from enrollments.services import enrollment_create, lesson_complete


def test_analytics_status_reports_lag_pending_dead_and_age(streams, in_tenant):
    track("enrollment.created", user_id=1, payload={"course_id": 5})
    track("enrollment.created", user_id=2, payload={"course_id": 5})
    out = StringIO()
    call_command("analytics_status", stdout=out)
    text = out.getvalue()
    assert "oldest unprocessed event:" in text and "none (all caught up)" not in text
    assert any(
        line.split()[1:4] == ["2", "2", "0"] for line in text.splitlines() if line.startswith("events:")
    )
    Consumer(name="s").drain(seconds=5)
    out = StringIO()
    call_command("analytics_status", stdout=out)
    assert "none (all caught up)" in out.getvalue() and "dead-lettered: 0" in out.getvalue()


def test_rebuild_reports_recomputes_from_enrollments_and_progress(streams, tenant, other_tenant):
    with schema_context(tenant.schema_name):
        learner = get_user_model().objects.get(email="learner@acme.test")
        course = make_course(slug="rebuilt", lessons=2)
        enrollment_create(user=learner, course=course)
        first = lessons_of(course)[0]
        lesson_complete(user=learner, course=course, lesson_id=first.pk)
        CourseDay.objects.create(course_id=course.pk, day="2020-01-01", new_enrollments=99)
    with schema_context(other_tenant.schema_name):
        CourseDay.objects.create(course_id=course.pk, day="2020-01-01", new_enrollments=7)
    out = StringIO()
    call_command("rebuild_reports", "--schema", "acme", stdout=out)
    assert "acme: reports rebuilt" in out.getvalue()
    with schema_context(tenant.schema_name):
        days = CourseDay.objects.filter(course_id=course.pk)
        assert sum(d.new_enrollments for d in days) == 1
        assert sum(d.lesson_completions for d in days) == 1
        assert LessonLearner.objects.get(lesson_id=first.pk).completed
        assert LearnerCourse.objects.filter(course_id=course.pk, user_id=learner.pk).exists()
    with schema_context(other_tenant.schema_name):  # the other tenant was not touched
        assert CourseDay.objects.get(course_id=course.pk).new_enrollments == 7


def test_rebuild_reports_refuses_an_unknown_tenant(db):
    with pytest.raises(CommandError, match="No tenant 'nope'"):
        call_command("rebuild_reports", "--schema", "nope")
