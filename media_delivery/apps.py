from django.apps import AppConfig


class MediaDeliveryConfig(AppConfig):
    name = "media_delivery"
    verbose_name = "Media"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .models import MediaAsset
        from .selectors import asset_ref_forget

        def forget(sender, instance, **_):
            asset_ref_forget(instance.pk)

        post_save.connect(forget, sender=MediaAsset, dispatch_uid="media_asset_ref_forget_save")
        post_delete.connect(forget, sender=MediaAsset, dispatch_uid="media_asset_ref_forget_delete")
