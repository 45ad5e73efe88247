"""The course builder in the tenant admin: categories, courses (the builder page), modules, lessons, history.

Tenant admins see every course; instructors only the courses where they are on the staff
(`courses.permissions`): owners and co-instructors edit them, teaching assistants see
them read only. The same rules filter lists, forms, choices and every builder endpoint.
Nothing is hard-deleted from here: "delete" sets `deleted_at` and can be undone.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.admin_site import tenant_admin_site
from core.errors import DomainError
from lms.http import form_error

from .admin_views import CourseBuilderViews, builder_url, course_status_badge
from .forms import (
    CategoryAdminForm,
    CourseAdminForm,
    CourseStaffForm,
    CourseStaffFormSet,
    LessonAdminForm,
    ModuleAdminForm,
)
from .models import Category, Course, CourseRevision, CourseStaff, Lesson, Module
from .permissions import (
    courses_for_staff,
    courses_visible_to_staff,
    is_tenant_admin,
    may_edit,
    may_manage_staff,
    teaching_staff,
)
from .services import (
    CATEGORY_FIELDS,
    COURSE_FIELDS,
    LESSON_FIELDS,
    MODULE_FIELDS,
    CourseError,
    category_create,
    category_delete,
    category_update,
    course_create,
    course_delete,
    course_restore,
    course_staff_set,
    course_update,
    lesson_create,
    lesson_delete,
    lesson_set_prerequisites,
    lesson_update,
    module_create,
    module_delete,
    module_set_prerequisites,
    module_update,
)

SOFT_DELETE_TEMPLATE = "admin/courses/soft_delete_confirmation.html"


class NotFoundMixin:
    """An object outside the person's queryset answers 404, not Django's redirect to the index."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object here.")
        return obj


class Refused(Exception):
    """A service's refusal raised out of save_model/delete_model, so the admin's transaction rolls
    back; `ServiceRefusalMixin` then shows the sentence."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error


class RefusalOnForm:
    """Mixed into an admin form: a refusal from the last attempt becomes an error on this form."""

    refusal: DomainError | None = None

    def clean(self):
        cleaned = super().clean()
        if self.refusal is not None:
            form_error(self, self.refusal)
        return cleaned


class ServiceRefusalMixin:
    """Saves and deletes go through `courses.services`; a refusal (CourseError) changes nothing.

    On the add/change page the page is shown again, with what the person typed and the refusal
    on its field (lms.http.form_error): the first attempt ran in the admin's transaction and was
    rolled back, the second validates the same POST with the refusal added, so it stops at the
    form. On the delete page the refusal is a message on the object's page.
    """

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_course_refusal", None)
        return type(form.__name__, (RefusalOnForm, form), {"refusal": refusal})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refused as refused:
            request._course_refusal = refused.error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except Refused as refused:
            messages.error(request, refused.error.message)
            url = reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[unquote(object_id)]
            )
            return HttpResponseRedirect(url)


def _through_service(service, **kwargs):
    try:
        return service(**kwargs)
    except CourseError as exc:
        raise Refused(exc) from exc


def _adopt(obj, saved) -> None:
    """Make the admin's instance (which the form and inlines hold) the row the service created."""
    obj.__dict__.update(saved.__dict__)


def _form_values(obj, form, names: frozenset[str], *, changed_only: bool) -> dict:
    # Values from the instance, which the form has filled (files and cleared files as model values).
    fields = form.changed_data if changed_only else form.fields
    return {name: getattr(obj, name) for name in fields if name in names}


