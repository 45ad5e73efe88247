"""Staff's preview of a course draft. Mounted under /courses/ in the `courses` namespace,
together with the landing and enroll pages of `enrollments.urls.course_urlpatterns`."""

from django.urls import path

from . import views

app_name = "courses"

urlpatterns = [
    path("<slug:slug>/preview/", views.course_preview, name="preview"),
    path("<slug:slug>/preview/lessons/<int:lesson_id>/", views.course_preview_lesson, name="preview_lesson"),
]
