"""Forms of the course builder in the tenant admin, with the checks uploads must pass.

Uploaded files are checked by their first bytes, not their name or the browser's
content type: a PNG renamed to .pdf is refused with a field error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.urls import reverse

from accounts.permissions import people_for_course_staff
from core.uploads import MB, check_upload

from .models import Category, Course, CourseStaff, CourseStaffRole, Lesson, Module

VIDEO_MAX_BYTES = 500 * MB
DOCUMENT_MAX_BYTES = 50 * MB
COVER_MAX_BYTES = 5 * MB
MARKDOWN_PREVIEW_MAX_CHARS = 200_000


def _markdown_widget(rows: int = 10) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "class": "vLargeTextField"})


def _enable_markdown_preview(form: forms.Form, *names: str) -> None:
    url = reverse("admin:courses_course_markdown_preview")
    for name in names:
        if name in form.fields:
            form.fields[name].widget.attrs["data-markdown-preview"] = url


class CategoryAdminForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("name", "slug", "parent", "position")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "parent" not in self.fields:  # a view-only admin page builds the form without its fields
            return
        parents = Category.objects.alive().filter(parent__isnull=True)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents
        self.fields["parent"].help_text = "Leave empty for a top-level category. Categories nest one level."


class PersonChoiceField(forms.ModelChoiceField):
    """A person shown as "Full Name (email)", or the e-mail alone when there is no name."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.full_name else obj.email


