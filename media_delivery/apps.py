from django.apps import AppConfig


class MediaDeliveryConfig(AppConfig):
    name = "media_delivery"
    verbose_name = "Media"

    def ready(self) -> None:
        from enrollments.services import video_duration_source_set

        from . import checks  # noqa: F401 - registers the system checks
        from .selectors import lesson_video_duration
        from .signals import connect

        connect()
        # Video completion needs the transcoder's measured duration (ADR 0076).
        video_duration_source_set(lesson_video_duration)
