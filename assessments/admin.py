"""Authoring in the tenant admin: assessments, questions with choices, question banks, certificates.

Tenant admins see every course's assessments, instructors those of the courses they may
edit (`enrollments.access.courses_for_editing`, the list `editing_decision` allows).
Permissions come from the tenant role here rather than from accounts' permission table,
so this app stays self-contained (accounts imports nothing above it).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounts.admin_site import tenant_admin_site
from accounts.permissions import is_tenant_admin, may_use_admin
from courses.admin import NotFoundMixin, Refused, ServiceRefusalMixin
from courses.models import Course, Lesson, LessonKind
from enrollments.access import courses_for_editing, editing_decision

from .authoring import (
    ASSESSMENT_FIELDS,
    QUESTION_FIELDS,
    assessment_create,
    assessment_delete,
    assessment_update,
    bank_create,
    bank_delete,
    bank_update,
    question_create,
    question_delete,
    question_update,
    rubric_criterion_delete,
    rubric_criterion_save,
)
from .certificates import CertificateError, certificate_reissue, certificate_revoke
from .models import (
    CHOICE_KINDS,
    Assessment,
    Certificate,
    CertificateSettings,
    Choice,
    PoolDraw,
    Question,
    QuestionPool,
    RubricCriterion,
)
from .services import (
    AssessmentError,
    assessment_reference_problems,
    certificate_settings_delete,
    certificate_settings_problems,
    certificate_settings_save,
    pool_draw_delete,
    pool_draw_problems,
    pool_draw_save,
    question_pool_problems,
    question_reference_problems,
)


class StaffAdmin(NotFoundMixin, admin.ModelAdmin):
    """Open to tenant admins and instructors; rows limited to the courses they may edit."""

    course_path = "course"

    def _staff(self, request) -> bool:
        return may_use_admin(request.user)

    def has_module_permission(self, request):
        return self._staff(request)

    def has_view_permission(self, request, obj=None):
        return self._staff(request)

    def has_add_permission(self, request):
        return self._staff(request)

    def has_change_permission(self, request, obj=None):
        return self._staff(request) and (
            obj is None or bool(editing_decision(request.user, self.course_of(obj)))
        )

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)

    def course_of(self, obj) -> Course:
        obj = self._stored(obj)
        for part in self.course_path.split("__"):
            obj = getattr(obj, part)
        return obj

    def _stored(self, obj):
        """The row as stored: after a refused post the form has already changed the instance."""
        return self.model.objects.get(pk=obj.pk) if obj.pk else obj

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(**{f"{self.course_path}__in": courses_for_editing(request.user).alive()})
        )

    # Every reference the form sets is checked by the app's service (ADR 0065): in the form, so
    # a refusal is an error on the page, and again when saving, so nothing else can skip it.

    def reference_problems(self, *, actor, obj) -> list[str]:
        return []

    def service_save(self, *, actor, obj) -> None:
        raise NotImplementedError(f"{type(self).__name__} writes through a service")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        model_admin, actor = self, request.user

        def _post_clean(self):
            form._post_clean(self)
            if not self._errors:
                for problem in model_admin.reference_problems(actor=actor, obj=self.instance):
                    self.add_error(None, problem)

        return type(form.__name__, (form,), {"_post_clean": _post_clean})

    def save_model(self, request, obj, form, change):
        # The form ran the same checks; a refusal here is a change that raced it (the admin's
        # transaction rolls everything back and the page shows the sentence).
        _through(self.service_save, actor=request.user, obj=obj)


def _through(service, **kwargs):
    """Call an authoring service; a refusal leaves the admin's transaction (which rolls back) and
    `ServiceRefusalMixin` shows the page again with the sentence on its field (ADR 0145, 0170)."""
    try:
        return service(**kwargs)
    except AssessmentError as exc:
        raise Refused(exc) from exc


def _adopt(obj, saved) -> None:
    """Make the admin's instance (which the form and inlines hold) the row the service created."""
    obj.__dict__.update(saved.__dict__)


def _form_values(obj, form, names: frozenset[str], *, changed_only: bool) -> dict:
    fields = form.changed_data if changed_only else form.fields
    return {name: getattr(obj, name) for name in fields if name in names}


