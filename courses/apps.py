from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "Course authoring"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from core import readahead

        from .cache import courses_changed, version_key_ahead
        from .models import Category, Course, CourseRevision, CourseStaff

        readahead.register(version_key_ahead)

        for model in (Course, CourseRevision, Category, CourseStaff):
            post_save.connect(
                courses_changed, sender=model, dispatch_uid=f"courses-version-save-{model.__name__}"
            )
            post_delete.connect(
                courses_changed, sender=model, dispatch_uid=f"courses-version-del-{model.__name__}"
            )
        m2m_changed.connect(
            courses_changed, sender=Course.instructors.through, dispatch_uid="courses-version-m2m"
        )
        from .permissions import staff_changed

        post_save.connect(staff_changed, sender=CourseStaff, dispatch_uid="courses-staff-generation-save")
        post_delete.connect(staff_changed, sender=CourseStaff, dispatch_uid="courses-staff-generation-del")
        m2m_changed.connect(staff_changed, sender=CourseStaff, dispatch_uid="courses-staff-generation-m2m")
