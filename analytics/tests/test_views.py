"""The browser beacon and the dashboards: who may use them, what bad input gets, what they show."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client

from analytics.consumer import Consumer
from analytics.ingest import stream_for, track
from analytics.views import BEACON_PER_MINUTE
from courses.tests.factories import lessons_of, make_course
from enrollments.services import enrollment_create
from tests.fixtures import client_for, host_of

User = get_user_model()


@pytest.fixture
def course(in_tenant):
    course = make_course(slug="measured", lessons=3)
    enrollment_create(user=User.objects.get(email="learner@acme.test"), course=course)
    return course


def _progress(course, lesson, **extra) -> dict:
    return {
        "type": "video.progress",
        "course_id": course.pk,
        "lesson_id": lesson.pk,
        "position": 30,
        "duration": 120,
        "seconds_watched": 15,
        **extra,
    }


def _post(client, events, **kwargs):
    return client.post("/analytics/beacon/", {"events": json.dumps(events)}, **kwargs)


def _stream(streams, tenant) -> list[dict]:
    return [json.loads(f[b"e"]) for _, f in streams.xrange(stream_for(str(tenant.uuid)))]


def test_beacon_accepts_a_batch_as_the_signed_in_learner(streams, course, tenant):
    lesson = lessons_of(course)[0]
    client = client_for(tenant, as_role="learner")
    response = _post(
        client,
        [
            _progress(course, lesson),
            {"type": "lesson.viewed", "course_id": course.pk, "lesson_id": lesson.pk},
        ],
    )
    assert response.status_code == 202 and response.json() == {"accepted": 2, "ignored": 0}
    events = _stream(streams, tenant)
    learner = User.objects.get(email="learner@acme.test")
    assert [e["type"] for e in events] == ["video.progress", "lesson.viewed"]
    assert {e["user"] for e in events} == {learner.pk} and {e["schema"] for e in events} == {"acme"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "must be JSON"),
        (json.dumps([]), "non-empty list"),
        (json.dumps([{"type": "enrollment.created", "course_id": 1}]), "'type' must be one of"),
        (json.dumps([{"type": "lesson.viewed", "course_id": 1}]), "lacks fields"),
        (
            json.dumps([{"type": "lesson.viewed", "course_id": 1, "lesson_id": 2, "user_id": 1}]),
            "unknown fields",
        ),
        (json.dumps([{"type": "lesson.viewed", "course_id": 1, "lesson_id": 2}] * 21), "At most 20"),
    ],
)
def test_beacon_refuses_bad_batches_whole(streams, course, tenant, body, message):
    client = client_for(tenant, as_role="learner")
    response = client.post("/analytics/beacon/", {"events": body})
    assert response.status_code == 400 and message in response.json()["error"]
    assert _stream(streams, tenant) == []


def test_beacon_needs_sign_in_csrf_and_post_and_limits_size_and_rate(streams, course, tenant):
    lesson = lessons_of(course)[0]
    assert _post(client_for(tenant), [_progress(course, lesson)]).status_code == 403
    assert client_for(tenant, as_role="learner").get("/analytics/beacon/").status_code == 405
    strict = Client(HTTP_HOST=host_of(tenant), enforce_csrf_checks=True)
    strict.force_login(User.objects.get(email="learner@acme.test"))
    assert _post(strict, [_progress(course, lesson)]).status_code == 403  # no CSRF token
    client = client_for(tenant, as_role="learner")
    huge = client.post("/analytics/beacon/", {"events": "x" * 9000})
    assert huge.status_code == 413
    cache.clear()
    statuses = [_post(client, [_progress(course, lesson)]).status_code for _ in range(BEACON_PER_MINUTE + 1)]
    assert statuses[:BEACON_PER_MINUTE] == [202] * BEACON_PER_MINUTE and statuses[-1] == 429
    assert len(_stream(streams, tenant)) == BEACON_PER_MINUTE
    cache.clear()


def test_beacon_ignores_courses_the_person_is_not_enrolled_in(streams, course, tenant):
    other = make_course(slug="not-mine", lessons=1)
    client = client_for(tenant, as_role="learner")
    response = _post(
        client, [_progress(other, lessons_of(other)[0]), _progress(course, lessons_of(other)[0])]
    )
    assert response.status_code == 202 and response.json() == {"accepted": 0, "ignored": 2}
    assert _stream(streams, tenant) == []


def test_course_dashboard_is_for_the_courses_staff_only(course, tenant):
    url = f"/analytics/courses/{course.pk}/"
    assert client_for(tenant, as_role="learner").get(url).status_code == 404
    assert client_for(tenant, as_role="instructor").get(url).status_code == 404  # not one of its teachers
    assert client_for(tenant, as_role="learner").get("/analytics/").status_code == 404
    anonymous = client_for(tenant).get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    course.instructors.add(User.objects.get(email="instructor@acme.test"))
    instructor = client_for(tenant, as_role="instructor")
    assert instructor.get(url).status_code == 200
    index = instructor.get("/analytics/")
    assert index.status_code == 200 and course.title in index.content.decode()


def test_course_dashboard_shows_reports_empty_states_and_csv(streams, course, tenant):
    client = client_for(tenant, as_role="admin")
    empty = client.get(f"/analytics/courses/{course.pk}/").content.decode()
    assert "No activity in this period yet" in empty and "No graded quiz attempts yet" in empty
    learner = User.objects.get(email="learner@acme.test")
    first = lessons_of(course)[0]
    for lesson in lessons_of(course)[:2]:
        track("lesson.viewed", user_id=learner.pk, payload={"course_id": course.pk, "lesson_id": lesson.pk})
    track("lesson.completed", user_id=learner.pk, payload={"course_id": course.pk, "lesson_id": first.pk})
    track("enrollment.created", user_id=learner.pk, payload={"course_id": course.pk})
    Consumer(name="views").drain(seconds=5)
    page = client.get(f"/analytics/courses/{course.pk}/")
    body = page.content.decode()
    assert (
        page.status_code == 200 and 'id="timeline-chart"' in body and "vendor/chart/chart.umd.min.js" in body
    )
    assert "No activity in this period yet" not in body
    today = datetime.now(UTC).date().isoformat()
    daily = client.get(f"/analytics/courses/{course.pk}/?export=daily")
    assert daily["Content-Type"].startswith("text/csv")
    rows = daily.content.decode().splitlines()
    assert rows[0].startswith("day,active learners") and f"{today},1,1,1,0,0.0" in rows
    lessons = client.get(f"/analytics/courses/{course.pk}/?export=lessons").content.decode().splitlines()
    assert lessons[1].endswith(",1,1,,") and lessons[2].endswith(",1,0,,0.0")
    assert lessons[3].endswith(",0,0,,100.0")
    live = client.get(f"/analytics/courses/{course.pk}/?format=json").json()
    assert live["active_learners"][-1] == 1 and live["days"][-1] == today
    bad = client.get(f"/analytics/courses/{course.pk}/?export=secrets")
    assert bad.status_code == 400 and "Unknown table" in bad.json()["error"]


def test_date_range_errors_are_shown_and_the_default_period_used(course, tenant):
    client = client_for(tenant, as_role="admin")
    body = client.get(f"/analytics/courses/{course.pk}/?start=2026-05-01&end=2026-04-01").content.decode()
    assert "must be on or after" in body
    body = client.get(f"/analytics/courses/{course.pk}/?start=yesterday").content.decode()
    assert "Enter a valid date" in body


def test_tenant_overview_ranks_courses_and_exports_csv(streams, course, tenant):
    quiet = make_course(slug="quiet", lessons=1)
    learner = User.objects.get(email="learner@acme.test")
    track("enrollment.created", user_id=learner.pk, payload={"course_id": course.pk})
    track("enrollment.completed", user_id=learner.pk, payload={"course_id": course.pk})
    Consumer(name="overview").drain(seconds=5)
    client = client_for(tenant, as_role="admin")
    page = client.get("/analytics/")
    body = page.content.decode()
    assert page.status_code == 200 and body.index(course.title) < body.index(quiet.title)
    assert "100.0%" in body and 'id="timeline-chart"' in body
    rows = client.get("/analytics/?export=courses").content.decode().splitlines()
    assert rows[1] == f"{course.title},1,1,100.0"
    not_admin = client_for(tenant, as_role="instructor").get("/analytics/?export=courses")
    assert not_admin["Content-Type"].startswith("text/html")  # instructors get their course list, no export


def test_dashboards_are_linked_from_the_admin_index_and_the_course_builder(course, tenant):
    client = client_for(tenant, as_role="admin")
    assert 'href="/analytics/"' in client.get("/admin/").content.decode()
    builder = client.get(f"/admin/courses/course/{course.pk}/change/").content.decode()
    assert f'href="/analytics/courses/{course.pk}/"' in builder


def test_beacon_never_records_for_another_tenant(streams, course, tenant, other_tenant):
    from django_tenants.utils import schema_context

    with schema_context(other_tenant.schema_name):
        foreign = make_course(slug="globex-measured", lessons=1)
        foreign_lesson = lessons_of(foreign)[0]
    acme = client_for(tenant, as_role="learner")
    # A globex course id posted to acme is read as an acme course id: recorded (if at all) as acme's.
    assert _post(acme, [_progress(foreign, foreign_lesson)]).status_code == 202
    # Acme's session cookie means nothing on globex's host.
    acme.defaults["HTTP_HOST"] = host_of(other_tenant)
    assert _post(acme, [_progress(foreign, foreign_lesson)]).status_code == 403
    events = _stream(streams, tenant) + _stream(streams, other_tenant)  # possibly one partition
    assert all(e["schema"] == "acme" and e["tenant"] == str(tenant.uuid) for e in events)


def test_the_beacon_rate_limit_is_per_tenant(streams, course, tenant, other_tenant):
    """The limit's cache key carries the tenant: user 3 of acme spending it leaves user 3 of globex alone."""
    from django_tenants.utils import schema_context

    acme_learner = User.objects.get(email="learner@acme.test")
    with schema_context(other_tenant.schema_name):
        globex_learner = User.objects.get(email="learner@globex.test")
    assert acme_learner.pk == globex_learner.pk  # both tenants were built the same way
    cache.clear()
    acme = client_for(tenant, as_role="learner")
    lesson = lessons_of(course)[0]
    for _ in range(BEACON_PER_MINUTE):
        _post(acme, [_progress(course, lesson)])
    assert _post(acme, [_progress(course, lesson)]).status_code == 429
    globex = client_for(other_tenant, as_role="learner")
    assert _post(globex, [_progress(course, lesson)]).status_code == 202
    cache.clear()


