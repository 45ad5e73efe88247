from __future__ import annotations

from core.forms import DateRangeForm
from core.http import InvalidInput

from .selectors import DateRange, default_range

MAX_RANGE_DAYS = DateRangeForm.max_days


def period_from(request) -> tuple[DateRangeForm, DateRange]:
    """The form bound to the query string and the period it picks.

    A page with an invalid range shows the form's message over the last 30 days; a CSV
    export or JSON answer is refused with a 400 instead of quietly covering other dates.
    """
    form = DateRangeForm(request.GET or None)
    if not form.is_bound:
        return form, default_range()
    if form.is_valid():
        return form, DateRange(form.cleaned_data["start"], form.cleaned_data["end"])
    if request.GET.get("export") is not None or request.GET.get("format") == "json":
        messages = [message for errors in form.errors.values() for message in errors]
        raise InvalidInput(" ".join(messages), title="Invalid date range")
    return form, default_range()
