"""The lesson door in one pass (issue #12, ADR 0180): one cache round trip for the course
version and the learner's state, a per-process slug hint that never answers for another
tenant or a changed course, and reversed URLs remembered per process."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings

from core import urls as core_urls
from core.urls import reverse_memo
from courses.models import Course, Lesson
from courses.selectors import outline_for
from courses.services import course_publish
from courses.tests.factories import lessons_of, make_course
from enrollments.access import access_lesson
from enrollments.services import enrollment_create
from tenants.models import Tenant
from tests.fixtures import client_for

User = get_user_model()


def _stand_in(tenant: Tenant) -> Tenant:
    """Another tenant as far as the uuid-keyed caches can tell: same schema, a never-seen uuid."""
    return Tenant(pk=tenant.pk, schema_name=tenant.schema_name, slug=tenant.slug, uuid=uuid.uuid4())


def test_the_slug_hint_of_one_tenant_never_answers_for_another(tenant, other_tenant):
    """Same slug in two tenants: each door answers with its own course, outline and enrollment."""
    connection.set_tenant(tenant)
    acme_course = make_course(slug="hinted", modules=1, lessons=2)
    acme_learner = User.objects.get(email="learner@acme.test")
    enrollment_create(user=acme_learner, course=acme_course)
    acme_lesson = lessons_of(acme_course)[0].pk
    connection.set_tenant(other_tenant)
    globex_course = make_course(slug="hinted", modules=2, lessons=2)
    globex_learner = User.objects.get(email="learner@globex.test")
    globex_lesson = lessons_of(globex_course)[0].pk
    for _ in range(3):  # the first pass leaves the hints, the later ones use them
        connection.set_tenant(tenant)
        door = access_lesson(user=acme_learner, course_slug="hinted", lesson_id=acme_lesson)
        assert door.course.pk == acme_course.pk
        assert door.outline.revision_id == acme_course.published_revision_id
        assert door.enrollment is not None and door.enrollment.user_id == acme_learner.pk
        assert door.decision.allowed
        connection.set_tenant(other_tenant)
        door = access_lesson(user=globex_learner, course_slug="hinted", lesson_id=globex_lesson)
        assert door.course.pk == globex_course.pk
        assert len(door.outline.lessons) == 4
        assert door.enrollment is None
        assert not door.decision.allowed and door.decision.action == "enroll"


def test_a_stale_slug_hint_costs_a_read_never_a_wrong_answer(in_tenant):
    """The slug now names another course (the old one renamed): the door reads the new one's state."""
    learner = User.objects.get(email="learner@acme.test")
    old = make_course(slug="moving", modules=1, lessons=1)
    enrollment_create(user=learner, course=old)
    door = access_lesson(user=learner, course_slug="moving", lesson_id=lessons_of(old)[0].pk)
    assert door.course.pk == old.pk and door.enrollment is not None
    Course.objects.filter(pk=old.pk).update(slug="moved")
    old.title = "Moved"
    old.save(update_fields=["title"])  # a course write moves the tenant's version on
    new = make_course(slug="moving", modules=1, lessons=1)
    door = access_lesson(user=learner, course_slug="moving", lesson_id=lessons_of(new)[0].pk)
    assert door.course.pk == new.pk
    assert door.enrollment is None  # not the old course's enrollment, read under the hint
    assert not door.decision.allowed


def test_publishing_again_shows_the_new_revision_on_the_next_lesson_page(in_tenant):
    course = make_course(slug="republished", modules=1, lessons=2)
    learner = User.objects.get(email="learner@acme.test")
    enrollment_create(user=learner, course=course)
    lesson = lessons_of(course)[0]
    client = client_for(in_tenant, as_role="learner")
    url = f"/learning/{course.slug}/lessons/{lesson.pk}/"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200  # warm: hint, outline and URLs remembered
    Lesson.objects.filter(pk=lesson.pk).update(title="Renamed after publishing")
    instructor = User.objects.get(email="admin@acme.test")
    course_publish(actor=instructor, course=Course.objects.get(pk=course.pk), summary="Rename.")
    response = client.get(url)
    assert response.status_code == 200
    assert "Renamed after publishing" in response.content.decode()
    door = access_lesson(user=learner, course_slug=course.slug, lesson_id=lesson.pk)
    assert door.outline.revision_id == Course.objects.get(pk=course.pk).published_revision_id
    assert door.outline.revision_id == outline_for(door.course).revision_id


def test_the_lesson_page_links_match_reverse(in_tenant):
    """The remembered links are the ones `{% url %}` gave: previous, next, complete, landing, header."""
    course = make_course(slug="linked", modules=1, lessons=3)
    learner = User.objects.get(email="learner@acme.test")
    enrollment_create(user=learner, course=course)
    first, middle, last = lessons_of(course)
    client = client_for(in_tenant, as_role="learner")
    for _ in range(2):
        html = client.get(f"/learning/linked/lessons/{middle.pk}/").content.decode()
        assert f'href="/learning/linked/lessons/{first.pk}/"' in html
        assert f'href="/learning/linked/lessons/{last.pk}/"' in html
        assert f'action="/learning/linked/lessons/{middle.pk}/complete/"' in html
        assert 'href="/courses/linked/"' in html
        assert 'href="/learning/"' in html and 'action="/accounts/logout/"' in html


def test_remembered_urls_stay_at_their_bound():
    bound = 3
    with override_settings(PROCESS_CACHE_MAX={**settings.PROCESS_CACHE_MAX, "url_reverse": bound}):
        core_urls._reversed.clear()
        for n in range(bound + 4):
            assert reverse_memo("courses:detail", f"course-{n}") == f"/courses/course-{n}/"
            assert len(core_urls._reversed) <= bound
        assert len(core_urls._reversed) == bound
