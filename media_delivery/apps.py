from django.apps import AppConfig


class MediaDeliveryConfig(AppConfig):
    name = "media_delivery"
    verbose_name = "Media"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the system checks
        from .signals import connect

        connect()
