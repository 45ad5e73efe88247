from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from core import readahead
        from core.events import domain_event

        from .listeners import endpoint_deleted, endpoint_saved, version_key_ahead
        from .models import WebhookEndpoint
        from .outbox import on_domain_event

        domain_event.connect(on_domain_event, dispatch_uid="webhooks.outbox")
        # Every save or delete of an endpoint moves the tenant's listeners version (ADR 0201).
        post_save.connect(endpoint_saved, sender=WebhookEndpoint, dispatch_uid="webhooks.listeners.saved")
        post_delete.connect(
            endpoint_deleted, sender=WebhookEndpoint, dispatch_uid="webhooks.listeners.deleted"
        )
        readahead.register(version_key_ahead)
