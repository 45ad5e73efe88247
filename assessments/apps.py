from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "Quizzes, assignments and certificates"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from enrollments.models import Enrollment

        from .certificates import enrollment_saved

        post_save.connect(enrollment_saved, sender=Enrollment, dispatch_uid="assessments-certificate-check")
