"""The lesson editor's input: read and bounded here, judged by `courses.services.lesson_update`."""

from __future__ import annotations

from django import forms

from courses.models import MAX_DURATION_MINUTES

#: The longest Markdown body the editor saves (the admin's preview takes as much).
BODY_MAX_CHARS = 200_000
#: The largest number PostgreSQL's integer columns hold.
MAX_INT = 2**31 - 1


class LessonEditForm(forms.Form):
    """What the editor beside the tree sends on every save: the fields and the version it loaded.

    `overwrite` is the stored version the person chose to save over after a conflict.
    """

    title = forms.CharField(max_length=200, error_messages={"required": "A title is needed."})
    duration_minutes = forms.IntegerField(
        min_value=0,
        max_value=MAX_DURATION_MINUTES,
        error_messages={
            "required": "Give the duration in minutes (0 if you do not want to show one).",
            "invalid": "Give the duration as a whole number of minutes.",
            "min_value": "The duration cannot be negative.",
        },
    )
    is_required = forms.BooleanField(required=False)
    is_preview = forms.BooleanField(required=False)
    body = forms.CharField(
        required=False,
        strip=False,
        max_length=BODY_MAX_CHARS,
        error_messages={"max_length": f"The text is too long: keep it under {BODY_MAX_CHARS:,} characters."},
    )
    version = forms.IntegerField(min_value=1, max_value=MAX_INT)
    overwrite = forms.IntegerField(required=False, min_value=1, max_value=MAX_INT)

    #: The lesson fields the form edits, in the order of the panel.
    LESSON_FIELDS = ("title", "duration_minutes", "is_required", "is_preview", "body")

    def lesson_fields(self, *, with_body: bool) -> dict:
        """The cleaned values for `lesson_update` (the body only for text lessons)."""
        names = [name for name in self.LESSON_FIELDS if with_body or name != "body"]
        return {name: self.cleaned_data[name] for name in names}

    def loaded_version(self) -> int:
        """The version to save over: the one chosen by Overwrite, else the one the editor loaded."""
        return self.cleaned_data.get("overwrite") or self.cleaned_data["version"]
