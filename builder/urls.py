"""The course builder on the tenant host: /builder/<course slug>/ and the endpoints its page calls."""

from django.urls import path

from . import views

app_name = "builder"

urlpatterns = [
    path("<slug:slug>/", views.builder_page, name="page"),
    path("<slug:slug>/modules/", views.module_add, name="module_add"),
    path("<slug:slug>/modules/order/", views.module_order, name="module_order"),
    path("<slug:slug>/modules/<int:module_id>/", views.module_rename, name="module_rename"),
    path("<slug:slug>/modules/<int:module_id>/archive/", views.module_archive, name="module_archive"),
    path("<slug:slug>/modules/<int:module_id>/restore/", views.module_unarchive, name="module_restore"),
    path("<slug:slug>/modules/<int:module_id>/lessons/", views.lesson_add, name="lesson_add"),
    path("<slug:slug>/modules/<int:module_id>/lessons/order/", views.lesson_order, name="lesson_order"),
    path("<slug:slug>/lessons/<int:lesson_id>/", views.lesson_rename, name="lesson_rename"),
    path("<slug:slug>/lessons/<int:lesson_id>/edit/", views.lesson_editor, name="lesson_editor"),
    path("<slug:slug>/lessons/<int:lesson_id>/archive/", views.lesson_archive, name="lesson_archive"),
    path("<slug:slug>/lessons/<int:lesson_id>/restore/", views.lesson_unarchive, name="lesson_restore"),
]