class SoftDeleteMixin:
    """Delete moves to the trash (`soft_delete`); the confirmation page says it can be undone."""

    delete_confirmation_template = SOFT_DELETE_TEMPLATE

    def get_deleted_objects(self, objs, request):
        # Nothing is removed from the database, so there is no cascade to list or to check.
        return [], {}, set(), []

    def delete_model(self, request, obj):
        self.trash(request, obj)

    def trash(self, request, obj) -> None:
        obj.soft_delete()

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class BackToBuilderMixin:
    """After saving or deleting a module or lesson, go back to its course's builder page."""

    def course_id_of(self, obj) -> int:
        raise NotImplementedError

    def _stay(self, request) -> bool:
        return any(key in request.POST for key in ("_continue", "_addanother", "_saveasnew", IS_POPUP_VAR))

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        if self._stay(request):
            return response
        return HttpResponseRedirect(builder_url(self.course_id_of(obj), f"{obj._meta.model_name}-{obj.pk}"))

    def response_change(self, request, obj):
        response = super().response_change(request, obj)
        if self._stay(request):
            return response
        return HttpResponseRedirect(builder_url(self.course_id_of(obj), f"{obj._meta.model_name}-{obj.pk}"))

    def delete_model(self, request, obj):
        request._builder_course_id = self.course_id_of(obj)
        super().delete_model(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        response = super().response_delete(request, obj_display, obj_id)
        course_id = getattr(request, "_builder_course_id", None)
        if course_id is None or IS_POPUP_VAR in request.POST:
            return response
        return HttpResponseRedirect(builder_url(course_id, "curriculum"))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        course = None
        if obj is not None and obj.pk:
            course = Course.objects.filter(pk=self.course_id_of(obj)).first()
        else:
            form = context["adminform"].form if context.get("adminform") else None
            course = self.course_from_initial(request, form)
        context["builder_course"] = course
        return super().render_change_form(request, context, add, change, form_url, obj)

    def course_from_initial(self, request, form) -> Course | None:
        """On an add page, the course the new object will belong to (from ?course= or ?module=)."""
        return None


class PrerequisitesThroughServiceMixin:
    """Prerequisites go through the service (same course, loop check, audit), not the form's save_m2m."""

    def set_prerequisites(self, *, actor, obj, prerequisites) -> None:
        raise NotImplementedError

    def save_related(self, request, form, formsets, change):
        wanted = form.cleaned_data.pop("prerequisites", None)
        super().save_related(request, form, formsets, change)
        if wanted is not None and set(wanted) != set(form.instance.prerequisites.all()):
            try:
                self.set_prerequisites(actor=request.user, obj=form.instance, prerequisites=list(wanted))
            except CourseError as exc:
                raise PermissionDenied(str(exc)) from exc


class TrashFilter(admin.SimpleListFilter):
    title = "deleted"
    parameter_name = "trash"

    def lookups(self, request, model_admin):
        return [("deleted", "Deleted"), ("all", "All, deleted too")]

    def queryset(self, request, queryset):
        if self.value() == "deleted":
            return queryset.deleted()
        if self.value() == "all":
            return queryset
        return queryset.alive()

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Not deleted",
        }
        for value, title in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": title,
            }


