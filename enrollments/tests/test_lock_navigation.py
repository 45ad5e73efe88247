"""No dead ends at locks (issue #11): Continue, Next and Mark complete go to a lesson the learner
may open; a lock page names and links what to do first and says when the lesson opens; locks
are drawn with our SVG, never the emoji."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from courses.services import course_publish, lesson_set_prerequisites
from courses.tests.factories import lessons_of, make_course
from enrollments.services import enrollment_create, lesson_complete
from tests.fixtures import client_for

User = get_user_model()


@pytest.fixture
def people(in_tenant):
    return {role: User.objects.get(email=f"{role}@acme.test") for role in ("admin", "learner")}


@pytest.fixture
def client(in_tenant, people):
    return client_for(in_tenant, as_role="learner")


def _publish(people, course):
    course_publish(actor=people["admin"], course=course)
    course.refresh_from_db()


def _url(course, lesson) -> str:
    return f"/learning/{course.slug}/lessons/{lesson.pk}/"


@pytest.fixture
def dripped(people):
    """Four lessons; the second opens five days after enrolling."""
    course = make_course(slug="dripped", lessons=4, publish=False)
    lessons = lessons_of(course)
    lessons[1].drip_days = 5
    lessons[1].save()
    _publish(people, course)
    enrollment_create(user=people["learner"], course=course)
    return course, lessons


@pytest.fixture
def prerequisites(people):
    """Module 1: 1.1, 1.2; module 2: 2.1 (needs 1.1), 2.2 (open)."""
    course = make_course(slug="needs-first", modules=2, lessons=2, publish=False)
    lessons = lessons_of(course)
    lesson_set_prerequisites(actor=people["admin"], lesson=lessons[2], prerequisites=[lessons[0]])
    _publish(people, course)
    enrollment_create(user=people["learner"], course=course)
    return course, lessons


def test_continue_skips_a_drip_locked_lesson(client, people, dripped):
    course, (first, _second, third, _) = dripped
    lesson_complete(user=people["learner"], course=course, lesson_id=first.pk)
    assert client.get(f"/learning/{course.slug}/continue/")["Location"] == _url(course, third)
    resume = client.get("/learning/").content.decode()
    assert "Continue where you left off" in resume and "Lesson 1.3" in resume and "Lesson 1.2" not in resume


def test_continue_with_only_locked_lessons_left_says_when_the_next_one_opens(client, people, in_tenant):
    course = make_course(slug="all-waiting", lessons=2, publish=False)
    first, second = lessons_of(course)
    second.drip_days = 5
    second.save()
    _publish(people, course)
    enrollment_create(user=people["learner"], course=course)
    lesson_complete(user=people["learner"], course=course, lesson_id=first.pk)
    response = client.get(f"/learning/{course.slug}/continue/", follow=True)
    assert response.redirect_chain[-1][0] == f"/courses/{course.slug}/"
    page = response.content.decode()
    assert "You have done every lesson open to you. &#x27;Lesson 1.2&#x27;: This lesson unlocks on" in page
    assert "data-resume-waiting" in client.get("/learning/").content.decode()


def test_mark_complete_never_moves_on_into_a_prerequisite_locked_lesson(client, prerequisites):
    course, (_a1, a2, _b1, b2) = prerequisites
    response = client.post(_url(course, a2) + "complete/")
    assert response["Location"] == _url(course, b2)  # 2.1 still needs 1.1: skipped
    page = client.get(response["Location"]).content.decode()
    assert (
        "Lesson completed: Lesson 1.2. &#x27;Lesson 2.1&#x27;: Complete &#x27;Lesson 1.1&#x27; first." in page
    )


def test_mark_complete_stays_when_nothing_after_it_is_open(client, people):
    course = make_course(slug="dead-end", lessons=3, publish=False)
    first, second, third = lessons_of(course)
    lesson_set_prerequisites(actor=people["admin"], lesson=third, prerequisites=[first])
    _publish(people, course)
    enrollment_create(user=people["learner"], course=course)
    response = client.post(_url(course, second) + "complete/")
    assert response["Location"] == _url(course, second)


def test_next_points_at_the_next_lesson_the_learner_may_open(client, prerequisites):
    course, (a1, a2, b1, b2) = prerequisites
    page = client.get(_url(course, a2)).content.decode()
    assert f'rel="next" href="{_url(course, b2)}"' in page
    note = re.search(r'<p class="next-locked" data-next-locked>(.*?)</p>', page, re.S).group(1)
    assert "Lesson 2.1" in note and "Complete &#x27;Lesson 1.1&#x27; first." in note
    # From 2.2 back: Previous skips the locked 2.1 too.
    assert f'rel="prev" href="{_url(course, a2)}"' in client.get(_url(course, b2)).content.decode()
    # Once 1.1 is done, Next is 2.1 again.
    client.post(_url(course, a1) + "complete/")
    assert f'rel="next" href="{_url(course, b1)}"' in client.get(_url(course, a2)).content.decode()


def test_a_lock_page_names_and_links_the_prerequisite(client, prerequisites):
    course, (a1, _a2, b1, _b2) = prerequisites
    response = client.get(_url(course, b1))
    page = response.content.decode()
    assert response.status_code == 403
    assert "Complete &#x27;Lesson 1.1&#x27; first." in page
    assert f'href="{_url(course, a1)}">Go to Lesson 1.1</a>' in page


def test_a_lock_page_says_when_the_lesson_opens_and_where_to_go_meanwhile(client, people, dripped):
    course, (first, second, third, _) = dripped
    lesson_complete(user=people["learner"], course=course, lesson_id=first.pk)
    page = client.get(_url(course, second)).content.decode()
    enrollment = people["learner"].enrollments.get(course=course)
    opens = enrollment.enrolled_at + timedelta(days=5)
    assert f"This lesson unlocks on {opens.day} {opens:%B %Y}" in page
    assert f'data-opens-at="{opens.isoformat()}"' in page
    assert f'data-meanwhile>Meanwhile: <a href="{_url(course, third)}">continue with Lesson 1.3</a>' in page


def test_locks_are_our_svg_never_the_emoji(client, prerequisites):
    course, (a1, _a2, b1, _b2) = prerequisites
    for url in (_url(course, a1), f"/courses/{course.slug}/", _url(course, b1)):
        page = client.get(url).content.decode()
        assert "\U0001f512" not in page and "&#128274;" not in page, url
        assert '<svg class="icon icon-lock"' in page, url


def test_a_finished_courses_lesson_page_adds_only_the_certificate_lookup(client, people, in_tenant):
    course = make_course(slug="finished", lessons=2)
    first, second = lessons_of(course)
    enrollment_create(user=people["learner"], course=course)
    lesson_complete(user=people["learner"], course=course, lesson_id=first.pk)
    url = _url(course, first)
    client.get(url)
    with CaptureQueriesContext(connection) as unfinished:
        client.get(url)
    lesson_complete(user=people["learner"], course=course, lesson_id=second.pk)
    client.get(url)  # moves the resume point back to this lesson (a write)
    client.get(url)
    with CaptureQueriesContext(connection) as finished:
        page = client.get(url).content.decode()
    assert "You have completed Finished." in page
    # The certificate settings of the course (plus django-tenants' SET search_path): 2 at most.
    assert len(finished.captured_queries) <= len(unfinished.captured_queries) + 2, [
        q["sql"] for q in finished.captured_queries
    ]


def test_another_tenants_learner_gets_404_not_a_lock_page(prerequisites, other_tenant):
    course, (_a1, _a2, b1, _b2) = prerequisites
    with schema_context(other_tenant.schema_name):
        intruder = client_for(other_tenant, as_role="learner")
        assert intruder.get(_url(course, b1)).status_code == 404
        assert intruder.get(f"/learning/{course.slug}/continue/").status_code == 404
