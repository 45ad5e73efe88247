from django.http import HttpResponse
from django.urls import path

from lms.urls_tenant import urlpatterns as product_urlpatterns


def minimal(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/minimal", minimal), *product_urlpatterns]
