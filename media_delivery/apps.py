from django.apps import AppConfig


class MediaDeliveryConfig(AppConfig):
    name = "media_delivery"
    verbose_name = "Media"

    def ready(self) -> None:
        from .signals import connect

        connect()
