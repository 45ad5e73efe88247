from __future__ import annotations

from datetime import timedelta

from django import forms

from .selectors import DateRange, default_range

MAX_RANGE_DAYS = 366


class DateRangeForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        fallback = default_range()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise forms.ValidationError("'To' must be on or after 'From'.")
        end = end or (start + timedelta(days=29) if start else fallback.end)
        start = start or end - timedelta(days=29)
        if (end - start).days >= MAX_RANGE_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_RANGE_DAYS} days.")
        data["period"] = DateRange(start, end)
        return data


def period_from(request) -> tuple[DateRangeForm, DateRange]:
    """The form bound to the query string and the period it picks (the last 30 days if invalid)."""
    form = DateRangeForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["period"]
    return form, default_range()
