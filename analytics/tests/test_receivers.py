"""Assessments' signals (sent after its transactions commit) reach the reports as events."""

import json

from analytics.consumer import Consumer
from analytics.ingest import stream_for
from analytics.models import CourseDay, QuestionStat
from assessments import signals

GRADED = {
    "course_id": 301,
    "lesson_id": 302,
    "assessment_id": 303,
    "attempt_id": 304,
    "score": 1.0,
    "max_score": 2.0,
    "passed": False,
    "questions": [
        {"question_id": 305, "correct": True, "points": 1, "max_points": 1},
        {"question_id": 306, "correct": False, "points": 0, "max_points": 1},
    ],
}


def test_quiz_and_certificate_signals_become_events_and_reach_the_reports(
    streams, in_tenant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        attempt = {k: GRADED[k] for k in ("course_id", "lesson_id", "assessment_id", "attempt_id")}
        signals.send_on_commit(signals.quiz_submitted, sender=None, user_id=21, **attempt)
        signals.send_on_commit(signals.quiz_graded, sender=None, user_id=21, **GRADED)
        signals.send_on_commit(
            signals.certificate_issued, sender=None, user_id=21, course_id=301, certificate_id=9
        )
    entries = [json.loads(f[b"e"]) for _, f in streams.xrange(stream_for(str(in_tenant.uuid)))]
    assert [e["type"] for e in entries] == ["quiz.submitted", "quiz.graded", "certificate.issued"]
    assert {e["tenant"] for e in entries} == {str(in_tenant.uuid)} and {e["user"] for e in entries} == {21}
    assert entries[1]["payload"]["questions"][1] == {
        "question_id": 306,
        "correct": False,
        "points": 0,
        "max_points": 1,
    }
    Consumer(name="receivers").drain(seconds=5)
    assert CourseDay.objects.get(course_id=301).quiz_attempts == 1
    assert dict(QuestionStat.objects.filter(assessment_id=303).values_list("question_id", "correct")) == {
        305: 1,
        306: 0,
    }
