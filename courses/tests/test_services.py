import pytest
from django.contrib.auth import get_user_model
from django.http import Http404

from courses.models import Course, CourseRevision, CourseStatus, Lesson, LessonKind, Module
from courses.selectors import catalog_list, course_get_published, outline_for
from courses.services import (
    CourseError,
    course_archive,
    course_delete,
    course_publish,
    course_restore,
    lesson_move,
    module_move,
    revision_restore,
)
from courses.tests.factories import lessons_of, make_course

User = get_user_model()


@pytest.fixture
def admin(in_tenant):
    return User.objects.get(email="admin@acme.test")


def test_publish_records_a_revision_and_learners_see_only_it(admin):
    course = make_course(slug="safety", publish=False)
    revision = course_publish(actor=admin, course=course)
    assert (revision.number, revision.author, course.status) == (1, admin, CourseStatus.PUBLISHED)
    assert "First publish: 1 modules, 2 lessons." in revision.summary
    first = lessons_of(course)[0]
    first.title = "Draft title nobody should see yet"
    first.save()
    outline = outline_for(course)
    assert outline.lessons[0].title == "Lesson 1.1"
    assert [c.slug for c in catalog_list()] == ["safety"]


def test_republish_summarises_what_changed(admin):
    course = make_course(slug="changes", lessons=3)
    lessons = lessons_of(course)
    lessons[0].title = "Renamed"
    lessons[0].save()
    lessons[2].soft_delete()
    Lesson.objects.create(module=lessons[0].module, title="Brand new", body="x", position=9)
    course.summary = "New summary"
    course.save()
    revision = course_publish(actor=admin, course=course)
    assert revision.number == 2
    for part in (
        "Course details changed: summary.",
        "Lesson added: Brand new.",
        "Lesson removed: Lesson 1.3.",
        "Lessons edited: Renamed.",
    ):
        assert part in revision.summary
    assert [x.title for x in outline_for(course).lessons] == ["Renamed", "Lesson 1.2", "Brand new"]


def test_publish_refuses_an_incomplete_course_and_explains(admin):
    course = Course.objects.create(title="Empty", slug="empty")
    with pytest.raises(CourseError) as exc:
        course_publish(actor=admin, course=course)
    assert exc.value.problems == ["Add at least one module."]
    module = Module.objects.create(course=course, title="M")
    Lesson.objects.create(module=module, title="Watch", kind=LessonKind.VIDEO)
    Lesson.objects.create(module=module, title="", kind=LessonKind.TEXT, body="x", position=1)
    Lesson.objects.create(module=module, title="Read", kind=LessonKind.DOCUMENT, position=2)
    with pytest.raises(CourseError) as exc:
        course_publish(actor=admin, course=course)
    assert "Video lesson 'Watch' has no video: upload one." in exc.value.problems
    assert "Lesson 2 of 'M' needs a title." in exc.value.problems
    assert "Document lesson 'Read' has no PDF: upload one." in exc.value.problems
    course.refresh_from_db()
    assert course.status == CourseStatus.DRAFT and not CourseRevision.objects.filter(course=course).exists()


def test_publish_twice_without_changes_is_refused(admin):
    course = make_course(slug="same")
    with pytest.raises(CourseError, match="Nothing has changed"):
        course_publish(actor=admin, course=course)
    assert course.revisions.count() == 1


def test_restore_brings_back_an_earlier_revision_as_a_new_one(admin):
    course = make_course(slug="restore-me")
    first_revision = course.published_revision
    lesson = lessons_of(course)[1]
    lesson.title = "Changed"
    lesson.save()
    lessons_of(course)[0].soft_delete()
    course_publish(actor=admin, course=course)
    restored = revision_restore(actor=admin, revision=first_revision)
    assert restored.number == 3 and restored.summary == "Restored revision 1."
    course.refresh_from_db()
    assert [x.title for x in outline_for(course).lessons] == ["Lesson 1.1", "Lesson 1.2"]
    assert not Lesson.objects.get(pk=lessons_of(course)[0].pk).is_deleted


def test_drafts_archived_and_deleted_courses_are_not_in_the_catalog(admin):
    make_course(slug="draft", publish=False)
    archived = make_course(slug="archived")
    course_archive(actor=admin, course=archived)
    deleted = make_course(slug="deleted")
    course_delete(actor=admin, course=deleted)
    make_course(slug="live")
    assert [c.slug for c in catalog_list()] == ["live"]
    with pytest.raises(Http404):
        course_get_published(slug="draft")
    with pytest.raises(Http404):
        course_get_published(slug="deleted")
    course_restore(actor=admin, course=deleted)
    assert sorted(c.slug for c in catalog_list()) == ["deleted", "live"]


def test_catalog_search_and_category_include_subcategories(admin):
    from courses.models import Category

    business = Category.objects.create(name="Business", slug="business")
    sales = Category.objects.create(name="Sales", slug="sales", parent=business)
    make_course(slug="closing-deals", title="Closing deals", category=sales)
    make_course(slug="knots", title="Sailing knots")
    assert [c.slug for c in catalog_list(category=business)] == ["closing-deals"]
    assert [c.slug for c in catalog_list(query="KNOT")] == ["knots"]
    assert list(catalog_list(query="nothing like this")) == []


