"""Quizzes and certificates through the API: the lesson door first, then the caller's own attempts."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from assessments.models import Answer, Attempt
from assessments.tests.factories import answers_for, make_assessed_course

from .conftest import api_client, make_key

pytestmark = pytest.mark.django_db


def _in(tenant, fn, *args, **kwargs):
    connection.set_tenant(tenant)
    try:
        return fn(*args, **kwargs)
    finally:
        connection.set_schema_to_public()


def _enrolled_quiz(tenant, slug="api-quiz", **settings):
    from enrollments.services import enrollment_create

    def go():
        course, lesson, assessment = make_assessed_course(slug=slug, text_lessons=0, **settings)
        enrollment_create(user=get_user_model().objects.get(email="learner@acme.test"), course=course)
        return course, lesson, assessment, {str(k): v for k, v in answers_for(assessment).items()}

    return _in(tenant, go)


def test_a_learner_takes_a_quiz_start_to_result(tenant):
    course, lesson, _assessment, right = _enrolled_quiz(tenant)
    client = api_client(tenant, make_key(tenant, role="learner"))
    quiz = client.get(f"/api/v1/courses/{course.slug}/lessons/{lesson.pk}/quiz")
    assert quiz.status_code == 200 and quiz.json()["attempts"] == []
    started = client.post(f"/api/v1/courses/{course.slug}/lessons/{lesson.pk}/attempts")
    assert started.status_code == 201, started.content
    attempt = started.json()
    assert attempt["status"] == "in_progress"
    assert all(c["is_correct"] is None for q in attempt["questions"] for c in q["choices"])
    saved = client.put(
        f"/api/v1/courses/{course.slug}/attempts/{attempt['id']}/answers",
        {"answers": right},
        content_type="application/json",
    )
    assert saved.status_code == 200, saved.content
    result = client.post(f"/api/v1/courses/{course.slug}/attempts/{attempt['id']}/submit").json()
    assert result["status"] in ("graded", "submitted")
    again = client.post(f"/api/v1/courses/{course.slug}/attempts/{attempt['id']}/submit").json()
    assert again["score"] == result["score"]
    closed = client.put(
        f"/api/v1/courses/{course.slug}/attempts/{attempt['id']}/answers",
        {"answers": right},
        content_type="application/json",
    )
    assert closed.status_code == 409


def test_a_bad_answer_is_reported_and_the_others_are_saved(tenant):
    course, lesson, _assessment, right = _enrolled_quiz(tenant, slug="api-quiz-bad")
    client = api_client(tenant, make_key(tenant, role="learner"))
    attempt = client.post(f"/api/v1/courses/{course.slug}/lessons/{lesson.pk}/attempts").json()
    first, *rest = list(right)
    answers = {first: {"choice": "not a choice"}, **{k: right[k] for k in rest}}
    response = client.put(
        f"/api/v1/courses/{course.slug}/attempts/{attempt['id']}/answers",
        {"answers": answers},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert first in response.json()["answer_errors"]
    stored = _in(
        tenant,
        lambda: set(Answer.objects.filter(attempt_id=attempt["id"]).values_list("question_id", flat=True)),
    )
    assert int(first) not in stored and len(stored) == len(rest)


def test_someone_elses_attempt_is_404(tenant):
    course, lesson, _assessment, right = _enrolled_quiz(tenant, slug="api-quiz-own")
    learner = api_client(tenant, make_key(tenant, role="learner"))
    attempt = learner.post(f"/api/v1/courses/{course.slug}/lessons/{lesson.pk}/attempts").json()
    other = api_client(tenant, make_key(tenant, role="instructor"))
    assert other.get(f"/api/v1/courses/{course.slug}/attempts/{attempt['id']}").status_code == 404
    response = other.put(
        f"/api/v1/courses/{course.slug}/attempts/{attempt['id']}/answers",
        {"answers": right},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not _in(tenant, lambda: Answer.objects.filter(attempt_id=attempt["id"]).exists())


def test_a_quiz_of_an_unenrolled_learner_is_403_and_starts_nothing(tenant):
    def go():
        return make_assessed_course(slug="api-quiz-closed", text_lessons=0)

    course, lesson, _ = _in(tenant, go)
    client = api_client(tenant, make_key(tenant, role="learner"))
    response = client.post(f"/api/v1/courses/{course.slug}/lessons/{lesson.pk}/attempts")
    assert response.status_code == 403 and response.json()["detail"]
    assert not _in(tenant, lambda: Attempt.objects.filter(assessment__lesson=lesson).exists())


def test_verify_is_public_and_unknown_codes_are_404(tenant):
    response = api_client(tenant).get("/api/v1/certificates/NOPE-1234/verify")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_my_certificates_needs_credentials(tenant):
    assert api_client(tenant).get("/api/v1/me/certificates").status_code == 401
    assert api_client(tenant, make_key(tenant, role="learner")).get("/api/v1/me/certificates").json() == []


def test_an_assignment_is_uploaded_straight_to_storage_and_handed_in(tenant):
    import urllib.request

    from assessments.models import AssessmentKind
    from enrollments.services import enrollment_create
    from media_delivery.models import MediaAsset

    def go():
        course, lesson, _ = make_assessed_course(
            slug="api-assignment", kind=AssessmentKind.ASSIGNMENT, text_lessons=0
        )
        enrollment_create(user=get_user_model().objects.get(email="learner@acme.test"), course=course)
        return course, lesson

    course, lesson = _in(tenant, go)
    client = api_client(tenant, make_key(tenant, role="learner"))
    base = f"/api/v1/courses/{course.slug}/lessons/{lesson.pk}"
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    ticket = client.post(
        f"{base}/uploads",
        {"filename": "essay.pdf", "content_type": "application/pdf", "size": len(pdf)},
        content_type="application/json",
    )
    assert ticket.status_code == 201, ticket.content
    ticket = ticket.json()
    boundary = "----apitest"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in ticket["fields"].items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="essay.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + pdf
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(  # noqa: S310 - the test's own S3 server
        ticket["url"], data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - the test's own S3 server
        assert answer.status in (200, 201, 204)
    finished = client.post(f"{base}/uploads/{ticket['asset']}/finish")
    assert finished.status_code == 200 and finished.json()["status"] == "ready", finished.content
    handed = client.post(f"{base}/submission", {"asset": ticket["asset"]}, content_type="application/json")
    assert handed.status_code == 201 and handed.json()["status"] == "submitted", handed.content
    # Another learner's key cannot finish or hand in this upload.
    other = api_client(tenant, make_key(tenant, role="instructor"))
    assert other.post(f"{base}/uploads/{ticket['asset']}/finish").status_code in (403, 404)

    def cleanup():
        from django.core.files.storage import default_storage

        for asset in MediaAsset.objects.filter(pk=ticket["asset"]):
            default_storage.delete(asset.key.removeprefix(f"t/{tenant.uuid}/"))

    _in(tenant, cleanup)