@admin.register(Category, site=tenant_admin_site)
class CategoryAdmin(NotFoundMixin, ServiceRefusalMixin, SoftDeleteMixin, admin.ModelAdmin):
    form = CategoryAdminForm
    list_display = ("__str__", "parent", "position", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("parent__position", "parent__name", "position", "name")

    def get_queryset(self, request):
        return super().get_queryset(request).alive().select_related("parent")

    def save_model(self, request, obj, form, change):
        if change:
            fields = _form_values(obj, form, CATEGORY_FIELDS, changed_only=True)
            _through_service(category_update, actor=request.user, category=obj, **fields)
            return
        fields = _form_values(obj, form, CATEGORY_FIELDS, changed_only=False)
        fields.pop("name", None)
        _adopt(obj, _through_service(category_create, actor=request.user, name=obj.name, **fields))

    def trash(self, request, obj) -> None:
        # Subcategories go with their parent; courses in them simply lose the category filter.
        _through_service(category_delete, actor=request.user, category=obj)


class CourseStaffInline(admin.TabularInline):
    """The course's staff on its page: the owner and tenant admins change it, others read it."""

    model = CourseStaff
    form = CourseStaffForm
    formset = CourseStaffFormSet
    extra = 1
    verbose_name = "staff member"
    verbose_name_plural = "Course staff: owners and co-instructors edit and grade; teaching assistants grade"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(
            formset.__name__, (formset,), {"actor": request.user, "editable": self._may_manage(request, obj)}
        )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def _may_manage(self, request, obj) -> bool:
        return may_manage_staff(request.user, obj) if obj is not None else is_tenant_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return True  # whoever sees the course sees who teaches it

    def has_add_permission(self, request, obj=None):
        return self._may_manage(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_manage(request, obj)


@admin.register(Course, site=tenant_admin_site)
class CourseAdmin(NotFoundMixin, ServiceRefusalMixin, CourseBuilderViews, admin.ModelAdmin):
    form = CourseAdminForm
    list_display = ("title", "status_badge", "category", "instructor_names", "updated_at", "builder_link")
    list_display_links = ("title",)
    list_filter = (TrashFilter, "status", "level", "category")
    search_fields = ("title", "slug", "summary")
    prepopulated_fields = {"slug": ("title",)}
    delete_confirmation_template = "admin/courses/course/delete_confirmation.html"
    actions = ["restore_selected"]
    fieldsets = (
        (None, {"fields": ("title", "slug", "summary", "description")}),
        ("In the catalog", {"fields": ("cover", "category", "level", "estimated_minutes")}),
        ("Enrollment", {"fields": ("enrollment_policy",)}),
    )
    inlines = [CourseStaffInline]

    class Media:
        css = {"all": ["courses/admin/builder.css"]}
        js = ["courses/admin/builder.js"]

    def get_queryset(self, request):
        return (
            courses_visible_to_staff(request.user)
            .select_related("category", "category__parent", "published_revision")
            .defer("published_revision__snapshot", "published_revision__card")
            .prefetch_related("staff__user")
        )

    def has_change_permission(self, request, obj=None):
        # Teaching assistants see their courses here, read only.
        return super().has_change_permission(request, obj) and (obj is None or may_edit(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        # Tenant admins only: deleting takes a course away from every enrolled learner.
        if obj is not None and obj.is_deleted:
            return False
        return is_tenant_admin(request.user) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        if not is_tenant_admin(request.user):
            actions.pop("restore_selected", None)
        return actions

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    @admin.display(description="Status")
    def status_badge(self, obj):
        badge = course_status_badge(obj)
        return format_html('<span class="lms-badge lms-badge--{}">{}</span>', badge["tone"], badge["label"])

    @admin.display(description="Curriculum")
    def builder_link(self, obj):
        # The course builder page (the `builder` app) is where staff arrange modules and lessons.
        return format_html('<a href="{}">Open builder</a>', reverse("builder:page", args=[obj.slug]))

    @admin.display(description="Instructors")
    def instructor_names(self, obj):
        teachers = teaching_staff(sorted(obj.staff.all(), key=lambda row: str(row.user)))
        return ", ".join(str(row.user) for row in teachers) or "—"

    def save_formset(self, request, form, formset, change):
        if formset.model is not CourseStaff:
            return super().save_formset(request, form, formset, change)
        if not formset.editable or not formset.has_changed():
            return None
        # The staff list is written by the service (checks, one owner, audit), not the formset.
        try:
            course_staff_set(actor=request.user, course=form.instance, members=formset.members())
        except CourseError as exc:
            # The formset's own clean() ran the same checks; this is a change that raced it.
            raise PermissionDenied(str(exc)) from exc
        return None

    def save_model(self, request, obj, form, change):
        # An instructor who creates a course becomes its owner (course_create; an admin can hand
        # it over later).
        if change:
            fields = _form_values(obj, form, COURSE_FIELDS, changed_only=True)
            _through_service(course_update, actor=request.user, course=obj, **fields)
            return
        fields = _form_values(obj, form, COURSE_FIELDS, changed_only=False)
        fields.pop("title", None)
        _adopt(obj, _through_service(course_create, actor=request.user, title=obj.title, **fields))

    def response_add(self, request, obj, post_url_continue=None):
        if IS_POPUP_VAR in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        messages.success(request, f"Course “{obj}” created. Now build its curriculum: add a module below.")
        return HttpResponseRedirect(builder_url(obj.pk, "curriculum"))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None:
            context.update(self.builder_context(request, obj.pk))
            context["title"] = "Course builder"
            context["show_delete"] = not obj.is_deleted
        return super().render_change_form(request, context, add, change, form_url, obj)

    def delete_model(self, request, obj):
        _through_service(course_delete, actor=request.user, course=obj)
        messages.info(request, "Admins can restore it: filter the course list by “Deleted”.")

    def delete_queryset(self, request, queryset):
        for course in queryset:
            self.delete_model(request, course)

    def get_deleted_objects(self, objs, request):
        return [], {}, set(), []

    @admin.action(description="Restore selected deleted courses")
    def restore_selected(self, request, queryset):
        if not is_tenant_admin(request.user):
            raise PermissionDenied
        restored = 0
        for course in queryset.deleted():
            try:
                course_restore(actor=request.user, course=course)
            except CourseError as exc:
                self.message_user(request, f"“{course}”: {exc.message}", messages.ERROR)
                continue
            self.log_change(request, course, "Restored from the deleted courses.")
            restored += 1
        self.message_user(request, f"{restored} course(s) restored.", messages.SUCCESS)


@admin.register(Module, site=tenant_admin_site)
class ModuleAdmin(
    NotFoundMixin,
    ServiceRefusalMixin,
    BackToBuilderMixin,
    PrerequisitesThroughServiceMixin,
    SoftDeleteMixin,
    admin.ModelAdmin,
):
    form = ModuleAdminForm
    list_display = ("title", "course", "position")
    list_filter = (("course", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("title", "course__title")
    ordering = ("course__title", "position", "id")
    fieldsets = (
        (None, {"fields": ("course", "title", "summary")}),
        (
            "When it opens",
            {
                "fields": ("drip_days", "drip_at", "prerequisites"),
                "description": "Applies to every lesson of the module, on top of each lesson's own "
                "schedule and prerequisites. Leave empty to open it as soon as the learner enrolls.",
            },
        ),
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .alive()
            .filter(course__in=courses_for_staff(request.user))
            .select_related("course")
        )

    def get_readonly_fields(self, request, obj=None):
        return ("course",) if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "course":
            kwargs["queryset"] = courses_for_staff(request.user).alive()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def course_id_of(self, obj) -> int:
        return obj.course_id

    def course_from_initial(self, request, form) -> Course | None:
        course_id = str(form.initial.get("course") or "") if form is not None else ""
        return courses_for_staff(request.user).filter(pk=course_id).first() if course_id.isdigit() else None

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        # The services check the course (one the person may edit) for adding and changing.
        if change:
            fields = _form_values(obj, form, MODULE_FIELDS, changed_only=True)
            _through_service(module_update, actor=request.user, module=obj, **fields)
            return
        fields = _form_values(obj, form, MODULE_FIELDS, changed_only=False)
        fields.pop("title", None)
        created = _through_service(
            module_create, actor=request.user, course=obj.course, title=obj.title, **fields
        )
        _adopt(obj, created)

    def trash(self, request, obj) -> None:
        _through_service(module_delete, actor=request.user, module=obj)

    def set_prerequisites(self, *, actor, obj, prerequisites) -> None:
        module_set_prerequisites(actor=actor, module=obj, prerequisites=prerequisites)


@admin.register(Lesson, site=tenant_admin_site)
class LessonAdmin(
    NotFoundMixin,
    ServiceRefusalMixin,
    BackToBuilderMixin,
    PrerequisitesThroughServiceMixin,
    SoftDeleteMixin,
    admin.ModelAdmin,
):
    form = LessonAdminForm
    list_display = ("title", "kind", "module", "course_title", "position", "is_preview")
    list_filter = ("kind", ("module__course", admin.RelatedOnlyFieldListFilter))
    search_fields = ("title", "module__title", "module__course__title")
    ordering = ("module__course__title", "module__position", "position", "id")
    fieldsets = (
        (None, {"fields": ("module", "title", "kind")}),
        ("Content", {"fields": ("video", "document", "direct_upload", "embed_url", "body")}),
        ("Settings", {"fields": ("duration_minutes", "is_preview", "is_required")}),
        (
            "When it opens",
            {
                "fields": ("drip_days", "drip_at", "prerequisites"),
                "description": "Leave empty to open it as soon as the learner enrolls.",
            },
        ),
    )
    readonly_fields = ("direct_upload",)

    class Media:
        css = {"all": ["courses/admin/builder.css"]}
        js = ["courses/admin/builder.js"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .alive()
            .filter(module__deleted_at__isnull=True, module__course__in=courses_for_staff(request.user))
            .select_related("module", "module__course")
        )

    @admin.display(description="Course", ordering="module__course__title")
    def course_title(self, obj):
        return obj.module.course.title

    @admin.display(description="Large files")
    def direct_upload(self, obj):
        # The media app's upload page (browser -> storage directly, with progress); courses
        # knows only its URL name, not the app.
        if obj is None or obj.pk is None:
            return "Save the lesson first, then upload large videos directly to storage."
        url = reverse("media:upload_page") + f"?lesson={obj.pk}"
        return format_html('<a href="{}">Upload a video or PDF directly to storage</a> (with progress)', url)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "module":
            kwargs["queryset"] = (
                Module.objects.alive()
                .filter(course__in=courses_for_staff(request.user).alive())
                .select_related("course")
                .order_by("course__title", "position", "id")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "module" in form.base_fields:
            # A lesson moves between the modules of its own course, not to another course.
            field = form.base_fields["module"]
            field.queryset = field.queryset.filter(course_id=obj.module.course_id)
        return type(form.__name__, (form,), {"actor": request.user})

    def course_id_of(self, obj) -> int:
        return obj.module.course_id

    def course_from_initial(self, request, form) -> Course | None:
        module_id = str(form.initial.get("module") or "") if form is not None else ""
        if not module_id.isdigit():
            return None
        return courses_for_staff(request.user).filter(modules__pk=module_id).first()

    def save_model(self, request, obj, form, change):
        # The service checks the module (of a course the person may edit, the lesson's own
        # course when it moves) for adding and changing.
        if change:
            fields = _form_values(obj, form, LESSON_FIELDS, changed_only=True)
            if "module" in form.changed_data:
                fields["module"] = obj.module
            _through_service(lesson_update, actor=request.user, lesson=obj, **fields)
            return
        fields = _form_values(obj, form, LESSON_FIELDS, changed_only=False)
        fields.pop("title", None)
        created = _through_service(
            lesson_create, actor=request.user, module=obj.module, title=obj.title, **fields
        )
        _adopt(obj, created)

    def trash(self, request, obj) -> None:
        _through_service(lesson_delete, actor=request.user, lesson=obj)

    def set_prerequisites(self, *, actor, obj, prerequisites) -> None:
        lesson_set_prerequisites(actor=actor, lesson=obj, prerequisites=prerequisites)

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        if "_addanother" in request.POST and IS_POPUP_VAR not in request.POST:
            # The next lesson goes into the same module.
            return HttpResponseRedirect(f"{reverse('admin:courses_lesson_add')}?module={obj.module_id}")
        return response


@admin.register(CourseRevision, site=tenant_admin_site)
class CourseRevisionAdmin(NotFoundMixin, admin.ModelAdmin):
    """Published revisions, read only. Restoring one is a button on the course page (admins)."""

    list_display = ("course", "number", "author", "created_at", "summary")
    list_filter = (("course", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("course__title", "summary")
    fields = ("course", "number", "author", "created_at", "summary", "outline")
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(course__in=courses_for_staff(request.user))
            .select_related("course", "author")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Published outline")
    def outline(self, obj):
        modules = obj.snapshot.get("modules", [])
        if not modules:
            return "—"
        return format_html(
            '<ol class="lms-revision-outline">{}</ol><details><summary>Snapshot (JSON)</summary>'
            '<pre class="lms-json">{}</pre></details>',
            format_html_join(
                "",
                "<li>{}<ol>{}</ol></li>",
                (
                    (
                        module["title"],
                        format_html_join(
                            "",
                            "<li>{} <small>({})</small></li>",
                            ((x["title"], x["kind"]) for x in module["lessons"]),
                        ),
                    )
                    for module in modules
                ),
            ),
            json.dumps(obj.snapshot, indent=2, ensure_ascii=False),
        )
