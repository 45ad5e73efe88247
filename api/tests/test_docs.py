"""The curl examples of docs/api.md, run as written against a live server."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from api.keys import SCOPES, api_key_create
from api.models import ApiKey
from courses.models import Course
from courses.tests.factories import make_course

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def _examples() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_docs_have_examples_for_each_part():
    text = "\n".join(_examples())
    for needle in ("auth/token", "If-None-Match", "Idempotency-Key", "limit=", "authoring", "webhooks"):
        assert needle in text, needle


@pytest.fixture
def committed_site(live_server_port, django_db_blocker, receiver):
    """A key and a published course the live server can see (committed), removed afterwards."""
    with django_db_blocker.unblock(), schema_context("acme"):
        admin = get_user_model().objects.get(email="admin@acme.test")
        key = api_key_create(actor=admin, name="docs examples", scopes=list(SCOPES))
        before = set(Course.objects.values_list("pk", flat=True))
        make_course(slug="api-docs-course", title="API docs course")
    yield {
        "LMS": f"http://acme.localhost:{live_server_port}",
        "LMS_KEY": key.plaintext,
        "HOOK_URL": receiver.url("/docs-hook"),
    }
    with django_db_blocker.unblock(), schema_context("acme"):
        Course.objects.exclude(pk__in=before).delete()  # api-docs-course and what the examples made
        ApiKey.objects.filter(pk=key.key.pk).delete()


def test_every_curl_example_runs(committed_site, receiver):
    assert shutil.which("curl"), "the docs examples need curl"
    script = "set -euo pipefail\n" + "\n".join(_examples())
    done = subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, **committed_site},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"an example failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    out = done.stdout
    assert '"via":"token"' in out and '"slug":"api-docs-course"' in out
    assert '"secret":"whsec_' in out
    [test_event] = receiver.wait_for(1)
    assert '"type":"webhook.test"' in test_event.body and test_event.path == "/docs-hook"
    assert "304\n" in out and '"code": "unauthorized"' in out
    assert '"summary":"First version"' in out
