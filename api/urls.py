"""/api/v1/: every endpoint behind the gate, the OpenAPI document and the reference page."""

from django.urls import URLPattern, URLResolver, path
from django.views.generic import TemplateView

from .gate import gate
from .v1 import analytics, assessments, auth, authoring, learning, people, webhooks
from .v1.base import api

api.add_router("", auth.router)
api.add_router("", learning.router)
api.add_router("", authoring.router)
api.add_router("", people.router)
api.add_router("", assessments.router)
api.add_router("", analytics.router)
api.add_router("", webhooks.router)


def _gated(patterns):
    out = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            out.append(
                URLResolver(
                    pattern.pattern,
                    _gated(pattern.url_patterns),
                    pattern.default_kwargs,
                    pattern.app_name,
                    pattern.namespace,
                )
            )
        elif isinstance(pattern, URLPattern):
            out.append(
                URLPattern(pattern.pattern, gate(pattern.callback), pattern.default_args, pattern.name)
            )
    return out


_patterns, _app, _namespace = api.urls
urlpatterns = [
    path("docs/", TemplateView.as_view(template_name="api/reference.html"), name="api-reference"),
    *_gated(_patterns),
]
app_name = _namespace  # "api-v1": ninja reverses its own views in this namespace