def test_every_dashboard_export_neutralizes_formulas_headers_included(streams, in_tenant, tenant):
    """Course and lesson titles and learner names starting like a formula come out as text."""
    import csv
    import io
    from datetime import timedelta

    from django.utils import timezone

    from courses.models import Lesson

    learner = User.objects.get(email="learner@acme.test")
    course = make_course(slug="formulas", title="=1+2", lessons=1, publish=False)
    Lesson.objects.filter(module__course=course).update(title="@SUM(A1:A9)")
    from courses.services import course_publish

    course_publish(actor=User.objects.get(email="admin@acme.test"), course=course)
    enrollment = enrollment_create(user=learner, course=course)
    type(enrollment).objects.filter(pk=enrollment.pk).update(
        last_activity_at=timezone.now() - timedelta(days=60)
    )
    learner.full_name = "\uff1dcmd|' /C calc'!A0"  # fullwidth equals sign
    learner.save()
    track("enrollment.created", user_id=learner.pk, payload={"course_id": course.pk})
    Consumer(name="formulas").drain(seconds=5)
    from analytics.models import LearnerCourse

    LearnerCourse.objects.filter(course_id=course.pk).update(last_active=timezone.now() - timedelta(days=60))
    client = client_for(tenant, as_role="admin")

    def rows(url):
        response = client.get(url)
        assert response["Content-Type"].startswith("text/csv")
        return list(csv.reader(io.StringIO(response.content.decode())))

    assert ["'=1+2", "1", "0", "0.0"] in rows("/analytics/?export=courses")
    assert rows(f"/analytics/courses/{course.pk}/?export=lessons")[1][0] == "'@SUM(A1:A9)"
    at_risk = rows(f"/analytics/courses/{course.pk}/?export=at-risk")
    assert at_risk[1][0] == "'\uff1dcmd|' /C calc'!A0"
