from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from courses.views import catalog
from enrollments.selectors import enrollment_badges


def home(request: HttpRequest) -> HttpResponse:
    """The tenant's front page: a welcome for visitors, the course catalog for signed-in people."""
    if not request.user.is_authenticated:
        return render(request, "home.html")
    return catalog(request, enrollments=enrollment_badges(user=request.user))
