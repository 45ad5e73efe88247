"""Staff enroll people through enrollment_add: active at once, audited, refused for others."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.models import AuditEntry
from courses.tests.factories import make_course
from enrollments.models import Enrollment
from enrollments.services import EnrollmentError, enrollment_add


def test_an_admin_enrolls_a_learner_once(in_tenant):
    User = get_user_model()
    admin, learner = User.objects.get(email="admin@acme.test"), User.objects.get(email="learner@acme.test")
    course = make_course(slug="added", policy="closed")
    enrollment = enrollment_add(actor=admin, user=learner, course=course)
    assert enrollment.status == "active" and enrollment.decided_by == admin
    assert AuditEntry.objects.filter(
        action="enrollment.added_by_staff", target_id=str(enrollment.pk)
    ).exists()
    with pytest.raises(EnrollmentError) as again:
        enrollment_add(actor=admin, user=learner, course=course)
    assert again.value.status == 409 and again.value.field == "user"


def test_someone_off_the_course_staff_cannot_enroll_people(in_tenant):
    User = get_user_model()
    instructor, learner = (
        User.objects.get(email="instructor@acme.test"),
        User.objects.get(email="learner@acme.test"),
    )
    course = make_course(slug="not-mine")
    with pytest.raises(EnrollmentError) as refused:
        enrollment_add(actor=instructor, user=learner, course=course)
    assert refused.value.status == 403
    assert not Enrollment.objects.filter(course=course).exists()
