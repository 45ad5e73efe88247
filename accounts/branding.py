"""The tenant's branding page in its admin: display name, logo and colour, for tenant admins."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from accounts.permissions import is_tenant_admin
from accounts.services import branding_update
from core.errors import Forbidden
from core.uploads import MB, check_upload
from tenants.models import Tenant

LOGO_MAX_BYTES = 1 * MB


class BrandingForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ("display_name", "logo", "primary_colour")
        widgets = {"primary_colour": forms.TextInput(attrs={"type": "color"})}
        labels = {"primary_colour": "Brand colour", "display_name": "Name shown to learners"}

    def clean_logo(self):
        return check_upload(
            self.cleaned_data.get("logo"),
            allowed={"png", "jpeg", "webp"},
            max_bytes=LOGO_MAX_BYTES,
            what="a logo",
        )


def branding_view(request: HttpRequest, admin_site) -> HttpResponse:
    if not is_tenant_admin(request.user):
        raise Forbidden("Only the organization's admins can change its branding.", code="not_tenant_admin")
    tenant = Tenant.objects.get(pk=request.tenant.pk)
    form = BrandingForm(request.POST or None, request.FILES or None, instance=tenant)
    if request.method == "POST" and form.is_valid():
        # The form sets the fields on the row (its file field stores or clears the logo on
        # save); the service saves it, with the audit row.
        branding_update(actor=request.user, tenant=form.save(commit=False))
        messages.success(request, "Branding saved. Every page of your site now uses it.")
        return redirect("admin:branding")
    context = {
        **admin_site.each_context(request),
        "title": "Branding",
        "form": form,
        "tenant": tenant,
    }
    return TemplateResponse(request, "admin/branding.html", context)
