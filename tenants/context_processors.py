from django.http import HttpRequest


def tenant(request: HttpRequest) -> dict:
    """Branding for every template: the tenant (None on the operator site)."""
    current = getattr(request, "tenant", None)
    if current is not None and current.is_public:
        current = None
    return {"current_tenant": current}
