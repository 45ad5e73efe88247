"""What both admin sites share against hostile input."""

from __future__ import annotations

from functools import wraps

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect


class SelectionCheckingSite:
    """Mixin for an AdminSite: a changelist action on ids that are not ids is a message, not a 500.

    Django's changelist filters `pk__in=<the posted _selected_action values>` as they come,
    so `_selected_action=abc` raises inside the ORM.
    """

    def admin_view(self, view, cacheable=False):
        wrapped = super().admin_view(view, cacheable)
        model_admin = getattr(view, "__self__", None)
        if not isinstance(model_admin, admin.ModelAdmin) or view.__name__ != "changelist_view":
            return wrapped
        pk = model_admin.model._meta.pk

        @wraps(wrapped)
        def checked(request, *args, **kwargs):
            if request.method == "POST":
                try:
                    for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                        pk.get_prep_value(pk.to_python(value))
                except (ValidationError, ValueError, TypeError):
                    messages.error(request, "The selection is not valid; nothing was changed.")
                    return HttpResponseRedirect(request.get_full_path())
            return wrapped(request, *args, **kwargs)

        return checked
