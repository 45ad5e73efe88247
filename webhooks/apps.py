from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from core.events import domain_event

        from .outbox import on_domain_event

        domain_event.connect(on_domain_event, dispatch_uid="webhooks.outbox")
