"""Every read of courses a view or task needs. Learners only ever see published revisions."""

from __future__ import annotations

from django.core.cache import cache
from django.core.validators import slug_re
from django.db.models import Q, QuerySet
from django.http import Http404

from core.local_cache import LocalLRU
from tenants.context import current_tenant

from .cache import cached, cached_copy
from .markdown import SANITIZER_VERSION
from .models import Category, Course, CourseRevision, CourseStaff, CourseStatus
from .outline import OUTLINE_VERSION, Outline, PublishedCourse, PublishedLesson, PublishedModule, outline_from
from .permissions import teaching_staff

__all__ = ["Outline", "PublishedCourse", "PublishedLesson", "PublishedModule"]

SNAPSHOT_CACHE_SECONDS = 24 * 3600


def catalog_list(*, category: Category | None = None, query: str = "") -> QuerySet[Course]:
    """Published courses for the catalog, with their published card (never the full snapshot)."""
    courses = (
        Course.objects.alive()
        .filter(status=CourseStatus.PUBLISHED, published_revision__isnull=False)
        .select_related("published_revision")
        .defer("published_revision__snapshot", "description")
        .order_by("published_revision__card__title")
    )
    if category is not None:
        ids = [category.pk, *category.children.alive().values_list("pk", flat=True)]
        courses = courses.filter(published_revision__card__category_id__in=ids)
    query = (query or "").strip()[:100]
    if query:
        courses = courses.filter(
            Q(published_revision__card__title__icontains=query)
            | Q(published_revision__card__summary__icontains=query)
        )
    return courses


def catalog_courses(*, category: Category | None = None, query: str = "") -> list[Course]:
    """catalog_list as a list; the unsearched pages are cached under the courses version."""
    if (query or "").strip():
        return list(catalog_list(category=category, query=query))
    # The per-process layer saves the GET and unpickling of the list (the catalog page and
    # GET /api/v1/courses ask on every request); the version is still read each time (ADR 0052).
    return cached_copy(
        "catalog", lambda: list(catalog_list(category=category)), category.pk if category else "all"
    )


def category_list_for_catalog() -> list[Category]:
    return cached(
        "categories",
        lambda: list(Category.objects.alive().filter(parent__isnull=True).prefetch_related("children")),
    )


def course_get_published(*, slug: str, version: int | None = None) -> Course:
    """A course learners can know about (published or archived, not deleted); 404 otherwise.

    `version`: the tenant's courses version when the caller read it already (the lesson door
    reads it together with the learner's state).
    """
    # A slug no course can have (too long, or not a slug: the API's path parameters take any
    # text) names nothing: answer before it becomes a cache key.
    if len(slug) > Course._meta.get_field("slug").max_length or not slug_re.match(slug):
        raise Http404("No such course.")
    # Every learner page and media request asks this: the per-process layer saves a GET (ADR 0052).
    course = cached_copy("published", lambda: _course_published_or_none(slug), slug, version=version)
    if not course:
        raise Http404("No such course.")
    return course


def _course_published_or_none(slug: str) -> Course | bool:
    try:
        return (
            Course.objects.alive()
            .filter(
                status__in=[CourseStatus.PUBLISHED, CourseStatus.ARCHIVED], published_revision__isnull=False
            )
            .select_related("published_revision")
            .defer("published_revision__snapshot")
            .get(slug=slug)
        )
    except Course.DoesNotExist:
        return False  # cached too: probing for slugs costs no query


# Decoded outlines kept in this process. Keyed by the tenant's uuid (never reused, unlike
# schema names and per-schema ids) and the revision id; revisions never change.
# At most PROCESS_CACHE_MAX["course_outline"] outlines across all tenants (ADR 0115).
_LOCAL_OUTLINES = LocalLRU("course_outline", 512)


def outline_for(course: Course) -> Outline:
    """The published outline of a course; cached per revision (revisions never change)."""
    revision_id = course.published_revision_id
    if revision_id is None:
        raise Http404("This course is not published.")
    tenant = current_tenant()
    local_key = (str(tenant.uuid), revision_id) if tenant is not None else None
    if local_key is not None:
        outline = _LOCAL_OUTLINES.get(local_key)
        if outline is not None:
            return outline
    key = f"course-outline:{revision_id}:md{SANITIZER_VERSION}:v{OUTLINE_VERSION}"
    outline = cache.get(key)
    if outline is None:
        snapshot = CourseRevision.objects.values_list("snapshot", flat=True).get(pk=revision_id)
        outline = outline_from(revision_id, snapshot)
        cache.set(key, outline, SNAPSHOT_CACHE_SECONDS)
    if local_key is not None:
        _LOCAL_OUTLINES.put(local_key, outline)
    return outline


def outline_of_draft(course: Course) -> Outline:
    """The unpublished draft rendered like the published outline (preview as learner)."""
    from .snapshots import snapshot_of

    return outline_from(0, snapshot_of(course))


def course_teachers(course: Course) -> list:
    """Who teaches the course, for its pages: the owner first, then co-instructors (not assistants)."""
    rows = (
        CourseStaff.objects.filter(course=course)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )
    return [row.user for row in teaching_staff(rows)]
