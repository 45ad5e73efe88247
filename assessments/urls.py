"""Quizzes, assignments, grading and the gradebook under /assessments/; certificates under /certificates/."""

from django.urls import path

from . import views

app_name = "assessments"

urlpatterns = [
    path("grading/", views.queue, name="queue"),
    path("grading/<int:attempt_id>/", views.grade, name="grade"),
    path("<slug:slug>/lessons/<int:lesson_id>/", views.overview, name="overview"),
    path("<slug:slug>/lessons/<int:lesson_id>/start/", views.start, name="start"),
    path("<slug:slug>/lessons/<int:lesson_id>/uploads/", views.upload_start_view, name="upload_start"),
    path(
        "<slug:slug>/lessons/<int:lesson_id>/uploads/<uuid:asset_id>/finish/",
        views.upload_finish_view,
        name="upload_finish",
    ),
    path(
        "<slug:slug>/lessons/<int:lesson_id>/uploads/<uuid:asset_id>/abort/",
        views.upload_abort_view,
        name="upload_abort",
    ),
    path("<slug:slug>/attempts/<int:attempt_id>/", views.attempt_page, name="attempt"),
    path("<slug:slug>/attempts/<int:attempt_id>/answers/", views.answers_view, name="answers"),
    path("<slug:slug>/attempts/<int:attempt_id>/submit/", views.submit, name="submit"),
    path("<slug:slug>/attempts/<int:attempt_id>/file/", views.attempt_file, name="attempt_file"),
    path("<slug:slug>/gradebook/", views.gradebook_view, name="gradebook"),
]

certificate_urlpatterns = [
    path("", views.my_certificates, name="mine"),
    path("verify/", views.verify, name="verify_form"),
    path("verify/<str:code>/", views.verify, name="verify"),
    path("<str:code>/download/", views.certificate_download, name="download"),
]
