from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from courses.views import catalog
from enrollments.selectors import my_enrollments


def home(request: HttpRequest) -> HttpResponse:
    """The tenant's front page: a welcome for visitors, the course catalog for signed-in people."""
    if not request.user.is_authenticated:
        return render(request, "home.html")
    enrollments = {enrollment.course_id: enrollment for enrollment in my_enrollments(user=request.user)}
    return catalog(request, enrollments=enrollments)