class ServiceWrites(ServiceRefusalMixin):
    """Saves and deletes through `assessments.authoring`; deleting is one object at a time, from its
    page, so each refusal (learners' attempts, draws from a bank) is shown on it."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class StaffInline:
    """Inline rows follow their parent: whoever may change the parent may change them."""

    def _staff(self, request) -> bool:
        return may_use_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return self._staff(request)

    def has_add_permission(self, request, obj=None):
        return self._staff(request)

    def has_change_permission(self, request, obj=None):
        return self._staff(request)

    def has_delete_permission(self, request, obj=None):
        return self._staff(request)


class PoolDrawFormSet(BaseInlineFormSet):
    """The assessment's draws: every bank must be of the assessment's course (checked by the service)."""

    actor = None

    def clean(self):
        super().clean()
        assessment = self.instance
        if any(self.errors) or not assessment.lesson_id:
            return
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("pool") is None or data.get("DELETE"):
                continue
            for problem in pool_draw_problems(actor=self.actor, assessment=assessment, pool=data["pool"]):
                raise ValidationError(problem)


class PoolDrawInline(StaffInline, admin.TabularInline):
    model = PoolDraw
    formset = PoolDrawFormSet
    extra = 0
    verbose_name = "draw from a question bank"
    verbose_name_plural = "draw N random questions from question banks"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Banks of the courses the person may edit; once the assessment exists, of its course only.
        pools = QuestionPool.objects.filter(course__in=courses_for_editing(request.user).alive())
        if obj is not None and obj.pk:
            pools = pools.filter(course_id=obj.course_id)
        if "pool" in formset.form.base_fields:
            formset.form.base_fields["pool"].queryset = pools
        return type(formset.__name__, (formset,), {"actor": request.user})


class RubricInline(StaffInline, admin.TabularInline):
    model = RubricCriterion
    extra = 0
    fields = ("title", "description", "points", "position")


@admin.register(Assessment, site=tenant_admin_site)
class AssessmentAdmin(ServiceWrites, StaffAdmin):
    course_path = "lesson__module__course"
    list_display = ("__str__", "kind", "course_title", "max_score", "passing_score", "time_limit_minutes")
    list_filter = ("kind",)
    search_fields = ("lesson__title", "lesson__module__course__title")
    inlines = [PoolDrawInline, RubricInline]
    readonly_fields = ("question_list",)
    fieldsets = (
        (None, {"fields": ("lesson", "kind", "instructions")}),
        ("Scoring", {"fields": ("max_score", "passing_score", "grade_policy")}),
        (
            "Taking",
            {
                "fields": (
                    "time_limit_minutes",
                    "attempts_allowed",
                    "shuffle_questions",
                    "shuffle_choices",
                    "show_answers",
                    "available_from",
                    "available_until",
                )
            },
        ),
        ("Assignments", {"fields": ("accepts_text", "accepts_file", "max_file_mb")}),
        ("Questions", {"fields": ("question_list",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lesson__module__course")

    @admin.display(description="Course")
    def course_title(self, obj):
        return obj.lesson.module.course.title

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "lesson":
            kwargs["queryset"] = Lesson.objects.alive().filter(
                kind__in=[LessonKind.QUIZ, LessonKind.ASSIGNMENT],
                module__deleted_at__isnull=True,
                module__course__in=courses_for_editing(request.user).alive(),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def reference_problems(self, *, actor, obj) -> list[str]:
        return assessment_reference_problems(actor=actor, assessment=obj)

    def save_model(self, request, obj, form, change):
        if change:
            fields = _form_values(obj, form, ASSESSMENT_FIELDS, changed_only=True)
            lesson = obj.lesson if "lesson" in form.changed_data else None
            _through(assessment_update, actor=request.user, assessment=obj, lesson=lesson, **fields)
            return
        fields = _form_values(obj, form, ASSESSMENT_FIELDS, changed_only=False)
        _adopt(obj, _through(assessment_create, actor=request.user, lesson=obj.lesson, **fields))

    def delete_model(self, request, obj):
        _through(assessment_delete, actor=request.user, assessment=obj)

    def save_formset(self, request, form, formset, change):
        # Draws and rubric criteria are written one by one by their services (checks, audit).
        save, delete = {
            PoolDraw: (pool_draw_save, pool_draw_delete),
            RubricCriterion: (rubric_criterion_save, rubric_criterion_delete),
        }.get(formset.model, (None, None))
        if save is None:
            return super().save_formset(request, form, formset, change)
        name = "draw" if formset.model is PoolDraw else "criterion"
        try:
            for row in formset.save(commit=False):
                save(actor=request.user, **{name: row})
            for row in formset.deleted_objects:
                delete(actor=request.user, **{name: row})
        except AssessmentError as exc:
            raise Refused(exc) from exc
        return None

    @admin.display(description="Questions")
    def question_list(self, obj):
        if obj is None or not obj.pk:
            return "Save the assessment first, then add its questions."
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a> <small>({}, {} pt)</small></li>',
            (
                (
                    reverse("admin:assessments_question_change", args=[q.pk]),
                    str(q),
                    q.get_kind_display(),
                    q.points,
                )
                for q in obj.questions.all()
            ),
        )
        add = reverse("admin:assessments_question_add") + f"?assessment={obj.pk}"
        return format_html('<ol>{}</ol><p><a class="addlink" href="{}">Add a question</a></p>', rows, add)


class ChoiceInline(StaffInline, admin.TabularInline):
    model = Choice
    extra = 3
    fields = ("text", "is_correct", "position")


@admin.register(Question, site=tenant_admin_site)
class QuestionAdmin(ServiceWrites, StaffAdmin):
    list_display = ("__str__", "kind", "points", "where")
    list_filter = ("kind",)
    search_fields = ("prompt",)
    inlines = [ChoiceInline]
    fieldsets = (
        (None, {"fields": ("assessment", "pool", "kind", "prompt", "points", "position")}),
        ("Choice questions", {"fields": ("partial_credit",)}),
        ("True / false", {"fields": ("correct_true",)}),
        ("Short answer", {"fields": ("accepted_answers", "case_sensitive")}),
        ("Numeric", {"fields": ("numeric_answer", "tolerance")}),
        ("Feedback", {"fields": ("explanation",)}),
    )

    def get_queryset(self, request):
        allowed = courses_for_editing(request.user).alive()
        return (
            admin.ModelAdmin.get_queryset(self, request)
            .filter(models_q(allowed))
            .select_related("assessment__lesson", "pool")
        )

    def course_of(self, obj) -> Course:
        obj = self._stored(obj)
        return obj.pool.course if obj.pool_id else obj.assessment.lesson.module.course

    @admin.display(description="In")
    def where(self, obj):
        return f"bank: {obj.pool}" if obj.pool_id else str(obj.assessment)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        allowed = courses_for_editing(request.user).alive()
        if db_field.name == "assessment":
            kwargs["queryset"] = Assessment.objects.filter(lesson__module__course__in=allowed).select_related(
                "lesson"
            )
        if db_field.name == "pool":
            kwargs["queryset"] = QuestionPool.objects.filter(course__in=allowed)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def reference_problems(self, *, actor, obj) -> list[str]:
        return question_reference_problems(actor=actor, question=obj)

    def save_model(self, request, obj, form, change):
        # Written in save_related, together with its choices: the service checks the question
        # as a whole (a choice question needs its right answers), so it needs both at once.
        pass

    def save_related(self, request, form, formsets, change):
        question = form.instance
        choice_rows = next((fs for fs in formsets if fs.model is Choice), None)
        choices = _choices_of_formset(choice_rows) if question.kind in CHOICE_KINDS else []
        if change:
            fields = _form_values(question, form, QUESTION_FIELDS, changed_only=True)
            for home in ("assessment", "pool"):
                if home in form.changed_data:
                    fields[home] = getattr(question, home)
            _through(question_update, actor=request.user, question=question, choices=choices, **fields)
        else:
            fields = _form_values(question, form, QUESTION_FIELDS, changed_only=False)
            created = _through(
                question_create,
                actor=request.user,
                assessment=question.assessment,
                pool=question.pool,
                choices=choices,
                **fields,
            )
            _adopt(question, created)
        for formset in formsets:
            # The service wrote the rows; the admin's history message reads these lists.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        _through(question_delete, actor=request.user, question=obj)


def _choices_of_formset(formset) -> list[dict]:
    """The choice rows an author left on the page, in the order of their position field."""
    if formset is None:
        return []
    rows = []
    for index, row in enumerate(formset.forms):
        if index < formset.initial_form_count() and row.instance.pk is None:
            # A row of this page names a choice that is not this question's (a stale or edited
            # page): Django's formset would skip it, the full list would drop the real choice.
            raise Refused(AssessmentError("The choices on this page are out of date: reload it."))
        data = getattr(row, "cleaned_data", None) or {}
        if not data or data.get("DELETE"):
            continue
        rows.append(
            (
                data.get("position") or 0,
                index,
                {
                    "id": row.instance.pk,
                    "text": data.get("text", ""),
                    "is_correct": bool(data.get("is_correct")),
                },
            )
        )
    return [choice for _, _, choice in sorted(rows, key=lambda r: (r[0], r[1]))]


def models_q(allowed):
    from django.db.models import Q

    return Q(assessment__lesson__module__course__in=allowed) | Q(pool__course__in=allowed)


@admin.register(QuestionPool, site=tenant_admin_site)
class QuestionPoolAdmin(ServiceWrites, StaffAdmin):
    list_display = ("title", "course", "size")
    readonly_fields = ("question_list",)

    @admin.display(description="Questions")
    def size(self, obj):
        return obj.questions.count()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "course":
            kwargs["queryset"] = courses_for_editing(request.user).alive()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def reference_problems(self, *, actor, obj) -> list[str]:
        return question_pool_problems(actor=actor, pool=obj)

    def save_model(self, request, obj, form, change):
        if change:
            fields = _form_values(obj, form, frozenset({"title", "course"}), changed_only=True)
            _through(bank_update, actor=request.user, bank=obj, **fields)
            return
        _adopt(obj, _through(bank_create, actor=request.user, course=obj.course, title=obj.title))

    def delete_model(self, request, obj):
        _through(bank_delete, actor=request.user, bank=obj)

    @admin.display(description="Questions in this bank")
    def question_list(self, obj):
        if obj is None or not obj.pk:
            return "Save the bank first, then add its questions."
        add = reverse("admin:assessments_question_add") + f"?pool={obj.pk}"
        return format_html(
            '<ol>{}</ol><p><a class="addlink" href="{}">Add a question</a></p>',
            format_html_join(
                "",
                '<li><a href="{}">{}</a></li>',
                (
                    (reverse("admin:assessments_question_change", args=[q.pk]), str(q))
                    for q in obj.questions.all()
                ),
            ),
            add,
        )


@admin.register(CertificateSettings, site=tenant_admin_site)
class CertificateSettingsAdmin(ServiceWrites, StaffAdmin):
    list_display = ("course", "enabled", "signature_name")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "course":
            kwargs["queryset"] = courses_for_editing(request.user).alive()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def reference_problems(self, *, actor, obj) -> list[str]:
        return certificate_settings_problems(actor=actor, settings=obj)

    def service_save(self, *, actor, obj) -> None:
        certificate_settings_save(actor=actor, settings=obj)

    def delete_model(self, request, obj):
        _through(certificate_settings_delete, actor=request.user, settings=obj)


@admin.register(Certificate, site=tenant_admin_site)
class CertificateAdmin(StaffAdmin):
    """Issued certificates, read only; admins revoke or re-issue them with the actions."""

    list_display = ("code", "learner_name", "course_title", "issued_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("code", "learner_name", "course_title", "user__email")
    fields = (
        "code",
        "learner_name",
        "course_title",
        "user",
        "course",
        "issued_at",
        "revoked_at",
        "revoked_reason",
    )
    readonly_fields = fields
    actions = ["revoke_selected", "reissue_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not is_tenant_admin(request.user):
            actions.pop("revoke_selected", None)
            actions.pop("reissue_selected", None)
        return actions

    @admin.action(description="Revoke selected certificates")
    def revoke_selected(self, request, queryset):
        self._each(
            request, queryset, lambda c: certificate_revoke(actor=request.user, certificate=c), "revoked"
        )

    @admin.action(description="Re-issue selected certificates (new code, today's date)")
    def reissue_selected(self, request, queryset):
        self._each(
            request, queryset, lambda c: certificate_reissue(actor=request.user, certificate=c), "re-issued"
        )

    def _each(self, request, queryset, action, verb):
        done = 0
        for certificate in queryset:
            try:
                action(certificate)
                done += 1
            except CertificateError as exc:
                self.message_user(request, f"{certificate.code}: {exc}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} certificate(s) {verb}.", messages.SUCCESS)
