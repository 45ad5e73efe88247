"""The lesson player, marking lessons complete, video heartbeats, my learning and continue."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from courses.models import Lesson, LessonKind
from courses.services import course_archive
from courses.tests.test_views import build_course, lesson_ids
from enrollments.models import Enrollment, EnrollmentStatus, LessonProgress, ProgressStatus
from enrollments.services import enrollment_create, lesson_complete
from tests.fixtures import client_for, host_of

User = get_user_model()


@pytest.fixture
def learner(in_tenant):
    return User.objects.get(email="learner@acme.test")


@pytest.fixture
def client(in_tenant, learner):
    return client_for(in_tenant, as_role="learner")


def lesson_url(slug: str, lesson_id: int, suffix: str = "") -> str:
    return f"/learning/{slug}/lessons/{lesson_id}/{suffix}"


def heartbeat(client: Client, slug: str, lesson_id: int, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        lesson_url(slug, lesson_id, "progress/"), data=data, content_type="application/json", **extra
    )


# --- Opening lessons ----------------------------------------------------------------------


def test_an_enrolled_learner_opens_a_text_lesson_with_navigation_and_syllabus(client, learner):
    course = build_course(slug="reading", modules=2, lessons=2)
    enrollment_create(user=learner, course=course)
    ids = lesson_ids(course)
    response = client.get(lesson_url("reading", ids[1]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "<p>Text of lesson 1.2.</p>" in page
    assert f'rel="prev" href="{lesson_url("reading", ids[0])}"' in page
    assert f'rel="next" href="{lesson_url("reading", ids[2])}"' in page
    assert f'data-lesson-id="{ids[1]}"' in page and 'aria-current="page"' in page
    assert "Module 2" in page and ">Mark complete</button>" in page
    assert 'class="skip-link"' in page
    enrollment = Enrollment.objects.get(user=learner, course=course)
    assert enrollment.last_lesson_id == ids[1]  # the resume point


def test_a_lesson_of_another_course_or_tenant_is_404(client, learner, other_tenant):
    course = build_course(slug="mine")
    other = build_course(slug="other")
    enrollment_create(user=learner, course=course)
    enrollment_create(user=learner, course=other)
    with schema_context(other_tenant.schema_name):
        foreign = build_course(slug="foreign", lessons=6)
        foreign_ids = lesson_ids(foreign)
    assert client.get(lesson_url("mine", lesson_ids(other)[0])).status_code == 404
    assert client.get(lesson_url("mine", 987654)).status_code == 404
    assert client.get(lesson_url("foreign", foreign_ids[0])).status_code == 404
    # A globex lesson id that is not one of this acme course's lessons.
    stray = next(i for i in foreign_ids if i not in lesson_ids(course))
    assert client.get(lesson_url("mine", stray)).status_code == 404


def test_a_draft_lesson_not_yet_published_is_404(client, learner):
    course = build_course(slug="growing")
    enrollment_create(user=learner, course=course)
    module = course.modules.get()
    unpublished = module.lessons.create(title="Not yet", body="Soon.", position=5)
    assert client.get(lesson_url("growing", unpublished.pk)).status_code == 404


def test_a_learner_who_is_not_enrolled_gets_403_with_the_reason_and_the_way_in(client):
    course = build_course(slug="closed")
    response = client.get(lesson_url("closed", lesson_ids(course)[1]))
    page = response.content.decode()
    assert response.status_code == 403
    assert "Enroll in this course to open this lesson." in page
    assert 'action="/courses/closed/enroll/"' in page and ">Enroll</button>" in page
    assert "Text of lesson" not in page
    assert not LessonProgress.objects.exists()


def test_visitors_are_asked_to_sign_in(in_tenant):
    course = build_course(slug="signin", preview_lessons=1)
    response = client_for(in_tenant).get(lesson_url("signin", lesson_ids(course)[0]))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/learning/signin/lessons/{lesson_ids(course)[0]}/"


def test_a_preview_lesson_opens_without_enrolling(client, learner):
    course = build_course(slug="tasting", preview_lessons=1)
    first, second = lesson_ids(course)
    response = client.get(lesson_url("tasting", first))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Text of lesson 1.1." in page
    assert "This lesson is a free preview." in page and "Enroll to track your progress" in page
    assert "Mark complete" not in page
    assert client.get(lesson_url("tasting", second)).status_code == 403
    assert not Enrollment.objects.filter(user=learner).exists()


def test_pending_and_invitation_learners_see_why_they_cannot_open_lessons(client, learner):
    approval = build_course(slug="approval", policy="approval")
    enrollment_create(user=learner, course=approval)
    response = client.get(lesson_url("approval", lesson_ids(approval)[0]))
    assert response.status_code == 403
    assert "Your request to join is waiting for approval." in response.content.decode()
    invitation = build_course(slug="invitation", policy="invitation")
    response = client.get(lesson_url("invitation", lesson_ids(invitation)[0]))
    assert response.status_code == 403
    assert "ask your administrator" in response.content.decode()
    assert "</button>" not in response.content.decode().split('class="card narrow locked"')[1]


def test_course_staff_open_lessons_without_enrolling(in_tenant):
    instructor = User.objects.get(email="instructor@acme.test")
    course = build_course(slug="taught")
    course.instructors.add(instructor)
    response = client_for(in_tenant, as_role="instructor").get(lesson_url("taught", lesson_ids(course)[1]))
    assert response.status_code == 200
    assert "your progress is not recorded" in response.content.decode()
    assert not Enrollment.objects.exists()


def test_enrolled_learners_keep_an_archived_course(client, learner):
    course = build_course(slug="retired")
    enrollment_create(user=learner, course=course)
    course_archive(actor=User.objects.get(email="admin@acme.test"), course=course)
    assert client.get(lesson_url("retired", lesson_ids(course)[0])).status_code == 200
    assert "no longer in the catalog" in client.get("/learning/").content.decode()


def test_each_lesson_kind_renders_its_player(in_tenant, client, learner):
    kinds = [
        LessonKind.VIDEO,
        LessonKind.DOCUMENT,
        LessonKind.EMBED,
        LessonKind.QUIZ,
        LessonKind.ASSIGNMENT,
    ]
    course = build_course(slug="kinds", lessons=5, kinds=kinds)
    enrollment_create(user=learner, course=course)
    video, document, embed, quiz, assignment = lesson_ids(course)

    page = client.get(lesson_url("kinds", video)).content.decode()
    assert '<video controls preload="metadata"' in page
    src = page.split('<video controls preload="metadata" playsinline src="')[1].split('"')[0]
    signed = urlsplit(src.replace("&amp;", "&"))
    assert src.startswith(settings.S3_ENDPOINT_URL)
    assert signed.path.endswith("lessons/video/kinds-0.mp4") and f"/t/{in_tenant.uuid}/" in signed.path
    assert parse_qs(signed.query)["X-Amz-Expires"] == ["300"]
    assert f'data-progress-url="{lesson_url("kinds", video, "progress/")}"' in page
    assert "js/player.js" in page and "Mark complete" not in page

    page = client.get(lesson_url("kinds", document)).content.decode()
    assert '<iframe src="' + settings.S3_ENDPOINT_URL in page and "Download the PDF" in page
    assert "attachment" in page and "Mark complete" in page

    page = client.get(lesson_url("kinds", embed)).content.decode()
    assert 'src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in page
    assert 'referrerpolicy="strict-origin-when-cross-origin"' in page and "Mark complete" in page

    for lesson_id, label in ((quiz, "Quiz"), (assignment, "Assignment")):
        page = client.get(lesson_url("kinds", lesson_id)).content.decode()
        # No assessment set up for these lessons yet: the panel says so (no dead link).
        assert f"This {label.lower()} is not ready yet." in page and "Mark complete" not in page


def test_lesson_page_queries_do_not_grow_with_the_course(client, learner, django_assert_max_num_queries):
    counts = []
    # Both courses stay unfinished after two completions: a finished course's pages also look
    # up the certificate (test_a_finished_courses_lesson_page_adds_only_the_certificate_lookup).
    for slug, modules, lessons in (("big", 10, 10), ("small", 1, 3)):
        course = build_course(slug=slug, modules=modules, lessons=lessons)
        enrollment_create(user=learner, course=course)
        ids = lesson_ids(course)
        for lesson_id in ids[:2]:
            lesson_complete(user=learner, course=course, lesson_id=lesson_id)
        url = lesson_url(slug, ids[1])
        client.get(url)  # warms the outline cache and creates this lesson's progress row
        # 12 queries, each preceded by django-tenants' SET search_path: domain, course, user,
        # enrollment, progress, completed ids; then lesson_open: savepoint, enrollment (locked),
        # progress, required-completed ids, enrollment update, release.
        with django_assert_max_num_queries(24) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1], counts


# --- Completing lessons -------------------------------------------------------------------


def test_mark_complete_moves_progress_and_goes_to_the_next_lesson(client, learner):
    course = build_course(slug="steps", lessons=4)
    enrollment_create(user=learner, course=course)
    ids = lesson_ids(course)
    response = client.post(lesson_url("steps", ids[0], "complete/"))
    assert response.status_code == 302 and response["Location"] == lesson_url("steps", ids[1])
    enrollment = Enrollment.objects.get(user=learner, course=course)
    assert enrollment.progress_percent == 25 and enrollment.status == EnrollmentStatus.ACTIVE
    page = client.get(response["Location"]).content.decode()
    assert "Lesson completed: Lesson 1.1." in page
    assert 'aria-valuenow="25"' in page
    assert re.search(rf'<li class="[^"]*\bis-done\b[^"]*" data-lesson-id="{ids[0]}"', page)
    assert not re.search(rf'<li class="[^"]*\bis-done\b[^"]*" data-lesson-id="{ids[1]}"', page)


def test_completing_every_required_lesson_completes_the_course(client, learner):
    course = build_course(slug="finish", lessons=3)
    optional = course.modules.get().lessons.order_by("position").last()
    optional.is_required = False
    optional.save()
    from courses.services import course_publish

    course_publish(actor=User.objects.get(email="admin@acme.test"), course=course)
    enrollment_create(user=learner, course=course)
    first, second, _ = lesson_ids(course)
    client.post(lesson_url("finish", first, "complete/"))
    response = client.post(lesson_url("finish", second, "complete/"), follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == lesson_url("finish", second)
    assert "Congratulations! You have completed Finish." in page
    enrollment = Enrollment.objects.get(user=learner, course=course)
    assert enrollment.status == EnrollmentStatus.COMPLETED and enrollment.progress_percent == 100
    assert enrollment.completed_at is not None
    assert "Completed" in client.get("/learning/").content.decode()


def test_mark_complete_is_refused_without_enrollment_and_for_videos(client, learner):
    course = build_course(slug="refuse", kinds=[LessonKind.TEXT, LessonKind.VIDEO], preview_lessons=1)
    text, video = lesson_ids(course)
    response = client.post(lesson_url("refuse", text, "complete/"), follow=True)
    assert "Enroll in this course to record your progress." in response.content.decode()
    assert not LessonProgress.objects.filter(status=ProgressStatus.COMPLETED).exists()
    enrollment_create(user=learner, course=course)
    response = client.post(lesson_url("refuse", video, "complete/"), follow=True)
    assert "completes on its own" in response.content.decode()
    assert not LessonProgress.objects.filter(status=ProgressStatus.COMPLETED).exists()
    assert client.get(lesson_url("refuse", text, "complete/")).status_code == 405
    assert client.post(lesson_url("refuse", 424242, "complete/")).status_code == 404


def test_mark_complete_from_another_tenant_is_404(in_tenant, other_tenant):
    with schema_context(other_tenant.schema_name):
        foreign = build_course(slug="their-course")
        foreign_id = lesson_ids(foreign)[0]
    response = client_for(in_tenant, as_role="learner").post(
        lesson_url("their-course", foreign_id, "complete/")
    )
    assert response.status_code == 404
    with schema_context(other_tenant.schema_name):
        assert not LessonProgress.objects.exists()


# --- Video heartbeats ---------------------------------------------------------------------


@pytest.fixture
def video_course(learner):
    course = build_course(slug="film", kinds=[LessonKind.VIDEO, LessonKind.TEXT])
    enrollment_create(user=learner, course=course)
    return course


def _measured(course, seconds: float):
    from enrollments.tests.test_video_progress import measure

    lesson = Lesson.objects.get(pk=lesson_ids(course)[0])
    return measure(lesson, seconds)


def test_heartbeats_record_progress_and_the_player_resumes_there(client, learner, video_course):
    video = lesson_ids(video_course)[0]
    _measured(video_course, 200)
    response = heartbeat(client, "film", video, {"position": 83, "duration": 200, "watched": 15})
    assert response.status_code == 200
    # The first heartbeat of a lesson never opened before: (almost) no time passed, nothing watched.
    assert response.json() == {"percent": 0, "status": "in_progress", "course_percent": 0}
    progress = LessonProgress.objects.get(user=learner, lesson_id=video)
    assert progress.last_position_seconds == 83 and progress.watched_seconds < 0.5
    page = client.get(lesson_url("film", video)).content.decode()
    assert 'data-resume="83"' in page and "You left off at 1:23" in page

    # The learner had watched 170.5 s; the previous heartbeat came 15 s ago.
    LessonProgress.objects.filter(pk=progress.pk).update(
        watched_seconds=170.5, heartbeat_at=timezone.now() - timedelta(seconds=15)
    )
    response = heartbeat(client, "film", video, {"position": 98, "duration": 200, "watched": 14.5})
    # 185 s of 200 watched: past 90%, the lesson is complete (and counts as fully watched).
    assert response.json() == {"percent": 100, "status": "completed", "course_percent": 50}


def test_the_hostile_heartbeat_does_not_complete_a_half_hour_video(client, learner, video_course):
    """Issue #11, finding 6: this body completed a 30-minute video before."""
    video = lesson_ids(video_course)[0]
    _measured(video_course, 30 * 60)
    for _ in range(3):
        response = heartbeat(client, "film", video, {"position": 1, "duration": 1, "watched": 0})
        assert response.json() == {"percent": 0, "status": "in_progress", "course_percent": 0}
    assert LessonProgress.objects.get(user=learner, lesson_id=video).status == ProgressStatus.IN_PROGRESS


