"""A tenant admin sets up a webhook endpoint in a real browser, tests it, reads the log, redelivers.

The live server sends for real (Celery runs eagerly in tests, after each request's commit) to
a receiver in this process, and the receiver's copies are verified with the Standard Webhooks
library, as a customer's receiver would.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from standardwebhooks import Webhook

from tenants.models import TenantDue
from tests.fixtures import browser_sign_in, site_url
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookMessage
from webhooks.outbox import PRUNE_QUEUE, QUEUE
from webhooks.tests.receiver import Receiver

pytestmark = pytest.mark.browser
TENANT = "globex"


@pytest.fixture
def receiver(django_db_blocker):
    """The customer's receiver; afterwards what the live server committed is removed again."""
    r = Receiver()
    try:
        yield r
    finally:
        r.stop()
        with django_db_blocker.unblock():
            with schema_context(TENANT):
                for endpoint in WebhookEndpoint.objects.filter(url__startswith=r.url("")):
                    endpoint.delete()
                WebhookMessage.objects.filter(deliveries__isnull=True).delete()
            TenantDue.objects.filter(schema_name=TENANT, queue__in=[QUEUE, PRUNE_QUEUE]).delete()
        connection.close()


def _run_action(page, action: str, pk: int) -> None:
    page.locator(f"input[name='_selected_action'][value='{pk}']").check()
    page.locator("select[name='action']").select_option(action)
    page.get_by_role("button", name="Go").click()
    page.wait_for_load_state()


def test_an_admin_adds_an_endpoint_tests_it_reads_the_log_and_redelivers(
    page, live_server_port, receiver, django_db_blocker
):
    url = lambda path: site_url(TENANT, live_server_port, path)  # noqa: E731
    browser_sign_in(page, slug=TENANT, port=live_server_port, email=f"admin@{TENANT}.test")

    # Add the endpoint: the receiver's URL, two event types; then its page shows the secret.
    page.goto(url("/admin/webhooks/webhookendpoint/add/"))
    page.locator("#id_url").fill(receiver.url("/crm"))
    page.locator("#id_description").fill("CRM in the browser test")
    page.locator("input[name='event_types'][value='enrollment.created']").check()
    page.locator("input[name='event_types'][value='quiz.graded']").check()
    page.locator("input[name='_continue']").click()
    page.wait_for_url(re.compile(r"/admin/webhooks/webhookendpoint/\d+/change/"))
    assert "was added successfully" in page.locator(".messagelist").inner_text()
    secret = page.locator(".field-signing_secret code").inner_text().strip()
    assert secret.startswith("whsec_")
    with django_db_blocker.unblock(), schema_context(TENANT):
        endpoint = WebhookEndpoint.objects.get(url=receiver.url("/crm"))
    assert endpoint.secret == secret
    assert endpoint.event_types == ["enrollment.created", "quiz.graded"]
    assert not receiver.received

    # "Send a test event" from the list.
    page.goto(url("/admin/webhooks/webhookendpoint/"))
    _run_action(page, "send_test", endpoint.pk)
    assert "Test event sent to 1 endpoint(s)" in page.locator(".messagelist").inner_text()
    [first] = receiver.wait_for(1)
    assert first.path == "/crm"

    # The delivery log, reached from the endpoint's page: one succeeded delivery, then its attempt.
    page.goto(url(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/"))
    page.get_by_role("link", name="Delivery log").click()
    page.wait_for_url(re.compile(r"/admin/webhooks/webhookdelivery/\?endpoint__id__exact="))
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    assert "webhook.test" in row and "Succeeded" in row and "200" in row
    with django_db_blocker.unblock(), schema_context(TENANT):
        delivery = WebhookDelivery.objects.select_related("message").get(endpoint=endpoint)
        attempt = delivery.attempt_log.get()
    assert delivery.message.msg_id in row
    rows.first.locator("th a, td a").first.click()
    page.wait_for_url(re.compile(rf"/admin/webhooks/webhookdelivery/{delivery.pk}/change/"))
    assert page.locator(".field-status").inner_text().split()[-1] == "Succeeded"
    assert page.locator(".field-last_status_code").inner_text().split()[-1] == "200"
    attempts = page.locator(".inline-group tbody tr.has_original, .inline-group tbody tr.form-row")
    attempt_row = attempts.first.inner_text()
    assert "200" in attempt_row and str(attempt.duration_ms) in attempt_row
    assert page.locator(".field-payload pre").inner_text() == first.body

    # Redeliver: the same message again, as a new delivery in the log.
    page.goto(url(f"/admin/webhooks/webhookdelivery/?endpoint__id__exact={endpoint.pk}"))
    _run_action(page, "redeliver", delivery.pk)
    assert "1 delivery(ies) queued again." in page.locator(".messagelist").inner_text()
    got = receiver.wait_for(2)
    assert len(got) == 2
    page.goto(url(f"/admin/webhooks/webhookdelivery/?endpoint__id__exact={endpoint.pk}"))
    assert page.locator("#result_list tbody tr").count() == 2
    with django_db_blocker.unblock(), schema_context(TENANT):
        statuses = set(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("status", flat=True))
    assert statuses == {DeliveryStatus.SUCCEEDED}

    # What the receiver got is ours: both verify with the secret the page showed, one webhook-id.
    for message in got:
        payload = Webhook(secret).verify(message.body, message.headers)
        assert payload["type"] == "webhook.test" and payload["tenant"] == TENANT
        assert payload["data"]["endpoint_id"] == endpoint.pk
        assert payload["data"]["sent_by"] == f"admin@{TENANT}.test"
    assert got[0].headers["webhook-id"] == got[1].headers["webhook-id"] == delivery.message.msg_id
