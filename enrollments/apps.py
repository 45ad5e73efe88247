from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "enrollments"
    verbose_name = "Enrollments"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from core import readahead

        from .cache import learner_state_ahead, learner_state_changed
        from .models import Enrollment, LessonProgress

        for model in (Enrollment, LessonProgress):
            name = model.__name__
            post_save.connect(learner_state_changed, sender=model, dispatch_uid=f"learner-state-save-{name}")
            post_delete.connect(learner_state_changed, sender=model, dispatch_uid=f"learner-state-del-{name}")
        readahead.register(learner_state_ahead)
