"""Course pages that need nothing about learners: the catalog and staff's preview of a draft.

The landing page and enrolling need the learner's enrollment, so they live in
`enrollments.views` (apps depend one way: courses <- enrollments); their URLs are still
named `courses:detail` and `courses:enroll` (see lms/urls_tenant.py).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from .markdown import render_markdown
from .models import Category, Course
from .permissions import may_view
from .selectors import catalog_courses, category_list_for_catalog, course_teachers, outline_of_draft

MAX_QUERY_LENGTH = 100


def _category_by_slug(categories: list[Category], slug: str) -> Category | None:
    for parent in categories:
        if parent.slug == slug:
            return parent
        for child in parent.children.all():
            if child.slug == slug and not child.is_deleted:
                return child
    return None


def catalog(request: HttpRequest, *, enrollments: dict | None = None) -> HttpResponse:
    """Published courses as cards, filtered by `?category=<slug>` (with subcategories) and `?q=`.

    `enrollments` maps course id -> the viewer's enrollment, for the badges on the cards.
    """
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    category_slug = request.GET.get("category", "").strip()
    categories = category_list_for_catalog()
    category = _category_by_slug(categories, category_slug) if category_slug else None
    if category_slug and category is None:
        courses = Course.objects.none()  # an unknown (or deleted) category matches nothing
    else:
        courses = catalog_courses(category=category, query=query)
    names = {}
    for parent in categories:
        names[parent.pk] = parent.name
        for child in parent.children.all():
            names[child.pk] = child.name
    enrollments = enrollments or {}
    cards = [
        {
            "slug": course.slug,
            "card": course.published_revision.card,
            "category": names.get(course.published_revision.card.get("category_id")),
            "enrollment": enrollments.get(course.pk),
        }
        for course in courses
    ]
    return render(
        request,
        "courses/catalog.html",
        {
            "cards": cards,
            "categories": categories,
            "category": category,
            "category_slug": category_slug,
            "query": query,
            "filtered": bool(query or category_slug),
        },
    )


def _draft_for_staff(request: HttpRequest, slug: str) -> Course:
    """The course if the signed-in person is on its staff; 404 for everyone else (like another tenant's)."""
    course = Course.objects.alive().filter(slug=slug).first()
    if course is None or not may_view(request.user, course):
        raise Http404("No such course.")
    return course


@login_required
def course_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The draft's landing page as a learner would see it once published."""
    course = _draft_for_staff(request, slug)
    outline = outline_of_draft(course)
    return render(
        request,
        "courses/detail.html",
        {
            "preview": True,
            "course": course,
            "info": outline.course,
            "outline": outline,
            "description_html": render_markdown(outline.course.description),
            "instructors": course_teachers(course),
            "category": course.category,
            "total_minutes": sum(lesson.duration_minutes for lesson in outline.lessons),
            "completed": set(),
            "first_lesson": outline.lessons[0] if outline.lessons else None,
        },
    )


@login_required
def course_preview_lesson(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    """A draft lesson in the player; nothing is recorded."""
    course = _draft_for_staff(request, slug)
    outline = outline_of_draft(course)
    lesson = outline.lesson(lesson_id)
    previous, following = outline.neighbours(lesson.id)
    return render(
        request,
        "courses/lesson.html",
        {
            "preview": True,
            "course": course,
            "info": outline.course,
            "outline": outline,
            "lesson": lesson,
            "previous": previous,
            "next": following,
            "completed": set(),
            "percent": 0,
        },
    )
