"""Drip schedules and prerequisites: what opens when, the reasons learners see, and bad input."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import AuditEntry
from courses.models import Lesson, LessonKind
from courses.services import CourseError, course_publish, lesson_set_prerequisites, module_set_prerequisites
from courses.tests.factories import lessons_of, make_course, published_lesson
from enrollments.access import lesson_gate
from enrollments.models import Enrollment, LessonProgress
from enrollments.selectors import lesson_page_get
from enrollments.services import EnrollmentError, enrollment_create, lesson_complete
from tests.fixtures import client_for

User = get_user_model()


@pytest.fixture
def people(in_tenant):
    return {role: User.objects.get(email=f"{role}@acme.test") for role in ("admin", "instructor", "learner")}


def _publish(people, course):
    course_publish(actor=people["admin"], course=course)
    course.refresh_from_db()


def _decision(people, course, lesson, role="learner"):
    return lesson_page_get(user=people[role], course_slug=course.slug, lesson_id=lesson.pk).decision


def test_a_lesson_opens_n_days_after_the_learner_enrolls(people):
    course = make_course(slug="drip", lessons=2, publish=False)
    second = lessons_of(course)[1]
    second.drip_days = 3
    second.save()
    _publish(people, course)
    enrollment = enrollment_create(user=people["learner"], course=course)
    decision = _decision(people, course, second)
    opens = timezone.localtime(enrollment.enrolled_at + timedelta(days=3), timezone.get_fixed_timezone(0))
    assert not decision.allowed and decision.action == "wait"
    assert decision.reason.startswith(f"This lesson unlocks on {opens.day} {opens:%B %Y}")
    enrollment.enrolled_at = timezone.now() - timedelta(days=3, minutes=1)
    enrollment.save(update_fields=["enrolled_at"])
    assert _decision(people, course, second).allowed


def test_a_fixed_date_is_shown_in_the_tenants_time_zone(people, tenant):
    tenant.time_zone = "Asia/Tokyo"
    tenant.save(update_fields=["time_zone"])
    course = make_course(slug="launch", lessons=1, publish=False)
    lesson = lessons_of(course)[0]
    lesson.drip_at = datetime(2030, 12, 3, 0, 30, tzinfo=UTC)
    lesson.save()
    _publish(people, course)
    enrollment = enrollment_create(user=people["learner"], course=course)
    decision = _decision(people, course, lesson)
    assert decision.reason == "This lesson unlocks on 3 December 2030 at 09:30."
    later = datetime(2030, 12, 3, 1, 0, tzinfo=UTC)
    outline_lesson = lesson_page_get(user=people["learner"], course_slug="launch", lesson_id=lesson.pk).lesson
    assert lesson_gate(lesson=outline_lesson, enrollment=enrollment, completed=set(), now=later) is None


def test_a_modules_schedule_applies_to_its_lessons_and_the_later_date_wins(people):
    course = make_course(slug="modules", modules=2, lessons=1, publish=False)
    first, second = lessons_of(course)
    second.module.drip_days = 7
    second.module.save()
    second.drip_days = 2
    second.save()
    _publish(people, course)
    enrollment_create(user=people["learner"], course=course)
    assert _decision(people, course, first).allowed
    decision = _decision(people, course, second)
    expected = timezone.now() + timedelta(days=7)
    assert not decision.allowed and abs((decision.opens_at - expected).total_seconds()) < 60


def test_prerequisites_keep_a_lesson_closed_until_completed(people):
    course = make_course(slug="prereq", lessons=3, publish=False)
    intro, middle, last = lessons_of(course)
    lesson_set_prerequisites(actor=people["admin"], lesson=last, prerequisites=[intro, middle])
    _publish(people, course)
    learner = people["learner"]
    enrollment_create(user=learner, course=course)
    decision = _decision(people, course, last)
    assert not decision.allowed
    assert decision.reason == "Complete 'Lesson 1.1' and 'Lesson 1.2' first."
    with pytest.raises(EnrollmentError, match="Complete"):
        lesson_complete(user=learner, course=course, lesson_id=last.pk)
    assert not LessonProgress.objects.filter(lesson=last).exists()
    lesson_complete(user=learner, course=course, lesson_id=intro.pk)
    assert _decision(people, course, last).reason == "Complete 'Lesson 1.2' first."
    lesson_complete(user=learner, course=course, lesson_id=middle.pk)
    assert _decision(people, course, last).allowed


def test_staff_and_free_previews_are_not_gated(people):
    course = make_course(slug="bypass", lessons=2, publish=False)
    first, second = lessons_of(course)
    second.drip_days = 30
    second.is_preview = True
    second.save()
    first.drip_days = 30
    first.save()
    _publish(people, course)
    enrollment_create(user=people["learner"], course=course)
    assert _decision(people, course, second).allowed  # free preview
    assert not _decision(people, course, first).allowed
    assert _decision(people, course, first, role="admin").allowed


def test_prerequisite_loops_and_foreign_lessons_are_refused_and_change_nothing(people):
    course = make_course(slug="loops", lessons=3, publish=False)
    a, b, c = lessons_of(course)
    other = lessons_of(make_course(slug="elsewhere", publish=False))[0]
    lesson_set_prerequisites(actor=people["admin"], lesson=b, prerequisites=[a])
    lesson_set_prerequisites(actor=people["admin"], lesson=c, prerequisites=[b])
    with pytest.raises(CourseError, match=r"That would make a loop: 'Lesson 1\.1' requires 'Lesson 1\.3'"):
        lesson_set_prerequisites(actor=people["admin"], lesson=a, prerequisites=[c])
    with pytest.raises(CourseError, match="cannot require itself"):
        lesson_set_prerequisites(actor=people["admin"], lesson=a, prerequisites=[a])
    with pytest.raises(CourseError, match="another course"):
        lesson_set_prerequisites(actor=people["admin"], lesson=a, prerequisites=[other])
    with pytest.raises(CourseError, match="instructors and the organization's admins"):
        lesson_set_prerequisites(actor=people["learner"], lesson=a, prerequisites=[])
    assert list(a.prerequisites.all()) == []


def test_the_admin_form_shows_loops_and_absurd_schedules_as_field_errors(people, tenant):
    course = make_course(slug="admin-gates", lessons=2, publish=False)
    first, second = lessons_of(course)
    lesson_set_prerequisites(actor=people["admin"], lesson=second, prerequisites=[first])
    client = client_for(tenant, as_role="admin")
    form = {
        "module": first.module_id,
        "title": first.title,
        "kind": "text",
        "body": "x",
        "duration_minutes": 5,
        "is_required": "on",
        "prerequisites": [second.pk],
    }
    page = client.post(f"/admin/courses/lesson/{first.pk}/change/", form).content.decode()
    assert "That would make a loop" in page
    for days, message in (("-1", "greater than or equal to 0"), ("99999", "less than or equal to 3650")):
        page = client.post(
            f"/admin/courses/lesson/{first.pk}/change/", {**form, "prerequisites": [], "drip_days": days}
        ).content.decode()
        assert message in page
    first.refresh_from_db()
    assert first.drip_days is None and list(first.prerequisites.all()) == []


def test_the_syllabus_shows_locks_with_their_reasons(people, tenant):
    course = make_course(slug="syllabus", lessons=2, publish=False)
    first, second = lessons_of(course)
    second.drip_days = 5
    second.save()
    Lesson.objects.filter(pk=first.pk).update(title="Start here")
    _publish(people, course)
    enrollment_create(user=people["learner"], course=course)
    client = client_for(tenant, as_role="learner")
    landing = client.get("/courses/syllabus/").content.decode()
    assert "This lesson unlocks on" in landing
    lesson_page = client.get(f"/learning/syllabus/lessons/{first.pk}/").content.decode()
    assert "data-lock-icon" in lesson_page and "This lesson unlocks on" in lesson_page
    locked = client.get(f"/learning/syllabus/lessons/{second.pk}/")
    assert locked.status_code == 403 and "This lesson unlocks on" in locked.content.decode()


# --- module prerequisites ---------------------------------------------------------


def test_a_modules_prerequisites_close_all_its_lessons(people):
    course = make_course(slug="module-prereq", modules=2, lessons=2, publish=False)
    _, a2, b1, b2 = lessons_of(course)
    course.instructors.add(people["instructor"])
    module_set_prerequisites(actor=people["instructor"], module=b1.module, prerequisites=[a2])
    _publish(people, course)
    learner = people["learner"]
    enrollment_create(user=learner, course=course)
    for lesson in (b1, b2):
        assert _decision(people, course, lesson).reason == "Complete 'Lesson 1.2' first."
    with pytest.raises(EnrollmentError, match=r"Complete 'Lesson 1\.2' first"):
        lesson_complete(user=learner, course=course, lesson_id=b2.pk)
    lesson_complete(user=learner, course=course, lesson_id=a2.pk)
    assert _decision(people, course, b1).allowed and _decision(people, course, b2).allowed
    entry = AuditEntry.objects.filter(action="module.prerequisites_changed").first()
    assert entry.before == {"prerequisites": []} and entry.after == {"prerequisites": [a2.pk]}


def test_module_and_lesson_prerequisites_cannot_make_a_loop_together(people):
    course = make_course(slug="module-loop", modules=2, lessons=1, publish=False)
    a, b = lessons_of(course)
    other = lessons_of(make_course(slug="module-elsewhere", publish=False))[0]
    admin = people["admin"]
    module_set_prerequisites(actor=admin, module=b.module, prerequisites=[a])
    # 'a' requiring 'b' now closes a loop through b's module.
    with pytest.raises(CourseError, match="That would make a loop"):
        lesson_set_prerequisites(actor=admin, lesson=a, prerequisites=[b])
    # And the other way round: a lesson prerequisite first, then the module's.
    module_set_prerequisites(actor=admin, module=b.module, prerequisites=[])
    lesson_set_prerequisites(actor=admin, lesson=a, prerequisites=[b])
    with pytest.raises(CourseError, match="That would make a loop: module 'Module 2' requires"):
        module_set_prerequisites(actor=admin, module=b.module, prerequisites=[a])
    with pytest.raises(CourseError, match="is in this module"):
        module_set_prerequisites(actor=admin, module=b.module, prerequisites=[b])
    with pytest.raises(CourseError, match="another course"):
        module_set_prerequisites(actor=admin, module=b.module, prerequisites=[other])
    with pytest.raises(CourseError, match="instructors and the organization's admins"):
        module_set_prerequisites(actor=people["learner"], module=b.module, prerequisites=[])
    assert list(b.module.prerequisites.all()) == []


def test_the_module_form_sets_prerequisites_and_shows_loops_as_field_errors(people, tenant):
    course = make_course(slug="module-form", modules=2, lessons=1, publish=False)
    a, b = lessons_of(course)
    client = client_for(tenant, as_role="admin")
    form = {"title": "Module 2", "summary": "", "drip_days": "", "drip_at": "", "prerequisites": [a.pk]}
    response = client.post(f"/admin/courses/module/{b.module_id}/change/", form)
    assert response.status_code == 302
    assert list(b.module.prerequisites.all()) == [a]
    choices = client.get(f"/admin/courses/module/{b.module_id}/change/").context["adminform"].form
    assert set(choices.fields["prerequisites"].queryset) == {a}  # not its own lessons
    lesson_set_prerequisites(actor=people["admin"], lesson=a, prerequisites=[])
    page = client.post(
        f"/admin/courses/module/{a.module_id}/change/", {**form, "title": "Module 1", "prerequisites": [b.pk]}
    )
    assert "That would make a loop" in page.content.decode()
    assert list(a.module.prerequisites.all()) == []


def test_a_quiz_prerequisite_asks_the_learner_to_pass_it():
    lesson = published_lesson(id=3, prerequisites=[1, 2])
    enrollment = Enrollment(enrolled_at=timezone.now())
    titles, kinds = {1: "Intro", 2: "Check yourself"}, {1: LessonKind.TEXT, 2: LessonKind.QUIZ}
    both = lesson_gate(lesson=lesson, enrollment=enrollment, completed=set(), titles=titles, kinds=kinds)
    assert both.reason == "Complete 'Intro' and pass 'Check yourself' first."
    quiz = lesson_gate(lesson=lesson, enrollment=enrollment, completed={1}, titles=titles, kinds=kinds)
    assert quiz.reason == "Pass 'Check yourself' first."
    done = lesson_gate(lesson=lesson, enrollment=enrollment, completed={1, 2}, titles=titles, kinds=kinds)
    assert done is None