class CourseStaffForm(forms.ModelForm):
    """One row of a course's staff: a person (an instructor or admin of the organization) and a role."""

    class Meta:
        model = CourseStaff
        fields = ("user", "role")
        field_classes = {"user": PersonChoiceField}
        labels = {"user": "Person"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            self.fields["user"].queryset = people_for_course_staff().order_by("full_name", "email")
            self.fields[
                "user"
            ].help_text = "Only the organization's instructors and admins can join a course's staff."


class CourseStaffFormSet(forms.BaseInlineFormSet):
    """The whole staff list: at most one owner, and nobody but an admin removes themselves.

    Saved by `courses.services.course_staff_set` (through the admin's save_formset), never by
    the formset itself, so the admin's change message finds nothing saved here; the audit
    log records the change.
    """

    actor = None
    #: False when the person may only read the list (the admin then ignores what was posted).
    editable = True
    new_objects = changed_objects = deleted_objects = ()

    def clean(self):
        super().clean()
        if any(self.errors) or not self.editable:
            return
        from .services import course_staff_problems

        members = self.members()
        for problem in course_staff_problems(actor=self.actor, course=self.instance, members=members):
            raise forms.ValidationError(problem)

    def members(self) -> dict:
        """The staff list this formset asks for: user -> role."""
        members = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("user") is None or data.get("DELETE"):
                continue
            if data["user"] in members:
                raise forms.ValidationError(f"{data['user']} is listed twice: keep one row per person.")
            members[data["user"]] = data.get("role") or CourseStaffRole.CO_INSTRUCTOR
        return members


class CourseAdminForm(forms.ModelForm):
    """The course's own fields. `actor` is the person editing (set by the admin)."""

    actor = None

    class Meta:
        model = Course
        fields = (
            "title",
            "slug",
            "summary",
            "description",
            "cover",
            "category",
            "level",
            "estimated_minutes",
            "enrollment_policy",
        )
        widgets = {"description": _markdown_widget(12)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "category" in self.fields:  # absent when the page is read only (teaching assistants)
            self.fields["category"].queryset = Category.objects.alive().select_related("parent")
        _enable_markdown_preview(self, "description")

    def clean_cover(self):
        return check_upload(
            self.cleaned_data.get("cover"),
            allowed={"png", "jpeg", "webp"},
            max_bytes=COVER_MAX_BYTES,
            what="a cover image",
        )


class PrerequisitesCheck:
    """Runs the service's prerequisite check (same course, no loops) in clean(), so a refused
    choice is a field error. `parent_field` is the object the form's instance belongs to.

    The choices are the lessons of the form's course, and only when `actor` (set by the admin)
    may edit that course: a course named in the address (?course=, ?module=) or posted by
    someone else never lists its lessons (ADR 0065).
    """

    parent_field = ""
    actor = None
    # What the Django form it is mixed into provides (declared for mypy; nothing is assigned).
    data: Any
    initial: dict
    is_bound: bool
    add_prefix: Callable[[str], str]

    def _chosen(self, name: str):
        """The id of `name` as posted (bound form) or given in the address (initial)."""
        value = self.data.get(self.add_prefix(name)) if self.is_bound else self.initial.get(name)
        value = str(getattr(value, "pk", value) or "")
        return int(value) if value.isdigit() else None

    def editable_course_id(self, course_id):
        from .permissions import courses_for_staff

        if course_id is None or self.actor is None:
            return None
        return courses_for_staff(self.actor).alive().filter(pk=course_id).values_list("pk", flat=True).first()

    def prerequisite_problems(self, wanted) -> list[str]:
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        wanted = cleaned.get("prerequisites")
        # The parent comes from the form, or from the instance when the admin shows it read only.
        parent = cleaned.get(self.parent_field) or getattr(self.instance, self.parent_field, None)
        if wanted and parent is not None:
            setattr(self.instance, self.parent_field, parent)
            for problem in self.prerequisite_problems(wanted):
                self.add_error("prerequisites", problem)
        return cleaned


class ModuleAdminForm(PrerequisitesCheck, forms.ModelForm):
    parent_field = "course"

    class Meta:
        model = Module
        fields = ("course", "title", "summary", "drip_days", "drip_at", "prerequisites")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "prerequisites" in self.fields:
            # Lessons of the same course, outside this module.
            course_id = self.editable_course_id(self.instance.course_id or self._chosen("course"))
            choices = Lesson.objects.alive().filter(
                module__course_id=course_id, module__deleted_at__isnull=True
            )
            if self.instance.pk:
                choices = choices.exclude(module_id=self.instance.pk)
            self.fields["prerequisites"].queryset = choices.select_related("module").order_by(
                "module__position", "position"
            )
            self.fields["prerequisites"].widget.attrs["size"] = 8

    def prerequisite_problems(self, wanted) -> list[str]:
        from .services import module_prerequisite_problems

        return module_prerequisite_problems(module=self.instance, prerequisites=wanted)


class ModuleQuickAddForm(forms.ModelForm):
    """The one-line "Add module" form under a course's curriculum."""

    class Meta:
        model = Module
        fields = ("title", "summary")


class ModuleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.course.title} / {obj.title}"


class LessonAdminForm(PrerequisitesCheck, forms.ModelForm):
    parent_field = "module"
    # Addresses typed without a scheme are https (the only scheme the embed allow-list accepts).
    embed_url = Lesson._meta.get_field("embed_url").formfield(assume_scheme="https")

    class Meta:
        model = Lesson
        fields = (
            "module",
            "title",
            "kind",
            "video",
            "document",
            "embed_url",
            "body",
            "duration_minutes",
            "is_preview",
            "is_required",
            "drip_days",
            "drip_at",
            "prerequisites",
        )
        field_classes = {"module": ModuleChoiceField}
        widgets = {"body": _markdown_widget(14)}
        help_texts = {
            "video": "MP4 or WebM, at most 500 MB.",
            "document": "PDF, at most 50 MB.",
            "duration_minutes": "How long the lesson takes, in minutes.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _enable_markdown_preview(self, "body")
        if "prerequisites" in self.fields:
            # Only lessons of the same course, never the lesson itself.
            if self.instance.module_id:
                course_id = self.instance.module.course_id
            else:
                module_id = self._chosen("module")
                course_id = Module.objects.filter(pk=module_id).values_list("course_id", flat=True).first()
            choices = (
                Lesson.objects.alive()
                .filter(module__course_id=self.editable_course_id(course_id), module__deleted_at__isnull=True)
                .select_related("module")
            )
            if self.instance.pk:
                choices = choices.exclude(pk=self.instance.pk)
            self.fields["prerequisites"].queryset = choices.order_by("module__position", "position")
            self.fields["prerequisites"].widget.attrs["size"] = 8

    def prerequisite_problems(self, wanted) -> list[str]:
        from .services import prerequisite_problems

        return prerequisite_problems(lesson=self.instance, prerequisites=wanted)

    def clean_video(self):
        return check_upload(
            self.cleaned_data.get("video"), allowed={"mp4", "webm"}, max_bytes=VIDEO_MAX_BYTES, what="a video"
        )

    def clean_document(self):
        return check_upload(
            self.cleaned_data.get("document"),
            allowed={"pdf"},
            max_bytes=DOCUMENT_MAX_BYTES,
            what="a document",
        )


class PublishForm(forms.Form):
    summary = forms.CharField(
        required=False,
        max_length=500,
        label="What changed?",
        help_text="Optional; left empty, the summary is written for you.",
    )


class MarkdownPreviewForm(forms.Form):
    text = forms.CharField(required=False, strip=False, max_length=MARKDOWN_PREVIEW_MAX_CHARS)
