"""In a real browser: a learner attaches an assignment file, which goes from the page straight
to the S3 server (progress bar, cancel), hands it in, and the course's grader opens the file.
Without JavaScript the page says why no file can be attached.

The live server only sees committed rows, so the course and people are committed in tenant
`acme` and deleted at the end, with the objects they left in the bucket.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_tenants.utils import schema_context

from tests.fixtures import PASSWORD, browser_sign_in, site_url

pytestmark = pytest.mark.browser
TENANT = "acme"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def assignment_course(browser, django_db_blocker):
    from accounts.services import user_create
    from assessments.models import AssessmentKind
    from assessments.tests.factories import make_assessed_course
    from courses.models import Course
    from enrollments.services import enrollment_create
    from media_delivery import storage
    from media_delivery.models import MediaAsset
    from tenants.context import storage_prefix

    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock(), schema_context(TENANT):
        learner = user_create(
            email=f"writer-{tag}@{TENANT}.test", role="learner", password=PASSWORD, full_name="Wren Writer"
        )
        grader = user_create(email=f"grader-{tag}@{TENANT}.test", role="instructor", password=PASSWORD)
        course, lesson, assessment = make_assessed_course(
            slug=f"essays-{tag}", kind=AssessmentKind.ASSIGNMENT, text_lessons=0, max_file_mb=5
        )
        course.instructors.add(grader)
        enrollment_create(user=learner, course=course)
    try:
        yield {
            "course": course,
            "lesson": lesson,
            "assessment": assessment,
            "learner": learner,
            "grader": grader,
        }
    finally:
        with django_db_blocker.unblock(), schema_context(TENANT):
            assets = list(MediaAsset.objects.filter(owner=learner))
            for asset in assets:
                storage.objects_delete_prefix(f"{storage_prefix()}media/{asset.pk}/")
            Course.objects.filter(pk=course.pk).delete()
            MediaAsset.objects.filter(pk__in=[a.pk for a in assets]).delete()
            learner.delete()
            grader.delete()
        connection.set_schema_to_public()


def test_a_learner_uploads_an_assignment_file_with_progress_and_the_grader_opens_it(
    browser, live_server_port, assignment_course, django_db_blocker
):
    from assessments.models import Attempt
    from core.pdf import pdf_document
    from media_delivery.models import AssetStatus, MediaAsset

    port, info = live_server_port, assignment_course
    course, lesson = info["course"], info["lesson"]
    overview = site_url(TENANT, port, f"/assessments/{course.slug}/lessons/{lesson.pk}/")
    pdf = pdf_document(title="My essay", subtitle="handed in from a browser test", body="Forklifts.")
    context = browser.new_context(viewport=PHONE, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        browser_sign_in(page, slug=TENANT, port=port, email=info["learner"].email)
        page.goto(overview)
        progress = page.locator("[data-upload-progress]")
        cancel = page.get_by_role("button", name="Cancel upload")
        assert page.locator("[data-no-js]").count() == 0 or not page.locator("[data-no-js]").is_visible()

        # Hold the POST to storage, cancel it: nothing is attached and the upload is rejected.
        held = []

        def to_storage(url: str) -> bool:
            return url.startswith(settings.S3_ENDPOINT_URL.rstrip("/") + "/")

        page.route(to_storage, lambda route: held.append(route))
        page.get_by_label("File").set_input_files(
            {"name": "draft.pdf", "mimeType": "application/pdf", "buffer": pdf}
        )
        cancel.wait_for(state="visible")
        assert progress.is_visible()
        assert page.get_by_role("button", name="Hand in").is_disabled()
        while not held:  # the page asked the server for the ticket and is now sending the file
            page.wait_for_timeout(50)
        cancel.click()
        page.get_by_text("Upload cancelled: nothing is attached.").wait_for()
        assert not cancel.is_visible() and page.get_by_role("button", name="Hand in").is_enabled()
        assert page.locator("[data-asset-field]").input_value() == ""
        page.unroute(to_storage)

        # Now for real: the bar fills, the server checks the bytes, the form names the file.
        page.get_by_label("File").set_input_files(
            {"name": "essay.pdf", "mimeType": "application/pdf", "buffer": pdf}
        )
        page.get_by_text("essay.pdf is uploaded and checked").wait_for()
        assert progress.is_visible() and progress.get_attribute("value") == "100"
        assert page.locator("[data-asset-field]").input_value() != ""
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= PHONE["width"], f"page is {scroll}px wide on a phone"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "assignment-upload-phone.png"), full_page=True)
        page.get_by_label("Your answer").fill("My essay is attached.")
        page.get_by_role("button", name="Hand in").click()
        page.wait_for_url(lambda url: "/attempts/" in url)
        assert "Handed in" in page.locator(".messages").inner_text()
        with page.expect_download() as own:
            page.get_by_role("link", name="Your file: essay.pdf").click()
        assert Path(own.value.path()).read_bytes() == pdf
    finally:
        context.close()

    with django_db_blocker.unblock(), schema_context(TENANT):
        attempt_id = Attempt.objects.get(assessment=info["assessment"]).pk
    # The grader opens the file from the grading page: a signed URL to the same bytes.
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        browser_sign_in(page, slug=TENANT, port=port, email=info["grader"].email, wait=False)
        page.wait_for_url(lambda url: "/login/" not in url)
        page.goto(site_url(TENANT, port, "/assessments/grading/"))
        page.locator(f"a[href='/assessments/grading/{attempt_id}/']").first.click()
        with page.expect_download() as graders:
            page.get_by_role("link", name="Download the file (essay.pdf)").click()
        assert "X-Amz-Signature" in graders.value.url
        assert Path(graders.value.path()).read_bytes() == pdf
    finally:
        context.close()

    with django_db_blocker.unblock(), schema_context(TENANT):
        attempt = Attempt.objects.get(assessment=info["assessment"])
        assert attempt.asset.filename == "essay.pdf" and attempt.text_answer == "My essay is attached."
        statuses = sorted(MediaAsset.objects.filter(owner=info["learner"]).values_list("filename", "status"))
        assert statuses == [("draft.pdf", AssetStatus.REJECTED), ("essay.pdf", AssetStatus.READY)]


def test_without_javascript_the_page_says_why_no_file_can_be_attached(
    browser, live_server_port, assignment_course
):
    port, info = live_server_port, assignment_course
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        browser_sign_in(page, slug=TENANT, port=port, email=info["learner"].email)
        page.goto(site_url(TENANT, port, f"/assessments/{info['course'].slug}/lessons/{info['lesson'].pk}/"))
        assert "Attaching a file needs JavaScript" in page.inner_text("main")
        assert not page.locator("input[type=file]").is_visible()
        assert page.get_by_label("Your answer").is_visible()  # a written answer still works
    finally:
        context.close()
