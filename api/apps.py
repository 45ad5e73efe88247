from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from core import readahead

        from .gate import keys_version_ahead

        readahead.register(keys_version_ahead)
