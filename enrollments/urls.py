"""Learner pages under /learning/, and the course landing and enroll pages under /courses/.

`course_urlpatterns` belong to the `courses` URL namespace (`courses:detail`,
`courses:enroll`) but need the learner's enrollment, so their views live here;
lms/urls_tenant.py mounts them next to `courses.urls`.
"""

from django.urls import path

from . import views

app_name = "enrollments"

urlpatterns = [
    path("", views.my_learning, name="my_learning"),
    path("<slug:slug>/continue/", views.lesson_continue, name="continue"),
    path("<slug:slug>/lessons/<int:lesson_id>/", views.lesson_detail, name="lesson"),
    path("<slug:slug>/lessons/<int:lesson_id>/complete/", views.lesson_complete_view, name="complete"),
    path("<slug:slug>/lessons/<int:lesson_id>/progress/", views.video_progress, name="video_progress"),
]

course_urlpatterns = [
    path("<slug:slug>/", views.course_detail, name="detail"),
    path("<slug:slug>/enroll/", views.course_enroll, name="enroll"),
]
