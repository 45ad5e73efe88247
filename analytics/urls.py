from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard_index, name="index"),
    path("beacon/", views.beacon, name="beacon"),
    path("courses/<int:course_id>/", views.course_dashboard, name="course"),
]
