"""Enrollments in the tenant admin: who is in which course, requests to decide, manual enrollment.

Instructors see only the enrollments of courses they teach (`courses_for_staff`). Status
changes go through `enrollments.services`; the change page itself is read only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.admin_site import tenant_admin_site
from courses.forms import PersonChoiceField
from courses.permissions import courses_for_staff

from .models import Enrollment, EnrollmentStatus
from .services import (
    SETTABLE_STATUSES,
    EnrollmentError,
    enrollment_add,
    enrollment_decide,
    enrollment_set_access,
)


class EnrollmentAddForm(forms.ModelForm):
    """An admin enrolls someone directly: active at once, whatever the course's enrollment policy."""

    class Meta:
        model = Enrollment
        fields = ("user", "course")
        field_classes = {"user": PersonChoiceField}
        labels = {"user": "Person"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.filter(is_active=True).order_by("email")

    def clean(self):
        cleaned = super().clean()
        user, course = cleaned.get("user"), cleaned.get("course")
        if user and course:
            existing = Enrollment.objects.filter(user=user, course=course).first()
            if existing is not None:
                hint = (
                    " Approve the request in the list instead."
                    if existing.status == EnrollmentStatus.PENDING
                    else ""
                )
                status = existing.get_status_display()
                raise forms.ValidationError(f"{user} already has an enrollment here ({status}).{hint}")
        return cleaned

    def validate_unique(self):
        # clean() above explains an existing enrollment better than the constraint's message.
        if not self.non_field_errors():
            super().validate_unique()

    def save_enrollment(self, *, actor) -> Enrollment:
        try:
            return enrollment_add(
                actor=actor, user=self.cleaned_data["user"], course=self.cleaned_data["course"]
            )
        except EnrollmentError as exc:
            if exc.status == 403:
                raise PermissionDenied(exc.message) from exc
            raise


class EnrollmentAccessForm(forms.ModelForm):
    """Status and access window of an existing enrollment; saved through enrollment_set_access."""

    class Meta:
        model = Enrollment
        fields = ("status", "access_starts_at", "access_ends_at")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = self.instance.status
        allowed = {*SETTABLE_STATUSES, current}
        self.fields["status"].choices = [c for c in EnrollmentStatus.choices if c[0] in allowed]

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("access_starts_at"), cleaned.get("access_ends_at")
        if starts and ends and ends <= starts:
            self.add_error("access_ends_at", "The access window must end after it starts.")
        status = cleaned.get("status")
        if status in (EnrollmentStatus.PENDING, EnrollmentStatus.REJECTED) and status != self.instance.status:
            self.add_error("status", "Requests are approved or declined with the list's actions.")
        return cleaned


@admin.register(Enrollment, site=tenant_admin_site)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = (
        "person",
        "course",
        "status",
        "requested_at",
        "enrolled_at",
        "progress_percent",
        "decided_by",
    )
    list_filter = ("status", ("course", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__email", "user__full_name", "course__title")
    list_select_related = ("user", "course", "decided_by")
    date_hierarchy = "requested_at"
    actions = ["approve_requests", "decline_requests", "block", "unblock"]
    editable_fields = ("status", "access_starts_at", "access_ends_at")
    readonly_fields = (
        "user",
        "course",
        "requested_at",
        "enrolled_at",
        "completed_at",
        "decided_by",
        "progress_percent",
        "last_lesson",
        "last_activity_at",
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(course__in=courses_for_staff(request.user))
            .select_related("user", "course", "decided_by", "last_lesson")
        )

    @admin.display(description="Person", ordering="user__email")
    def person(self, obj):
        user = obj.user
        return f"{user.full_name} <{user.email}>" if user.full_name else user.email

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such enrollment here.")
        return obj

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = EnrollmentAddForm if obj is None else EnrollmentAccessForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return ("user", "course") if obj is None else (*self.editable_fields, *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "course":
            kwargs["queryset"] = courses_for_staff(request.user).alive()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # No hard delete of someone's learning record from here; a removal/blocking service comes later.
        return False

    def save_model(self, request, obj, form, change):
        if change:
            enrollment = enrollment_set_access(
                actor=request.user,
                enrollment=Enrollment.objects.get(pk=obj.pk),
                status=obj.status,
                starts_at=obj.access_starts_at,
                ends_at=obj.access_ends_at,
            )
            obj.__dict__.update(enrollment.__dict__)
            return
        enrollment = form.save_enrollment(actor=request.user)
        # The form created the row; the admin goes on (log entry, message, redirect) with it.
        obj.__dict__.update(enrollment.__dict__)

    @admin.action(description="Block selected learners from the course", permissions=["change"])
    def block(self, request, queryset):
        self._set_status(request, queryset, EnrollmentStatus.BLOCKED)

    @admin.action(description="Unblock selected learners (active again)", permissions=["change"])
    def unblock(self, request, queryset):
        self._set_status(request, queryset, EnrollmentStatus.ACTIVE)

    def _set_status(self, request, queryset, status) -> None:
        for enrollment in queryset.select_related("course", "user"):
            try:
                enrollment_set_access(
                    actor=request.user,
                    enrollment=enrollment,
                    status=status,
                    starts_at=enrollment.access_starts_at,
                    ends_at=enrollment.access_ends_at,
                )
            except EnrollmentError as exc:
                self.message_user(request, f"{enrollment.user} in {enrollment.course}: {exc}", messages.ERROR)

    @admin.action(description="Approve selected requests", permissions=["change"])
    def approve_requests(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description="Decline selected requests", permissions=["change"])
    def decline_requests(self, request, queryset):
        self._decide(request, queryset, approve=False)

    def _decide(self, request, queryset, *, approve: bool) -> None:
        done = 0
        for enrollment in queryset.select_related("course", "user"):
            if enrollment.status != EnrollmentStatus.PENDING:
                self.message_user(
                    request,
                    f"{enrollment.user} in {enrollment.course}: not a request waiting for a decision.",
                    messages.WARNING,
                )
                continue
            try:
                enrollment_decide(actor=request.user, enrollment=enrollment, approve=approve)
            except EnrollmentError as exc:
                self.message_user(request, f"{enrollment.user} in {enrollment.course}: {exc}", messages.ERROR)
            else:
                done += 1
                self.log_change(request, enrollment, "Approved." if approve else "Declined.")
        if done:
            verb = "approved" if approve else "declined"
            self.message_user(request, f"{done} request(s) {verb}.", messages.SUCCESS)
