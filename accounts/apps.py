from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from core import readahead

        from .cache import user_changed
        from .models import User
        from .sessions import session_keys_ahead

        readahead.register(session_keys_ahead)

        post_save.connect(user_changed, sender=User, dispatch_uid="accounts-user-cache-save")
        post_delete.connect(user_changed, sender=User, dispatch_uid="accounts-user-cache-delete")
