"""Webhooks end to end: signed deliveries to a real receiver, retries, outbox replay, limits."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook

from accounts.models import AuditEntry
from core.errors import Forbidden
from courses.tests.factories import make_course
from enrollments.models import Enrollment
from enrollments.services import enrollment_create, lesson_complete
from tenants.models import TenantDue
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.outbox import QUEUE
from webhooks.services import (
    webhook_delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_send_test,
    webhook_endpoint_update,
)
from webhooks.targets import TargetRefused
from webhooks.tasks import sweep_task

from .receiver import Receiver, free_port

pytestmark = pytest.mark.django_db

ALL = ["enrollment.created", "enrollment.completed", "lesson.completed", "quiz.graded", "certificate.issued"]


@pytest.fixture
def learner(in_tenant):
    return get_user_model().objects.get(email=f"learner@{in_tenant.slug}.test")


@pytest.fixture
def quick(settings):
    """Retries wait for the sweep (no countdown), and the sweep may act at once."""
    settings.WEBHOOKS_RETRY_SCHEDULE = (120, 120)
    settings.WEBHOOKS_SWEEP_GRACE_SECONDS = 0
    return settings


def _make_due_now():
    WebhookDelivery.objects.filter(status__in=["pending", "retrying"]).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    TenantDue.objects.filter(schema_name=connection.schema_name).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )


def test_an_enrollment_reaches_the_receiver_signed_by_the_standard(
    admin, learner, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["enrollment.created"])
    assert endpoint.secret.startswith("whsec_")
    course = make_course(slug="hooked")
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_create(user=learner, course=course)
    [got] = receiver.wait_for(1)
    # The receiver's own check, with the library of the specification.
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "enrollment.created"
    assert payload["tenant"] == connection.tenant.slug
    assert payload["data"]["course"]["slug"] == "hooked"
    assert payload["data"]["user"]["email"] == learner.email
    assert payload["data"]["source"] == "self"
    assert got.headers["webhook-id"].startswith("msg_")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.last_status_code == 200
    assert delivery.attempt_log.get().status_code == 200
    assert got.headers["Content-Type"] == "application/json"


def test_a_tampered_body_does_not_verify(admin, learner, receiver, django_capture_on_commit_callbacks):
    endpoint = webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["enrollment.created"])
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_create(user=learner, course=make_course(slug="tamper"))
    [got] = receiver.wait_for(1)
    from standardwebhooks.webhooks import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(got.body.replace("tamper", "tamper2"), got.headers)


def test_only_subscribed_active_endpoints_hear_an_event(
    admin, learner, receiver, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(actor=admin, url=receiver.url("/lessons"), event_types=["lesson.completed"])
    paused = webhook_endpoint_create(actor=admin, url=receiver.url("/paused"), event_types=ALL)
    webhook_endpoint_update(actor=admin, endpoint=paused, is_active=False)
    course = make_course(slug="subs", lessons=2)
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_create(user=learner, course=course)
        lesson = course.modules.first().lessons.order_by("position").first()
        lesson_complete(user=learner, course=course, lesson_id=lesson.pk)
    received = receiver.wait_for(1)
    assert [r.path for r in received] == ["/lessons"]
    body = json.loads(received[0].body)
    assert body["type"] == "lesson.completed" and body["data"]["lesson"]["id"] == lesson.pk
    # A paused endpoint gets no messages while it is off.
    assert not WebhookDelivery.objects.filter(endpoint=paused).exists()


def test_completing_the_course_sends_enrollment_completed(
    admin, learner, receiver, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["enrollment.completed"])
    course = make_course(slug="finish", lessons=1)
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_create(user=learner, course=course)
        lesson = course.modules.first().lessons.get()
        lesson_complete(user=learner, course=course, lesson_id=lesson.pk)
    [got] = receiver.wait_for(1)
    data = json.loads(got.body)["data"]
    assert data["status"] == "completed" and data["completed_at"]


def test_a_rolled_back_change_sends_nothing(admin, learner, receiver):
    from django.db import transaction

    webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["enrollment.created"])
    course = make_course(slug="rollback")
    with pytest.raises(RuntimeError), transaction.atomic():
        enrollment_create(user=learner, course=course)
        raise RuntimeError("the caller fails after the service")
    assert not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_a_receiver_that_was_down_gets_the_message_on_a_retry(
    admin, learner, quick, django_capture_on_commit_callbacks
):
    port = free_port()
    endpoint = webhook_endpoint_create(
        actor=admin, url=f"http://127.0.0.1:{port}/late", event_types=["enrollment.created"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_create(user=learner, course=make_course(slug="retry"))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING and delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=100)
    assert "Connection" in delivery.last_error or "refused" in delivery.last_error.lower()
    # The receiver comes up on that port; the retry time comes; beat's sweep sends it.
    receiver = Receiver(port=port)
    try:
        _make_due_now()
        with django_capture_on_commit_callbacks(execute=True):
            assert sweep_task() >= 1
        [got] = receiver.wait_for(1)
        assert Webhook(endpoint.secret).verify(got.body, got.headers)["type"] == "enrollment.created"
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
        assert got.headers["webhook-id"] == delivery.message.msg_id
        assert delivery.attempt_log.count() == 2
    finally:
        receiver.stop()
    # Nothing is left to do: the tenant's due mark for the sweep is gone (the retention's stays).
    sweep_task()
    assert not TenantDue.objects.filter(schema_name=connection.schema_name, queue=QUEUE).exists()


def test_messages_wait_in_the_outbox_while_the_broker_is_down(admin, learner, receiver, quick, caplog):
    """A real broker outage: Celery publishes to a Redis port where nothing listens."""
    from core.celery import app

    webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["enrollment.created"])
    course = make_course(slug="outage")
    saved = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    app.__dict__.pop("pool", None)
    app.amqp.__dict__.pop("producer_pool", None)
    app.amqp._producer_pool = None
    try:
        from django.db import transaction

        with transaction.atomic():
            enrollment_create(user=learner, course=course)
        # The test's outer transaction keeps on_commit from running: run the callbacks by hand.
        for _, callback, _ in connection.run_on_commit:
            callback()
        connection.run_on_commit = []
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        app.__dict__.pop("pool", None)
        app.amqp._producer_pool = None
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0
    assert receiver.received == []
    assert "wait for the sweep" in caplog.text  # the publish really failed
    # The broker is back: the sweep finds the tenant in one query and replays the outbox.
    _make_due_now()
    assert sweep_task() == 1
    [got] = receiver.wait_for(1)
    assert json.loads(got.body)["type"] == "enrollment.created"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_an_endpoint_failing_for_good_is_disabled_and_the_admins_are_told(
    admin, learner, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOKS_RETRY_SCHEDULE = ()  # give up after the first failure
    settings.WEBHOOKS_DISABLE_AFTER = 2
    failing = Receiver(status=500)
    try:
        endpoint = webhook_endpoint_create(actor=admin, url=failing.url(), event_types=["enrollment.created"])
        for n in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                enrollment_create(user=learner, course=make_course(slug=f"fail-{n}"))
        assert len(failing.wait_for(2)) == 2
    finally:
        failing.stop()
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "2 messages in a row" in endpoint.disabled_reason
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    assert WebhookDelivery.objects.first().last_status_code == 500
    [message] = [m for m in mail.outbox if "Webhook endpoint disabled" in m.subject]
    assert message.to == [admin.email] and endpoint.url in message.body
    assert AuditEntry.objects.filter(action="webhook_endpoint.disabled").exists()
    # Enabled again by an admin: the count starts over.
    webhook_endpoint_update(actor=admin, endpoint=endpoint, is_active=True)
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.failures_in_a_row == 0 and not endpoint.disabled_reason


def test_redeliver_sends_the_same_message_again(admin, learner, receiver, django_capture_on_commit_callbacks):
    endpoint = webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["enrollment.created"])
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_create(user=learner, course=make_course(slug="again"))
    first = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        again = webhook_delivery_redeliver(actor=admin, delivery=first)
    got = receiver.wait_for(2)
    assert got[0].headers["webhook-id"] == got[1].headers["webhook-id"] == first.message.msg_id
    again.refresh_from_db()
    assert again.status == DeliveryStatus.SUCCEEDED and again.pk != first.pk
    assert AuditEntry.objects.filter(action="webhook_delivery.redelivered").count() == 1
    assert endpoint.deliveries.count() == 2


def test_a_rotated_secret_signs_with_both_for_a_day(admin, receiver, django_capture_on_commit_callbacks):
    endpoint = webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["enrollment.created"])
    old = endpoint.secret
    endpoint = webhook_endpoint_rotate_secret(actor=admin, endpoint=endpoint)
    assert endpoint.secret != old
    with django_capture_on_commit_callbacks(execute=True):
        webhook_endpoint_send_test(actor=admin, endpoint=endpoint)
    [got] = receiver.wait_for(1)
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(got.body, got.headers)["type"] == "webhook.test"
    assert Webhook(endpoint.secret).verify(got.body, got.headers)["type"] == "webhook.test"
    # A day later only the new secret signs.
    endpoint.previous_secret_expires_at = timezone.now() - timedelta(seconds=1)
    assert endpoint.signing_secrets() == [endpoint.secret]


def test_only_tenant_admins_manage_endpoints(in_tenant, learner):
    instructor = get_user_model().objects.get(email=f"instructor@{in_tenant.slug}.test")
    for actor in (learner, instructor):
        with pytest.raises(Forbidden):
            webhook_endpoint_create(actor=actor, url="http://127.0.0.1:9/x", event_types=["quiz.graded"])
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    ("url", "event_types", "field"),
    [
        ("ftp://example.com/x", ["quiz.graded"], "url"),
        ("https://user:pw@example.com/x", ["quiz.graded"], "url"),
        ("https://no-such-host.invalid/x", ["quiz.graded"], "url"),
        ("http://127.0.0.1:9/x", [], "event_types"),
        ("http://127.0.0.1:9/x", ["course.deleted"], "event_types"),
    ],
)
def test_bad_endpoints_are_refused_with_the_field(admin, url, event_types, field):
    from core.errors import InvalidRequest

    with pytest.raises(InvalidRequest) as refused:
        webhook_endpoint_create(actor=admin, url=url, event_types=event_types)
    assert refused.value.field == field and refused.value.message
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/x",  # plain http in production
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://10.0.0.8/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://0.0.0.0/x",
    ],
)
def test_production_refuses_private_receivers(admin, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(TargetRefused):
        webhook_endpoint_create(actor=admin, url=url, event_types=["quiz.graded"])


def test_production_accepts_a_public_https_receiver(admin, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    endpoint = webhook_endpoint_create(
        actor=admin, url="https://93.184.215.14/hooks", event_types=["quiz.graded"]
    )
    assert endpoint.pk


def test_the_guard_is_checked_again_at_send_time(
    admin, learner, receiver, settings, django_capture_on_commit_callbacks
):
    """Registered while allowed, sent after the rule changed (or the DNS answer did): refused."""
    settings.WEBHOOKS_RETRY_SCHEDULE = (120,)
    webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["enrollment.created"])
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_create(user=learner, course=make_course(slug="guard"))
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.RETRYING and "https" in delivery.last_error
    assert receiver.received == []


def test_endpoint_writes_are_audited(admin, receiver):
    endpoint = webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=["quiz.graded"])
    webhook_endpoint_update(actor=admin, endpoint=endpoint, event_types=["quiz.graded", "lesson.completed"])
    changed = AuditEntry.objects.get(action="webhook_endpoint.changed")
    assert changed.before["event_types"] == ["quiz.graded"]
    assert changed.after["event_types"] == ["lesson.completed", "quiz.graded"]
    assert AuditEntry.objects.filter(action="webhook_endpoint.created").exists()


def test_enrollments_of_another_tenant_never_reach_this_tenants_endpoint(
    tenant, other_tenant, receiver, django_capture_on_commit_callbacks
):
    connection.set_tenant(tenant)
    admin = get_user_model().objects.get(email=f"admin@{tenant.slug}.test")
    webhook_endpoint_create(actor=admin, url=receiver.url(), event_types=ALL)
    connection.set_tenant(other_tenant)
    learner = get_user_model().objects.get(email=f"learner@{other_tenant.slug}.test")
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_create(user=learner, course=make_course(slug="elsewhere"))
    assert not WebhookDelivery.objects.exists()  # globex has no endpoint
    connection.set_tenant(tenant)
    assert not WebhookDelivery.objects.exists()
    assert receiver.received == []


def test_a_delivery_id_of_another_tenant_sends_nothing_here(
    tenant, other_tenant, receiver, quick, django_capture_on_commit_callbacks
):
    from webhooks.delivery import deliver

    connection.set_tenant(other_tenant)
    admin = get_user_model().objects.get(email=f"admin@{other_tenant.slug}.test")
    webhook_endpoint_create(actor=admin, url=receiver.url("/globex"), event_types=["enrollment.created"])
    learner = get_user_model().objects.get(email=f"learner@{other_tenant.slug}.test")
    enrollment_create(user=learner, course=make_course(slug="theirs"))  # on_commit not run: pending
    [their_id] = WebhookDelivery.objects.values_list("pk", flat=True)
    connection.set_tenant(tenant)
    assert deliver([their_id]) == 0
    assert receiver.received == []


def test_an_enrollment_write_without_subscribers_writes_no_message(
    learner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_create(user=learner, course=make_course(slug="quiet"))
    assert Enrollment.objects.filter(user=learner).exists()
    assert not WebhookDelivery.objects.exists()
    assert not TenantDue.objects.filter(schema_name=connection.schema_name).exists()


def test_the_sweep_with_nothing_due_is_one_query(django_assert_max_num_queries, tenant, other_tenant):
    """Beat runs it every 5 s: with 2,000 tenants it must not visit each schema."""
    connection.set_schema_to_public()
    with django_assert_max_num_queries(2) as captured:  # the search path, then the due table
        assert sweep_task() == 0
    assert not any("webhooks_" in q["sql"] for q in captured.captured_queries)


def test_a_checked_target_of_another_url_does_not_skip_the_check(admin, receiver):
    from webhooks.targets import resolve

    checked = resolve(receiver.url())
    with pytest.raises(TargetRefused):
        webhook_endpoint_create(
            actor=admin, url="https://no-such-host.invalid/x", event_types=["quiz.graded"], target=checked
        )
    assert not WebhookEndpoint.objects.exists()
