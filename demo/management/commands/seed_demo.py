"""Create the demo tenants, their people and their catalogs. Safe to run again: it only fills in
what is missing (tenants by slug, people by e-mail, categories and courses by slug)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.text import slugify
from django_tenants.utils import schema_context

from accounts.models import Role
from accounts.services import user_create
from courses.models import Category, Course, CourseStaffRole, CourseStatus, Lesson, LessonKind, Module
from courses.selectors import outline_for
from courses.services import course_publish, lesson_set_prerequisites
from demo.assessments import QUIZZES, demo_quiz_ensure
from demo.content_files import ContentError
from demo.content_spec import CATALOGS, Catalog, CategorySpec, CourseSpec, LearnerJourney
from demo.media import VIDEO_SECONDS, DemoMediaError, demo_pdf, demo_video
from enrollments.models import Enrollment
from enrollments.services import enrollment_create, lesson_complete, video_progress_record
from media_delivery.services import asset_adopt, lesson_files_adopt
from media_delivery.storage import StorageUnavailable, bucket_check
from tenants.context import absolute_url, storage_prefix, tenant_url
from tenants.models import Plan, Tenant
from tenants.services import TenantError, tenant_create

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - printed by `make demo`; demo data only
OPERATOR_EMAIL = "operator@lms.test"

DEMO_TENANTS = [
    {
        "slug": "acme",
        "name": "Acme Corp",
        "display_name": "Acme Academy",
        "colour": "#c2410c",
        "plan": Plan.TEAM,
    },
    {
        "slug": "globex",
        "name": "Globex Learning",
        "display_name": "Globex Learning",
        "colour": "#047857",
        "plan": Plan.BUSINESS,
    },
]
PEOPLE = [
    (Role.ADMIN, "admin", "{name} Admin"),
    (Role.INSTRUCTOR, "instructor", "Ada Instructor"),
    (Role.LEARNER, "learner", "Lee Learner"),
]


class Command(BaseCommand):
    help = (
        "Create the demo tenants acme and globex with an admin, an instructor and a learner each, "
        "and a published course catalog (with a video and a PDF) in each."
    )

    def handle(self, *args, **options) -> None:
        try:
            for slug in CATALOGS:  # read and check every content file before writing anything
                CATALOGS[slug], QUIZZES[slug]
        except ContentError as exc:
            raise CommandError(f"The demo content has a mistake: {exc}") from None
        connection.set_schema_to_public()
        self._operator()
        for spec in DEMO_TENANTS:
            try:
                tenant = self._tenant(spec)
            except TenantError as exc:
                raise CommandError(f"Could not create demo tenant {spec['slug']}: {exc}") from None
            with schema_context(tenant.schema_name):
                self._people(tenant, spec)
                added = self._catalog(tenant, spec, CATALOGS[tenant.slug])
                published = Course.objects.alive().filter(status=CourseStatus.PUBLISHED).count()
            connection.set_schema_to_public()
            self.stdout.write(self.style.SUCCESS(f"{tenant.slug}: ready at {tenant_url(tenant)}"))
            self.stdout.write(f"{tenant.slug}: {published} published courses ({added} added now)")
        self.stdout.write(f"Operator site: {absolute_url(_base_host(), '/admin/')} ({OPERATOR_EMAIL})")
        self.stdout.write(f"Demo password for everyone: {DEMO_PASSWORD}")

    def _operator(self) -> None:
        User = get_user_model()
        if not User.objects.filter(email=OPERATOR_EMAIL).exists():
            User.objects.create_superuser(OPERATOR_EMAIL, DEMO_PASSWORD, full_name="Demo Operator")

    def _tenant(self, spec: dict) -> Tenant:
        tenant = Tenant.objects.filter(slug=spec["slug"]).first()
        if tenant is None:
            tenant = tenant_create(
                slug=spec["slug"],
                name=spec["name"],
                admin_email=f"admin@{spec['slug']}.test",
                plan=spec["plan"],
                admin_password=DEMO_PASSWORD,
            ).tenant
        tenant.display_name = spec["display_name"]
        tenant.primary_colour = spec["colour"]
        tenant.save(update_fields=["display_name", "primary_colour", "updated_at"])
        return tenant

    @transaction.atomic
    def _people(self, tenant: Tenant, spec: dict) -> None:
        User = get_user_model()
        for role, local, name in PEOPLE:
            email = f"{local}@{tenant.slug}.test"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = user_create(
                    email=email, role=role, password=DEMO_PASSWORD, full_name=name.format(**spec)
                )
            elif not user.has_usable_password():
                # e.g. an admin made by create_tenant who never used the one-time link.
                user.set_password(DEMO_PASSWORD)
                user.full_name = user.full_name or name.format(**spec)
                user.save(update_fields=["password", "full_name", "updated_at"])

    # --- The catalog (runs inside the tenant's schema) ---------------------------------

    def _catalog(self, tenant: Tenant, spec: dict, catalog: Catalog) -> int:
        """Create the courses that are missing; returns how many were added."""
        User = get_user_model()
        instructor = User.objects.get(email=f"instructor@{tenant.slug}.test")
        categories = _categories(catalog.categories)
        added = 0
        for course_spec in catalog.courses:
            # Identified by slug, deleted ones included: a course someone removed on purpose
            # stays removed, and the slug is taken anyway.
            if Course.objects.filter(slug=course_spec.slug).exists():
                continue
            # Media first: S3 is outside the transaction, and its names are fixed, so a run
            # that fails later reuses what it uploaded instead of leaving duplicates.
            media = self._media(course_spec, colour=spec["colour"])
            _course_create(
                course_spec, category=categories[course_spec.category], instructor=instructor, media=media
            )
            added += 1
        demo_quiz_ensure(tenant.slug, instructor=instructor)
        # Lessons seeded before media assets existed get theirs (served via /media/<id>/).
        lesson_files_adopt()
        learner = User.objects.get(email=f"learner@{tenant.slug}.test")
        if not _journey(catalog.journey, learner=learner):
            self.stderr.write(
                f"{tenant.slug}: course {catalog.journey.course} was not made by the demo seed, "
                "so the demo learner's progress was not seeded"
            )
        return added

    def _media(self, spec: CourseSpec, *, colour: str) -> dict[str, str]:
        """Upload the course's video and PDFs to the tenant's prefix; lesson title -> storage name."""
        names = {}
        lessons = [x for x in spec.lessons if x.kind in (LessonKind.VIDEO, LessonKind.DOCUMENT)]
        if lessons:
            _bucket_ready()
        for lesson in lessons:
            try:
                if lesson.kind == LessonKind.VIDEO:
                    local, field_name, suffix = demo_video(colour=colour), "video", ".mp4"
                else:
                    doc = lesson.document
                    assert doc is not None  # LessonSpec refuses a document lesson without one
                    local = demo_pdf(name=doc.name, title=doc.title, subtitle=doc.subtitle, body=doc.body)
                    field_name, suffix = "document", ".pdf"
            except DemoMediaError as exc:
                raise CommandError(str(exc)) from None
            filename = f"{spec.slug}-{slugify(lesson.title)}{suffix}"
            names[lesson.title] = _upload(
                local, Lesson._meta.get_field(field_name).generate_filename(None, filename)
            )
        return names


def _bucket_ready() -> None:
    try:
        bucket_check()
    except StorageUnavailable as exc:
        raise CommandError(
            f"The demo media cannot be uploaded: {exc}. Is the S3 server up (make services)?"
        ) from None


def _upload(local: Path, name: str) -> str:
    """Store a local file under `name` in the active tenant's prefix; returns the stored name.

    The demo's files are deterministic, so an object already there with the same size is
    the same file (from an earlier, interrupted run) and is reused.
    """
    if default_storage.exists(name) and default_storage.size(name) == local.stat().st_size:
        return name
    with local.open("rb") as handle:
        return default_storage.save(name, File(handle, name=local.name))


def _categories(specs: list[CategorySpec]) -> dict[str, Category]:
    categories: dict[str, Category] = {}
    for position, spec in enumerate(specs):
        category, _ = Category.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "parent": categories[spec.parent] if spec.parent else None,
                "position": position,
            },
        )
        categories[spec.slug] = category
    return categories


@transaction.atomic
def _course_create(spec: CourseSpec, *, category: Category, instructor, media: dict[str, str]) -> Course:
    """The course, its modules and lessons, published by its instructor: all or nothing."""
    course = Course(
        title=spec.title,
        slug=spec.slug,
        summary=spec.summary,
        description=spec.description,
        category=category,
        level=spec.level,
        enrollment_policy=spec.policy,
        estimated_minutes=sum(lesson.minutes for lesson in spec.lessons),
    )
    course.full_clean()
    course.save()
    course.instructors.add(instructor, through_defaults={"role": CourseStaffRole.OWNER})
    for module_position, module_spec in enumerate(spec.modules):
        module = Module(
            course=course,
            title=module_spec.title,
            summary=module_spec.summary,
            position=module_position,
            drip_days=module_spec.opens_after_days,
        )
        module.full_clean()
        module.save()
        for position, lesson_spec in enumerate(module_spec.lessons):
            lesson = Lesson(
                module=module,
                title=lesson_spec.title,
                kind=lesson_spec.kind,
                position=position,
                duration_minutes=lesson_spec.minutes,
                is_preview=lesson_spec.preview,
                body=lesson_spec.body,
            )
            if lesson_spec.kind == LessonKind.VIDEO:
                lesson.video.name = media[lesson_spec.title]
            elif lesson_spec.kind == LessonKind.DOCUMENT:
                lesson.document.name = media[lesson_spec.title]
            lesson.full_clean()
            lesson.save()
            if lesson.video.name or lesson.document.name:
                # The page reaches the file through its media asset (/media/<id>/); a video
                # is transcoded to HLS by the worker once this transaction commits.
                asset_adopt(
                    actor=instructor,
                    key=storage_prefix() + (lesson.video.name or lesson.document.name),
                    kind="video" if lesson.video.name else "document",
                    lesson=lesson,
                )
    by_title = {lesson.title: lesson for lesson in Lesson.objects.filter(module__course=course)}
    for lesson_spec in spec.lessons:
        if lesson_spec.requires:
            lesson_set_prerequisites(
                actor=instructor,
                lesson=by_title[lesson_spec.title],
                prerequisites=[by_title[title] for title in lesson_spec.requires],
            )
    course_publish(actor=instructor, course=course, summary="Demo course.")
    return course


def _journey(journey: LearnerJourney, *, learner) -> bool:
    """Enroll the demo learner part-way through a course, once. False if the course is not ours."""
    course = Course.objects.filter(slug=journey.course, status=CourseStatus.PUBLISHED).first()
    if course is None:
        return False
    if Enrollment.objects.filter(user=learner, course=course).exists():
        return True
    lesson_ids = {lesson.title: lesson.id for lesson in outline_for(course).lessons}
    if any(title not in lesson_ids for title in [*journey.completed, journey.video]):
        return False
    with transaction.atomic():
        enrollment_create(user=learner, course=course)
        for title in journey.completed:
            lesson_complete(user=learner, course=course, lesson_id=lesson_ids[title])
        video_progress_record(
            user=learner,
            course=course,
            lesson_id=lesson_ids[journey.video],
            position=journey.video_position,
            duration=VIDEO_SECONDS,
            watched_seconds=journey.video_position,
        )
    return True


def _base_host() -> str:
    from django.conf import settings

    return settings.LMS_BASE_DOMAIN
