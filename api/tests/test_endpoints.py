"""The API's areas answer with the same rules as the pages: the door, the services, their refusals."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection

from accounts.models import AuditEntry, Invitation
from courses.models import Course, Lesson, Module
from courses.tests.factories import lessons_of, make_course
from enrollments.models import Enrollment, LessonProgress

from .conftest import api_client, make_key

pytestmark = pytest.mark.django_db


def _in(tenant, fn, *args, **kwargs):
    connection.set_tenant(tenant)
    try:
        return fn(*args, **kwargs)
    finally:
        connection.set_schema_to_public()


def _enroll(tenant, course, email):
    from enrollments.services import enrollment_create

    def go():
        user = get_user_model().objects.get(email=email)
        return enrollment_create(user=user, course=course)

    return _in(tenant, go)


# --- learning -----------------------------------------------------------------------------


def test_course_detail_lists_the_outline_with_locks_for_a_learner(tenant):
    course = _in(tenant, make_course, slug="api-outline", modules=2, lessons=2)
    learner = api_client(tenant, make_key(tenant, role="learner"))
    body = learner.get("/api/v1/courses/api-outline").json()
    assert [m["title"] for m in body["outline"]] == ["Module 1", "Module 2"]
    assert all(lesson["locked"] for m in body["outline"] for lesson in m["lessons"])
    assert body["can_enroll"] is True and body["enrollment"] is None
    _enroll(tenant, course, "learner@acme.test")
    body = learner.get("/api/v1/courses/api-outline").json()
    assert body["enrollment"]["status"] == "active"
    assert not any(lesson["locked"] for m in body["outline"] for lesson in m["lessons"])


def test_a_draft_or_unknown_course_is_404(tenant, admin_key):
    _in(tenant, make_course, slug="api-draft", publish=False)
    client = api_client(tenant, admin_key)
    assert client.get("/api/v1/courses/api-draft").status_code == 404
    assert client.get("/api/v1/courses/" + "x" * 500).status_code == 404


def test_the_catalog_pages_with_a_cursor(tenant, admin_key):
    for n in range(5):
        _in(tenant, make_course, slug=f"api-page-{n}", title=f"Paged {n}")
    client = api_client(tenant, admin_key)
    seen, cursor = [], None
    for _ in range(10):
        url = "/api/v1/courses?q=Paged&limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url).json()
        seen += [c["slug"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"api-page-{n}" for n in range(5)]


def test_a_lesson_is_403_with_the_reason_until_enrolled_then_opens_and_completes(tenant):
    course = _in(tenant, make_course, slug="api-lesson")
    lesson = _in(tenant, lessons_of, course)[0]
    learner = api_client(tenant, make_key(tenant, role="learner"))
    url = f"/api/v1/courses/api-lesson/lessons/{lesson.pk}"
    refused = learner.get(url)
    assert refused.status_code == 403
    assert refused.json()["code"] == "lesson_locked" and "Enroll" in refused.json()["detail"]
    assert learner.post("/api/v1/courses/api-lesson/enrollment").status_code == 201
    opened = learner.get(url).json()
    assert opened["title"] == lesson.title and "<p>" in opened["html"]
    done = learner.post(url + "/complete").json()
    assert done["status"] == "completed" and done["course_percent"] == 50
    assert _in(tenant, lambda: LessonProgress.objects.get(lesson=lesson).status) == "completed"


def test_a_lesson_id_of_another_course_or_tenant_is_404(tenant, other_tenant):
    _in(tenant, make_course, slug="api-mine")
    theirs = _in(other_tenant, make_course, slug="api-mine", lessons=5)
    other_lesson = _in(other_tenant, lessons_of, theirs)[-1]
    learner = api_client(tenant, make_key(tenant, role="learner"))
    assert learner.get(f"/api/v1/courses/api-mine/lessons/{other_lesson.pk}").status_code == 404
    assert learner.get("/api/v1/courses/api-mine/lessons/99999999").status_code == 404


def test_video_progress_refuses_impossible_numbers_and_changes_nothing(tenant):
    course = _in(tenant, make_course, slug="api-video")
    lesson = _in(tenant, lessons_of, course)[0]
    _enroll(tenant, course, "learner@acme.test")
    learner = api_client(tenant, make_key(tenant, role="learner"))
    url = f"/api/v1/courses/api-video/lessons/{lesson.pk}/video-progress"
    response = learner.post(
        url, {"position": -1, "duration": 10, "watched": 1}, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["field"] == "position"
    response = learner.post(url, {"position": "x"}, content_type="application/json")
    assert response.status_code == 422
    assert not _in(tenant, lambda: LessonProgress.objects.filter(lesson=lesson).exists())


def test_my_enrollments_lists_only_mine(tenant):
    course = _in(tenant, make_course, slug="api-mine-list")
    _enroll(tenant, course, "learner@acme.test")
    mine = api_client(tenant, make_key(tenant, role="learner")).get("/api/v1/me/enrollments").json()
    assert [e["course"] for e in mine["items"]] == ["api-mine-list"]
    others = api_client(tenant, make_key(tenant, role="instructor")).get("/api/v1/me/enrollments").json()
    assert others["items"] == []


# --- authoring ----------------------------------------------------------------------------


def test_an_instructor_builds_and_publishes_a_course_through_the_api(tenant):
    client = api_client(tenant, make_key(tenant, role="instructor"))
    course = client.post("/api/v1/authoring/courses", {"title": "API built"}, content_type="application/json")
    assert course.status_code == 201, course.content
    course_id = course.json()["id"]
    refused = client.post(
        f"/api/v1/authoring/courses/{course_id}/publish", {}, content_type="application/json"
    )
    assert refused.status_code == 400 and refused.json()["problems"]
    module = client.post(
        f"/api/v1/authoring/courses/{course_id}/modules", {"title": "Start"}, content_type="application/json"
    ).json()
    ids = []
    for title in ("One", "Two"):
        lesson = client.post(
            f"/api/v1/authoring/modules/{module['id']}/lessons",
            {"title": title, "body": f"Text {title}"},
            content_type="application/json",
        )
        assert lesson.status_code == 201, lesson.content
        ids.append(lesson.json()["id"])
    order = client.put(
        f"/api/v1/authoring/modules/{module['id']}/lesson-order",
        {"ids": ids[::-1]},
        content_type="application/json",
    )
    assert order.status_code == 200
    published = client.post(
        f"/api/v1/authoring/courses/{course_id}/publish", {"summary": "v1"}, content_type="application/json"
    )
    assert published.status_code == 201, published.content
    detail = client.get(f"/api/v1/courses/{course.json()['slug']}").json()
    assert [lesson["title"] for lesson in detail["outline"][0]["lessons"]] == ["Two", "One"]
    actions = _in(
        tenant,
        lambda: set(
            AuditEntry.objects.filter(actor_email="instructor@acme.test").values_list("action", flat=True)
        ),
    )
    assert {"course.created", "module.created", "lesson.created", "course.published"} <= actions


def test_a_learner_key_cannot_author_and_nothing_is_written(tenant):
    client = api_client(tenant, make_key(tenant, role="learner"))
    before = _in(tenant, Course.objects.count)
    response = client.post("/api/v1/authoring/courses", {"title": "Nope"}, content_type="application/json")
    assert response.status_code in (400, 403)
    assert _in(tenant, Course.objects.count) == before


def test_authoring_another_tenants_course_module_or_lesson_is_404(tenant, other_tenant):
    theirs = _in(other_tenant, make_course, slug="api-theirs", lessons=3, modules=3)
    module = _in(other_tenant, lambda: Module.objects.filter(course=theirs).last())
    lesson = _in(other_tenant, lambda: Lesson.objects.filter(module__course=theirs).last())
    client = api_client(tenant, make_key(tenant))
    patch = {"title": "Taken"}
    assert client.get(f"/api/v1/authoring/courses/{theirs.pk + 1000}").status_code == 404
    for url in (f"/api/v1/authoring/modules/{module.pk}", f"/api/v1/authoring/lessons/{lesson.pk}"):
        assert client.patch(url, patch, content_type="application/json").status_code == 404
    assert _in(other_tenant, lambda: Lesson.objects.get(pk=lesson.pk).title) != "Taken"


def test_an_assistant_sees_the_draft_but_may_not_change_it(tenant):
    from courses.models import CourseStaff, CourseStaffRole

    course = _in(tenant, make_course, slug="api-assist")

    def assist():
        user = get_user_model().objects.get(email="instructor@acme.test")
        CourseStaff.objects.create(course=course, user=user, role=CourseStaffRole.ASSISTANT)

    _in(tenant, assist)
    client = api_client(tenant, make_key(tenant, role="instructor"))
    assert client.get(f"/api/v1/authoring/courses/{course.pk}").status_code == 200
    response = client.patch(
        f"/api/v1/authoring/courses/{course.pk}", {"title": "Mine now"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert _in(tenant, lambda: Course.objects.get(pk=course.pk).title) != "Mine now"


# --- people -------------------------------------------------------------------------------


def test_an_admin_lists_people_changes_a_role_and_invites(tenant, admin_key):
    client = api_client(tenant, admin_key)
    people = client.get("/api/v1/people?role=learner").json()["items"]
    assert "learner@acme.test" in [p["email"] for p in people]
    learner_id = next(p["id"] for p in people if p["email"] == "learner@acme.test")
    changed = client.patch(
        f"/api/v1/people/{learner_id}", {"role": "instructor"}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["role"] == "instructor"
    sent = client.post("/api/v1/invitations", {"email": "new@acme.test"}, content_type="application/json")
    assert sent.status_code == 201 and sent.json()["state"] == "pending"
    assert _in(tenant, lambda: Invitation.objects.filter(email="new@acme.test").exists())
    assert isinstance(mail.outbox, list)


def test_people_endpoints_refuse_non_admins(tenant):
    client = api_client(tenant, make_key(tenant, role="instructor"))
    response = client.get("/api/v1/people")
    assert response.status_code == 403 and response.json()["code"] == "not_tenant_admin"


def test_the_last_admin_cannot_be_demoted_through_the_api(tenant, admin_key):
    client = api_client(tenant, admin_key)
    admin_id = _in(tenant, lambda: get_user_model().objects.get(email="admin@acme.test").pk)
    response = client.patch(
        f"/api/v1/people/{admin_id}", {"role": "learner"}, content_type="application/json"
    )
    assert response.status_code == 400 and "last" in response.json()["detail"]
    assert _in(tenant, lambda: get_user_model().objects.get(pk=admin_id).role) == "admin"


def test_a_person_of_another_tenant_is_404(tenant, other_tenant, admin_key):
    extra_id = _in(other_tenant, lambda: get_user_model().objects.get(email="extra4@globex.test").pk)
    response = api_client(tenant, admin_key).patch(
        f"/api/v1/people/{extra_id}", {"role": "admin"}, content_type="application/json"
    )
    assert response.status_code == 404
    assert _in(other_tenant, lambda: get_user_model().objects.get(pk=extra_id).role) == "learner"
    assert _in(tenant, lambda: Enrollment.objects.count()) >= 0


# --- analytics ----------------------------------------------------------------------------


def test_course_staff_read_a_report_and_learners_get_404(tenant, admin_key):
    course = _in(tenant, make_course, slug="api-report")
    report = api_client(tenant, admin_key).get(f"/api/v1/analytics/courses/{course.pk}")
    assert report.status_code == 200, report.content
    body = report.json()
    assert len(body["daily"]["days"]) == 30 and [r["title"] for r in body["lessons"]][:1] == ["Lesson 1.1"]
    learner = api_client(tenant, make_key(tenant, role="learner"))
    assert learner.get(f"/api/v1/analytics/courses/{course.pk}").status_code == 404
    bad = api_client(tenant, admin_key).get(
        f"/api/v1/analytics/courses/{course.pk}?start=2026-05-01&end=2026-01-01"
    )
    assert bad.status_code == 400 and bad.json()["field"] == "start"


def test_an_admin_lists_revisions_and_restores_one(tenant, admin_key):
    course = _in(tenant, make_course, slug="api-revisions")
    client = api_client(tenant, admin_key)
    client.patch(
        f"/api/v1/authoring/courses/{course.pk}", {"title": "Renamed"}, content_type="application/json"
    )
    client.post(
        f"/api/v1/authoring/courses/{course.pk}/publish", {"summary": "v2"}, content_type="application/json"
    )
    revisions = client.get(f"/api/v1/authoring/courses/{course.pk}/revisions").json()
    assert len(revisions) == 2 and revisions[0]["is_published"]
    restored = client.post(f"/api/v1/authoring/courses/{course.pk}/revisions/{revisions[-1]['id']}/restore")
    assert restored.status_code == 200, restored.content
    assert restored.json()["title"] != "Renamed"
    other = client.post(f"/api/v1/authoring/courses/{course.pk}/revisions/99999999/restore")
    assert other.status_code == 404


def test_a_lesson_patch_with_a_stale_version_is_409_and_changes_nothing(tenant, admin_key):
    course = _in(tenant, make_course, slug="api-versions", modules=1, lessons=1)
    lesson = _in(tenant, lambda: Lesson.objects.get(module__course=course))
    client = api_client(tenant, admin_key)
    url = f"/api/v1/authoring/lessons/{lesson.pk}"
    first = client.patch(url, {"title": "First", "version": 1}, content_type="application/json")
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.patch(url, {"title": "Second", "version": 1}, content_type="application/json")
    assert stale.status_code == 409
    assert stale.json()["code"] == "lesson_changed" and stale.json()["field"] == "version"
    assert _in(tenant, lambda: Lesson.objects.values_list("title", "version").get(pk=lesson.pk)) == (
        "First",
        2,
    )
    # Without a version the patch applies as before.
    assert client.patch(url, {"title": "Third"}, content_type="application/json").json()["version"] == 3
