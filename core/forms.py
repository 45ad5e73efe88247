"""Forms every app may use for query-string input."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone

# Reports and exports make sense only for dates the product can have data for.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DAYS_AHEAD = 366


def latest_date() -> date:
    return timezone.now().date() + timedelta(days=LATEST_DAYS_AHEAD)


class DateRangeForm(forms.Form):
    """`?start=YYYY-MM-DD&end=YYYY-MM-DD`, both optional, within sane bounds.

    Valid data gives `cleaned_data["start"]` and `["end"]` filled in: a missing end is
    `default_days` after the start (or today), a missing start `default_days` before the
    end; start <= end; at most `max_days` days; never before 2000-01-01 nor more than a
    year ahead, so date arithmetic can neither overflow nor scan centuries.
    """

    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    default_days = 30
    max_days = 366

    def _in_bounds(self, name: str) -> date | None:
        value = self.cleaned_data.get(name)
        if value is not None and not EARLIEST_DATE <= value <= latest_date():
            raise forms.ValidationError(
                f"Choose a date between {EARLIEST_DATE:%Y-%m-%d} and {latest_date():%Y-%m-%d}."
            )
        return value

    def clean_start(self) -> date | None:
        return self._in_bounds("start")

    def clean_end(self) -> date | None:
        return self._in_bounds("end")

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise forms.ValidationError("'To' must be on or after 'From'.")
        span = timedelta(days=self.default_days - 1)
        end = end or (min(start + span, latest_date()) if start else timezone.now().date())
        start = start or max(end - span, EARLIEST_DATE)
        if (end - start).days >= self.max_days:
            raise forms.ValidationError(f"Choose at most {self.max_days} days.")
        data["start"], data["end"] = start, end
        return data
