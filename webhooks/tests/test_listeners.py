"""Which endpoints listen is known without a query per emit, and never misses one (ADR 0201).

"Another process" is this one with its process cache and its transaction's memo dropped but
Redis kept; "a process that saw the old map" keeps its process cache (the writer never
touches it) and only starts a new transaction. Redis is made unreachable for real (a cache
pointed at a closed port), never mocked.
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from core import readahead
from core.events import emit
from courses.tests.factories import make_course
from enrollments.services import enrollment_create
from tenants.models import Tenant
from tests.fixtures import client_for
from webhooks import listeners
from webhooks.delivery import endpoint_disable_for_failures
from webhooks.listeners import VERSION_KEY, ListenersUnannounced
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookMessage
from webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hook"  # never sent to here: these tests look at the outbox rows
DEAD_REDIS = {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}


def _redis_down():
    return override_settings(CACHES={"default": DEAD_REDIS})


def _new_transaction() -> None:
    """What a commit does to the memo (the test's own transaction never commits)."""
    connection._webhook_listeners = None


def _other_process() -> None:
    listeners.listeners_forget_local()


def _listener_queries(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if "FROM webhooks_webhookendpoint WHERE is_active" in q["sql"]
    ]


def _statements(captured) -> list[str]:
    """The statements, without the savepoints of atomic() inside the test's transaction."""
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def _emit(event_type: str = "lesson.completed") -> list[int]:
    """Emit in a transaction of its own; the endpoints that got a delivery."""
    _new_transaction()
    before = set(WebhookDelivery.objects.values_list("pk", flat=True))
    with transaction.atomic():
        emit(event_type, data={"n": 1})
    return sorted(WebhookDelivery.objects.exclude(pk__in=before).values_list("endpoint_id", flat=True))


def _version() -> int | None:
    raw = cache._cache.get_client(None).get(cache.make_key(VERSION_KEY))
    return int(raw) if raw is not None else None


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run a write and its after-commit callbacks, as a real commit would."""

    def run(write, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return write(*args, **kwargs)

    return run


def test_an_emit_without_endpoints_costs_no_query_once_the_map_is_known(in_tenant):
    _other_process()
    with CaptureQueriesContext(connection) as cold:
        assert _emit() == []
    assert len(_listener_queries(cold)) == 1
    _new_transaction()
    with CaptureQueriesContext(connection) as warm, transaction.atomic():
        emit("lesson.completed", data={"n": 1})
        emit("enrollment.completed", data={"n": 1})
        emit("quiz.graded", data={"n": 1})
    assert _statements(warm) == []


def test_one_transaction_reads_the_map_at_most_once(in_tenant, admin, committed):
    committed(webhook_endpoint_create, actor=admin, url=URL, event_types=["quiz.graded"])
    _other_process()
    # Three emits, one listener query; the one heard event costs the outbox statement.
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        emit("lesson.completed", data={"n": 1})
        emit("enrollment.completed", data={"n": 1})
        emit("quiz.graded", data={"n": 1})
    assert len(_statements(captured)) == 2
    assert len(_listener_queries(captured)) == 1
    # The next transaction of this process: the map is known; only the outbox statement.
    _new_transaction()
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        emit("lesson.completed", data={"n": 1})
        emit("quiz.graded", data={"n": 1})
    assert [sql.split()[0] for sql in _statements(captured)] == ["WITH"]


def test_every_endpoint_change_is_heard_by_the_next_emit_of_another_process(in_tenant, admin, committed):
    def heard(event_type: str = "lesson.completed") -> list[int]:
        """The next emit in a process that kept the old map, and in one that knew nothing."""
        seen = _emit(event_type)
        _other_process()
        assert _emit(event_type) == seen
        return seen

    assert heard() == []  # the map (no endpoints) is now known in this process
    endpoint = committed(webhook_endpoint_create, actor=admin, url=URL, event_types=["lesson.completed"])
    assert heard() == [endpoint.pk]
    committed(webhook_endpoint_update, actor=admin, endpoint=endpoint, event_types=["quiz.graded"])
    assert heard() == [] and heard("quiz.graded") == [endpoint.pk]
    committed(
        webhook_endpoint_update,
        actor=admin,
        endpoint=endpoint,
        event_types=["quiz.graded", "lesson.completed"],
    )
    assert heard() == [endpoint.pk]
    committed(webhook_endpoint_update, actor=admin, endpoint=endpoint, is_active=False)
    assert heard() == []
    committed(webhook_endpoint_update, actor=admin, endpoint=endpoint, is_active=True)
    assert heard() == [endpoint.pk]
    endpoint.refresh_from_db()
    committed(endpoint_disable_for_failures, endpoint, limit=3)  # the delivery's own disable
    assert heard() == []
    committed(webhook_endpoint_update, actor=admin, endpoint=endpoint, is_active=True)
    assert heard() == [endpoint.pk]
    committed(webhook_endpoint_delete, actor=admin, endpoint=endpoint)
    assert heard() == []


def test_every_change_gives_the_tenant_a_new_version(in_tenant, admin, committed):
    _emit()
    first = _version()
    endpoint = committed(webhook_endpoint_create, actor=admin, url=URL, event_types=["lesson.completed"])
    second = _version()
    assert first and second and second > 0 and second != first
    endpoint.refresh_from_db()
    committed(endpoint_disable_for_failures, endpoint, limit=3)
    assert _version() not in (second, None)


def test_a_write_sees_its_own_new_endpoint_before_commit(in_tenant, admin):
    """No after-commit callback runs here: the count of writers in flight stands, and the table is read."""
    assert _emit() == []
    with transaction.atomic():
        endpoint = webhook_endpoint_create(actor=admin, url=URL, event_types=["lesson.completed"])
        emit("lesson.completed", data={"n": 1})
        assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [endpoint.pk]
    assert _version() < 0
    assert _emit() == [endpoint.pk]  # a process that kept the old map does not trust it now


def test_a_settle_that_cannot_reach_redis_leaves_the_count_and_the_table_is_read(
    in_tenant, admin, django_capture_on_commit_callbacks
):
    assert _emit() == []  # this process knows "no endpoints" under the current version
    with django_capture_on_commit_callbacks() as after_commit:
        endpoint = webhook_endpoint_create(actor=admin, url=URL, event_types=["lesson.completed"])
    with _redis_down():
        for callback in after_commit:
            callback()  # the settle fails (logged)
    assert _version() < 0
    assert _emit() == [endpoint.pk]
    _other_process()
    assert _emit() == [endpoint.pk]
    # The count expires: a new version is started, under which nothing was kept.
    cache._cache.get_client(None).delete(cache.make_key(VERSION_KEY))
    assert _emit() == [endpoint.pk]
    assert _version() > 0
    assert _emit() == [endpoint.pk]


def test_a_write_that_could_add_a_listener_is_refused_while_redis_is_down(in_tenant, admin):
    with _redis_down(), pytest.raises(ListenersUnannounced):
        webhook_endpoint_create(actor=admin, url=URL, event_types=["lesson.completed"])
    assert not WebhookEndpoint.objects.exists()


def test_a_disable_while_redis_is_down_goes_ahead_and_the_stale_map_sends_nothing(
    in_tenant, admin, committed
):
    endpoint = committed(webhook_endpoint_create, actor=admin, url=URL, event_types=["lesson.completed"])
    assert _emit() == [endpoint.pk]  # known in this process under the current version
    messages = WebhookMessage.objects.count()
    with _redis_down():
        committed(webhook_endpoint_update, actor=admin, endpoint=endpoint, is_active=False)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    # Redis is back with the old version: this process's map still names the endpoint, and
    # the outbox statement checks it again.
    assert listeners.listeners_for("lesson.completed") == (endpoint.pk,)
    assert _emit() == []
    assert WebhookMessage.objects.count() == messages


def test_without_redis_an_emit_reads_the_table(in_tenant, admin, committed):
    endpoint = committed(webhook_endpoint_create, actor=admin, url=URL, event_types=["lesson.completed"])
    with _redis_down():
        with CaptureQueriesContext(connection) as captured:
            assert _emit() == [endpoint.pk]
        assert len(_listener_queries(captured)) == 1


def test_a_task_outside_a_request_hears_a_change_made_elsewhere(in_tenant, admin, committed):
    """A Celery task has no read-ahead: it reads the version itself (one GET, no query)."""
    readahead._forget_all()
    assert _emit() == []
    endpoint = committed(webhook_endpoint_create, actor=admin, url=URL, event_types=["lesson.completed"])
    connection.set_tenant(in_tenant)  # as tenant-schemas-celery does for a task
    with CaptureQueriesContext(connection) as captured:
        assert _emit() == [endpoint.pk]
    assert len(_listener_queries(captured)) == 1
    with CaptureQueriesContext(connection) as captured:
        assert _emit() == [endpoint.pk]
    assert _listener_queries(captured) == []


def test_a_post_reads_the_version_with_the_routing_token_and_emits_without_a_listener_query(tenant):
    connection.set_tenant(tenant)
    course = make_course(slug="hooked-post", lessons=2)
    learner = get_user_model().objects.get(email="learner@acme.test")
    enrollment_create(user=learner, course=course)
    lesson = course.modules.first().lessons.order_by("position").first()
    client = client_for(tenant, as_role="learner")
    client.get("/")  # this process now knows the host
    _other_process()
    client.post(f"/learning/{course.slug}/lessons/{lesson.pk}/complete/")  # learns the map
    other = course.modules.first().lessons.order_by("position").last()
    sent: list[tuple] = []
    redis = cache._cache.get_client(None)
    real = redis.execute_command

    def recording(*args, **options):
        sent.append(tuple(a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in args))
        return real(*args, **options)

    redis.execute_command = recording
    try:
        with CaptureQueriesContext(connection) as captured:
            response = client.post(f"/learning/{course.slug}/lessons/{other.pk}/complete/")
    finally:
        del redis.execute_command
    assert response.status_code in (200, 302)
    connection.set_tenant(tenant)
    assert other.pk in set(
        learner.lesson_progress.filter(status="completed").values_list("lesson_id", flat=True)
    )
    version_key = readahead.schema_key(tenant.schema_name, VERSION_KEY)
    assert sent[0][0] == "MGET" and version_key in sent[0]
    assert not [c for c in sent[1:] if version_key in c], sent
    assert _listener_queries(captured) == []


def test_a_tenants_version_and_map_are_not_another_tenants(tenant, other_tenant, admin, committed):
    connection.set_tenant(tenant)
    endpoint = committed(webhook_endpoint_create, actor=admin, url=URL, event_types=["lesson.completed"])
    assert _emit() == [endpoint.pk]
    acme_version = _version()
    connection.set_tenant(other_tenant)
    assert _emit() == []  # globex has no endpoint, whatever acme's map says
    assert _version() != acme_version
    assert listeners.listeners_for("lesson.completed") == ()
    # An entry read ahead for acme is never the answer in globex.
    readahead.keep({readahead.schema_key(tenant.schema_name, VERSION_KEY): str(acme_version).encode()})
    try:
        assert readahead.take(VERSION_KEY) == (False, None)
        with schema_context(tenant.schema_name):
            assert readahead.take(VERSION_KEY) == (True, acme_version)
    finally:
        readahead._forget_all()
    connection.set_tenant(tenant)
    assert _emit() == [endpoint.pk]


def test_the_process_cache_stays_at_its_bound_over_more_tenants(in_tenant):
    bound = 3
    with override_settings(PROCESS_CACHE_MAX={**settings.PROCESS_CACHE_MAX, "webhook_listeners": bound}):
        for _ in range(bound + 4):
            stand_in = Tenant(
                pk=in_tenant.pk, schema_name=in_tenant.schema_name, slug="acme", uuid=uuid.uuid4()
            )
            connection.set_tenant(stand_in)
            _emit()
            assert len(listeners._local) <= bound
        assert len(listeners._local) == bound


def test_a_rolled_back_savepoint_takes_the_map_it_read_with_it(in_tenant, admin, committed):
    endpoint = committed(webhook_endpoint_create, actor=admin, url=URL, event_types=["lesson.completed"])
    _new_transaction()
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
            emit("lesson.completed", data={"n": 1})  # nobody listens in here
            raise RuntimeError("the savepoint rolls back, and the endpoint is back")
        emit("lesson.completed", data={"n": 2})
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [endpoint.pk]


def test_a_secret_rotation_moves_no_version_and_works_without_redis(in_tenant, admin, committed):
    endpoint = committed(webhook_endpoint_create, actor=admin, url=URL, event_types=["lesson.completed"])
    version = _version()
    committed(webhook_endpoint_rotate_secret, actor=admin, endpoint=endpoint)
    assert _version() == version
    with _redis_down():
        committed(webhook_endpoint_rotate_secret, actor=admin, endpoint=endpoint)
    assert _emit() == [endpoint.pk]


def test_a_new_tenant_of_a_reused_schema_name_never_reads_the_old_tenants_map(in_tenant, admin, committed):
    """The process cache is keyed by the tenant's uuid, which is never reused (the Redis keys
    of a retired schema are purged before a namesake exists, ADR 0186)."""
    endpoint = committed(webhook_endpoint_create, actor=admin, url=URL, event_types=["lesson.completed"])
    assert _emit() == [endpoint.pk]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(is_active=False)  # no signal: as if dropped
    namesake = Tenant(pk=in_tenant.pk, schema_name=in_tenant.schema_name, slug="acme", uuid=uuid.uuid4())
    connection.set_tenant(namesake)
    _new_transaction()
    assert listeners.listeners_for("lesson.completed") == ()


def test_the_first_of_two_writers_to_commit_leaves_the_other_counted_in(in_tenant):
    """Two transactions (here: two callbacks, as two workers would hold) write endpoints at once."""
    schema = connection.schema_name
    assert _emit() == []
    first, second = listeners._Settle(schema), listeners._Settle(schema)
    key = listeners._full_key(schema)
    client = cache._cache.get_client(None)
    for writer in (first, second):
        client.eval(listeners._MARK, 1, key, 1, listeners.CHANGING_SECONDS)
        writer.joined = True
    assert _version() == -2
    second()  # commits first: the other is still in flight, readers keep using the table
    assert _version() == -1
    first()
    assert _version() > 0
    # A writer that could not count itself in leaves the others' count alone.
    client.eval(listeners._MARK, 1, key, 1, listeners.CHANGING_SECONDS)
    listeners._Settle(schema)()
    assert _version() == -1