def test_categories_nest_one_level_only(in_tenant):
    from django.core.exceptions import ValidationError

    from courses.models import Category

    top = Category.objects.create(name="Top", slug="top")
    child = Category.objects.create(name="Child", slug="child", parent=top)
    grandchild = Category(name="Grandchild", slug="grandchild", parent=child)
    with pytest.raises(ValidationError, match="nest one level"):
        grandchild.full_clean()


def test_reordering_modules_and_lessons(admin):
    course = make_course(slug="order", modules=3, lessons=3)
    modules = list(course.modules.order_by("position"))
    module_move(actor=admin, module=modules[2], direction="up")
    assert list(course.modules.order_by("position").values_list("title", flat=True)) == [
        "Module 1",
        "Module 3",
        "Module 2",
    ]
    lessons = list(modules[0].lessons.order_by("position"))
    lesson_move(actor=admin, lesson=lessons[0], direction="up")  # already first: nothing moves
    lesson_move(actor=admin, lesson=lessons[0], direction="down")
    assert list(modules[0].lessons.order_by("position").values_list("title", flat=True)) == [
        "Lesson 1.2",
        "Lesson 1.1",
        "Lesson 1.3",
    ]
    revision = course_publish(actor=admin, course=course)
    assert "Modules reordered." in revision.summary


def test_duplicate_slug_is_refused_by_the_database(in_tenant):
    from django.db import IntegrityError, transaction

    Course.objects.create(title="A", slug="dup")
    with pytest.raises(IntegrityError), transaction.atomic():
        Course.objects.create(title="B", slug="dup")


def test_same_slug_in_two_tenants_is_two_courses(tenant, other_tenant):
    from django_tenants.utils import schema_context

    with schema_context(tenant.schema_name):
        make_course(slug="shared-name", title="Acme version")
    with schema_context(other_tenant.schema_name):
        assert list(catalog_list()) == []
        make_course(slug="shared-name", title="Globex version")
        assert outline_for(course_get_published(slug="shared-name")).course.title == "Globex version"


def test_cached_course_lookups_follow_publish_archive_and_delete(admin):
    from courses.selectors import catalog_courses

    course = make_course(slug="cached", publish=False)
    with pytest.raises(Http404):
        course_get_published(slug="cached")  # caches "no such course"
    assert catalog_courses() == []
    course_publish(actor=admin, course=course)
    assert course_get_published(slug="cached").pk == course.pk
    assert [c.slug for c in catalog_courses()] == ["cached"]
    course_archive(actor=admin, course=course)
    assert catalog_courses() == []
    course_delete(actor=admin, course=course)
    with pytest.raises(Http404):
        course_get_published(slug="cached")


def test_cached_course_lookups_never_cross_tenants(tenant, other_tenant):
    from django_tenants.utils import schema_context

    from courses.selectors import catalog_courses

    with schema_context(tenant.schema_name):
        make_course(slug="only-acme")
        assert course_get_published(slug="only-acme")
        assert [c.slug for c in catalog_courses()] == ["only-acme"]
    with schema_context(other_tenant.schema_name):
        with pytest.raises(Http404):
            course_get_published(slug="only-acme")
        assert catalog_courses() == []


def test_services_refuse_people_who_may_not_edit_the_course(admin):
    instructor = User.objects.get(email="instructor@acme.test")
    learner = User.objects.get(email="learner@acme.test")
    course = make_course(slug="guarded", publish=False)
    for actor in (learner, instructor):  # the instructor does not teach this course
        with pytest.raises(CourseError, match="instructors and the organization's admins"):
            course_publish(actor=actor, course=course)
    course.instructors.add(instructor)
    teacher = User.objects.get(pk=instructor.pk)
    revision = course_publish(actor=teacher, course=course)
    with pytest.raises(CourseError, match="Only an admin"):
        course_delete(actor=teacher, course=course)
    with pytest.raises(CourseError, match="Only an admin"):
        revision_restore(actor=teacher, revision=revision)
    course.refresh_from_db()
    assert not course.is_deleted and course.revisions.count() == 1


def test_restoring_a_revision_whose_slug_is_taken_is_refused(admin):
    course = make_course(slug="old-name")
    first = course.published_revision
    course.slug = "new-name"
    course.save()
    course_publish(actor=admin, course=course)
    make_course(slug="old-name")
    with pytest.raises(CourseError, match="another course has now"):
        revision_restore(actor=admin, revision=first)
    course.refresh_from_db()
    assert course.slug == "new-name" and course.revisions.count() == 2


def test_an_authors_top_heading_becomes_a_section_heading():
    from courses.markdown import render_markdown

    assert str(render_markdown("# Safety first")) == "<h2>Safety first</h2>"
