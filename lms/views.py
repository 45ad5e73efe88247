from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """The tenant's front page: a welcome for visitors, the signed-in person's start page."""
    return render(request, "home.html")
