"""The operator's tenant list stays one page and a fixed number of queries, however many tenants."""

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from lms.admin import TenantAdmin


def _operator_client() -> Client:
    connection.set_schema_to_public()
    operator = get_user_model().objects.create_superuser(email="pager@lms.test", password="pager-pass-2026")
    client = Client(HTTP_HOST="localhost")
    client.force_login(operator)
    return client


def test_the_tenant_list_is_paged(tenant, other_tenant):
    client = _operator_client()
    TenantAdmin.list_per_page, saved = 1, TenantAdmin.list_per_page
    try:
        first = client.get("/admin/tenants/tenant/")
        second = client.get("/admin/tenants/tenant/?p=2")
    finally:
        TenantAdmin.list_per_page = saved
    assert first.status_code == 200 and second.status_code == 200
    assert "acme" in first.content.decode() and "globex" not in first.content.decode()
    assert "globex" in second.content.decode()
    assert saved == 50


def test_the_tenant_list_costs_the_same_queries_for_each_row(
    tenant, other_tenant, django_assert_max_num_queries
):
    """Hosts come from one prefetch of the page's domains, not one query per tenant."""
    client = _operator_client()
    client.get("/admin/tenants/tenant/")  # session and user loaded once
    with django_assert_max_num_queries(8) as captured:
        response = client.get("/admin/tenants/tenant/")
    assert response.status_code == 200
    domain_queries = [q for q in captured.captured_queries if "tenants_domain" in q["sql"]]
    assert len(domain_queries) == 1