def test_a_burst_of_heartbeats_claiming_half_an_hour_does_not_complete(client, learner, video_course):
    video = lesson_ids(video_course)[0]
    _measured(video_course, 30 * 60)
    for n in range(1, 31):
        body = {"position": 60 * n, "duration": 30 * 60, "watched": 60}
        assert heartbeat(client, "film", video, body).json()["status"] == "in_progress"
    progress = LessonProgress.objects.get(user=learner, lesson_id=video)
    assert progress.last_position_seconds == 30 * 60 and progress.watched_seconds < 60


def test_a_heartbeat_for_another_tenants_measured_video_counts_nothing(client, learner, other_tenant):
    """A globex lesson id posted to acme is 404; globex's measurement never reaches acme."""
    with schema_context(other_tenant.schema_name):
        foreign = build_course(slug="their-film", kinds=[LessonKind.VIDEO])
        _measured(foreign, 10)
        foreign_video = lesson_ids(foreign)[0]
    body = {"position": 10, "duration": 10, "watched": 10}
    assert heartbeat(client, "their-film", foreign_video, body).status_code == 404
    with schema_context(other_tenant.schema_name):
        assert not LessonProgress.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2, 3]",
        {"position": "10", "duration": 100, "watched": 5},
        {"position": 10, "duration": 100},
        {"position": -1, "duration": 100, "watched": 5},
        {"position": True, "duration": 100, "watched": 5},
        {"position": 10, "duration": 1e12, "watched": 5},
        '{"position": NaN, "duration": 100, "watched": 5}',
    ],
)
def test_malformed_heartbeats_are_400_with_a_json_error(client, learner, video_course, body):
    response = heartbeat(client, "film", lesson_ids(video_course)[0], body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not LessonProgress.objects.exists()


def test_oversized_heartbeats_are_413(client, video_course):
    body = {"position": 1, "duration": 100, "watched": 1, "padding": "x" * 3000}
    response = heartbeat(client, "film", lesson_ids(video_course)[0], body)
    assert response.status_code == 413 and "error" in response.json()
    assert not LessonProgress.objects.exists()


def test_heartbeats_are_refused_to_people_without_access(in_tenant, video_course):
    video = lesson_ids(video_course)[0]
    body = {"position": 1, "duration": 100, "watched": 1}
    stranger = User.objects.create_user(email="other-learner@acme.test", password="x" * 12)
    outsider = Client(HTTP_HOST=host_of(in_tenant))
    outsider.force_login(stranger)
    response = heartbeat(outsider, "film", video, body)
    assert response.status_code == 403
    assert response.json() == {"error": "Enroll in this course to open this lesson."}
    assert heartbeat(client_for(in_tenant), "film", video, body).status_code == 403
    assert heartbeat(outsider, "film", 31337, body).status_code == 404
    assert not LessonProgress.objects.exists()


def test_heartbeats_need_a_csrf_token_and_a_video_lesson(in_tenant, learner, video_course):
    video, text = lesson_ids(video_course)
    strict = Client(HTTP_HOST=host_of(in_tenant), enforce_csrf_checks=True)
    strict.force_login(learner)
    body = {"position": 1, "duration": 100, "watched": 1}
    assert heartbeat(strict, "film", video, body).status_code == 403
    strict.get(lesson_url("film", video))  # sets the csrftoken cookie, as the page does
    token = strict.cookies["csrftoken"].value
    assert heartbeat(strict, "film", video, body, HTTP_X_CSRFTOKEN=token).status_code == 200
    response = heartbeat(strict, "film", text, body, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 400 and response.json() == {"error": "This lesson has no video."}


# --- My learning and continue -------------------------------------------------------------


def test_my_learning_shows_progress_pending_and_completed_courses(client, learner):
    started = build_course(slug="started", title="Started course", lessons=4)
    enrollment_create(user=learner, course=started)
    client.post(lesson_url("started", lesson_ids(started)[0], "complete/"))
    waiting = build_course(slug="waiting", title="Waiting course", policy="approval")
    enrollment_create(user=learner, course=waiting)
    done = build_course(slug="done", title="Done course", lessons=1)
    enrollment_create(user=learner, course=done)
    lesson_complete(user=learner, course=done, lesson_id=lesson_ids(done)[0])
    client.get(lesson_url("started", lesson_ids(started)[1]))  # the most recent activity

    page = client.get("/learning/").content.decode()
    in_progress = page.split('id="active-title"')[1].split("</section>")[0]
    assert "Started course" in in_progress and 'aria-valuenow="25"' in in_progress
    resume = page.split('id="resume-title"')[1].split("</section>")[0]
    assert "Continue where you left off" in page
    assert "Started course" in resume and "Lesson 1.2" in resume
    assert 'href="/learning/started/continue/"' in resume
    assert "Waiting course" in page.split('id="pending-title"')[1]
    assert "Done course" in page.split('id="completed-title"')[1]
    assert "Waiting course" not in in_progress and "Done course" not in in_progress


def test_my_learning_is_empty_with_a_link_to_the_catalog(client):
    page = client.get("/learning/").content.decode()
    assert "You are not enrolled in any course yet" in page and 'href="/"' in page


def test_my_learning_needs_sign_in(in_tenant):
    response = client_for(in_tenant).get("/learning/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_continue_goes_to_the_next_unfinished_lesson(client, learner):
    course = build_course(slug="onward", lessons=3)
    ids = lesson_ids(course)
    assert client.get("/learning/onward/continue/")["Location"] == "/courses/onward/"
    enrollment_create(user=learner, course=course)
    assert client.get("/learning/onward/continue/")["Location"] == lesson_url("onward", ids[0])
    client.post(lesson_url("onward", ids[0], "complete/"))
    client.get(lesson_url("onward", ids[0]))  # reopening a finished lesson
    assert client.get("/learning/onward/continue/")["Location"] == lesson_url("onward", ids[1])
    client.get(lesson_url("onward", ids[2]))
    assert client.get("/learning/onward/continue/")["Location"] == lesson_url("onward", ids[2])
    assert client.get("/learning/nowhere/continue/").status_code == 404
