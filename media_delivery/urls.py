"""Media URLs of a tenant site, under /media/."""

from django.urls import path

from . import views

app_name = "media"

urlpatterns = [
    path("upload/", views.upload_page, name="upload_page"),
    path("uploads/", views.upload_start_view, name="upload_start"),
    path("uploads/<uuid:asset_id>/parts/", views.upload_parts_view, name="upload_parts"),
    path("uploads/<uuid:asset_id>/finish/", views.upload_finish_view, name="upload_finish"),
    path("uploads/<uuid:asset_id>/abort/", views.upload_abort_view, name="upload_abort"),
    path("<uuid:asset_id>/", views.media_redirect, name="file"),
    path("<uuid:asset_id>/poster/", views.media_poster, name="poster"),
    path("<uuid:asset_id>/hls/<str:name>", views.media_hls, name="hls"),
]
