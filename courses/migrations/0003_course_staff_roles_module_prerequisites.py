"""Course staff roles and module prerequisites.

The plain Course.instructors many-to-many becomes the CourseStaff model on the same table
(state only), then gains a role: every existing instructor becomes a co-instructor.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("courses", "0002_lesson_gates"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CourseStaff",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "course",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="staff",
                                to="courses.course",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="course_staff",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "courses_course_instructors",
                        "unique_together": {("course", "user")},
                    },
                ),
                migrations.AlterField(
                    model_name="course",
                    name="instructors",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="taught_courses",
                        through="courses.CourseStaff",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="coursestaff",
            name="role",
            field=models.CharField(
                choices=[
                    ("owner", "Owner"),
                    ("co_instructor", "Co-instructor"),
                    ("assistant", "Teaching assistant"),
                ],
                default="co_instructor",
                max_length=20,
            ),
        ),
        migrations.AlterModelOptions(
            name="coursestaff",
            options={"verbose_name": "course staff member", "verbose_name_plural": "course staff"},
        ),
        migrations.AddConstraint(
            model_name="coursestaff",
            constraint=models.UniqueConstraint(
                condition=models.Q(("role", "owner")), fields=("course",), name="courses_one_owner_per_course"
            ),
        ),
        migrations.AddField(
            model_name="module",
            name="prerequisites",
            field=models.ManyToManyField(
                blank=True,
                help_text="Lessons of this course (in other modules) the learner must complete before any lesson of this module opens.",
                related_name="unlocks_modules",
                to="courses.lesson",
            ),
        ),
    ]
