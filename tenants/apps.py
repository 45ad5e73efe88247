from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants"

    def ready(self) -> None:
        from django.core.signals import request_finished
        from django.db.models.signals import post_delete, post_save

        from .connections import connection_schema_note
        from .models import Domain, Tenant
        from .routing import routing_changed

        for model in (Tenant, Domain):
            name = model.__name__
            post_save.connect(routing_changed, sender=model, dispatch_uid=f"tenant-routing-save-{name}")
            post_delete.connect(routing_changed, sender=model, dispatch_uid=f"tenant-routing-del-{name}")
        request_finished.connect(connection_schema_note, dispatch_uid="connection-schema-note")
        # Celery workers switch schemas per task on a persistent connection too (ADR 0115).
        from celery.signals import task_postrun

        task_postrun.connect(connection_schema_note, weak=False, dispatch_uid="connection-schema-note-task")
