import pytest
from django.contrib.auth import get_user_model


@pytest.fixture
def admin(in_tenant):
    """The tenant's admin, who may manage its webhook endpoints."""
    return get_user_model().objects.get(email=f"admin@{in_tenant.slug}.test")
