"""In a real browser: a learner reads a lesson, takes a timed quiz (answers saved as they go,
surviving a reload), passes, completes the course and downloads the certificate PDF, whose
first page is rendered to PNG under test-artifacts/.

The live server only sees committed rows, so the course and learner are committed in tenant
`globex` and deleted at the end.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import connection
from django_tenants.utils import schema_context

from assessments.models import Certificate, CertificateSettings, QuestionKind
from assessments.tests.factories import add_question, make_assessed_course
from enrollments.services import enrollment_create
from tests.fixtures import PASSWORD, browser_sign_in, site_url

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
TENANT = "globex"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def timed_course(browser, django_db_blocker):
    from accounts.services import user_create

    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock(), schema_context(TENANT):
        learner = user_create(
            email=f"quizzer-{tag}@globex.test", role="learner", password=PASSWORD, full_name="Quinn Quizzer"
        )
        course, lesson, assessment = make_assessed_course(
            slug=f"forklift-{tag}",
            questions=False,
            publish=False,
            time_limit_minutes=5,
            passing_score=Decimal("50"),
        )
        course.title = "Forklift safety"
        course.save()
        add_question(
            assessment,
            prompt="Who may drive a forklift?",
            choices=[("Anyone on shift", False), ("Only certified drivers", True), ("Visitors", False)],
            position=1,
        )
        add_question(
            assessment,
            kind=QuestionKind.NUMERIC,
            prompt="Top speed indoors, in km/h?",
            numeric_answer=Decimal("10"),
            tolerance=Decimal("0"),
            position=2,
        )
        CertificateSettings.objects.create(course=course)
        from courses.services import course_publish

        course_publish(actor=get_user_model().objects.get(email="admin@globex.test"), course=course)
        course.refresh_from_db()
        enrollment_create(user=learner, course=course)
        reading = course.modules.get().lessons.get(kind="text")
    try:
        yield {"course": course, "lesson": lesson, "reading": reading, "learner": learner}
    finally:
        with django_db_blocker.unblock(), schema_context(TENANT):
            for certificate in Certificate.objects.filter(course=course):
                if certificate.file:
                    default_storage.delete(certificate.file.name)
            course.delete()
            learner.delete()
            connection.close()


def _fits(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"page is {scroll}px wide on a {width}px phone"


def test_learner_passes_a_timed_quiz_completes_the_course_and_downloads_the_certificate(
    browser, live_server_port, timed_course, django_db_blocker
):
    import pypdfium2

    ARTIFACTS.mkdir(exist_ok=True)
    port, course = live_server_port, timed_course["course"]
    slug = course.slug
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15000)
    browser_sign_in(page, slug=TENANT, port=port, email=timed_course["learner"].email)

    page.goto(site_url(TENANT, port, f"/learning/{slug}/lessons/{timed_course['reading'].pk}/"))
    page.get_by_role("button", name="Mark complete").click()
    page.wait_for_url(site_url(TENANT, port, f"/learning/{slug}/lessons/{timed_course['lesson'].pk}/"))
    # The quiz starts in one click from its lesson; the panel says what is being started.
    assert "time limit 5 min" in page.locator("[data-assessment-panel]").inner_text()
    page.get_by_role("button", name="Start the quiz (5 min)").click()
    page.wait_for_url(lambda url: "/attempts/" in url)
    attempt_url = page.url
    timer = page.locator("[data-seconds-left]")
    assert timer.is_visible() and ":" in timer.inner_text()

    # Answer one question, let autosave store it, reload: the answer is still there.
    page.get_by_label("Only certified drivers").check()
    page.wait_for_function("document.querySelector('[data-save-status]').textContent === 'Saved.'")
    page.reload()
    assert page.get_by_label("Only certified drivers").is_checked()
    page.get_by_label("Your answer (a number)").fill("10")
    page.set_viewport_size(PHONE)
    _fits(page, PHONE["width"])
    page.screenshot(path=str(ARTIFACTS / "quiz-attempt-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 860})
    page.get_by_role("button", name="Hand in…").click()
    # The summary before anything is handed in: all answered, unlimited attempts.
    assert "You answered all 2 questions." in page.locator("[data-hand-in-summary]").inner_text()
    page.get_by_role("button", name="Hand in now").click()
    page.wait_for_url(attempt_url)
    assert "You passed with 100 of 100 (2 of 2 points)." in page.locator(".message.success").inner_text()
    assert page.locator("[data-score]").inner_text() == "100 of 100 (2 of 2 points)"
    # Passing the last lesson completed the course: said here, with the certificate.
    assert "You have completed Forklift safety" in page.locator("[data-course-complete]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "quiz-result.png"), full_page=True)

    # The quiz completed the last lesson, so the course is complete and the certificate issued.
    page.get_by_role("link", name="Back to the lesson").click()
    assert "You have completed Forklift safety" in page.inner_text("main")
    page.goto(site_url(TENANT, port, "/certificates/"))
    link = page.locator("[data-certificate-download]")
    assert link.count() == 1
    # The link redirects to a presigned S3 URL; the browser saves the PDF it gets there.
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert "X-Amz-Signature" in download.url
    pdf_bytes = Path(download.path()).read_bytes()
    assert pdf_bytes.startswith(b"%PDF-")
    (ARTIFACTS / "certificate.pdf").write_bytes(pdf_bytes)
    document = pypdfium2.PdfDocument(pdf_bytes)
    image = document[0].render(scale=1.5).to_pil()
    image.save(ARTIFACTS / "certificate.png")
    width, height = image.size
    assert width > height  # landscape
    text = document[0].get_textpage().get_text_range()
    assert "Quinn Quizzer" in text and "Forklift safety" in text and "CERTIFICATE OF COMPLETION" in text
    with django_db_blocker.unblock(), schema_context(TENANT):
        certificate = Certificate.objects.get(course=course)
        connection.close()
    assert certificate.code in text

    # The public verification page, signed out.
    anonymous = browser.new_context()
    check = anonymous.new_page()
    check.goto(site_url(TENANT, port, "/certificates/verify/"))
    check.get_by_label("Verification code").fill(certificate.code.lower())
    check.get_by_role("button", name="Check").click()
    assert "Valid certificate" in check.inner_text("main") and "Quinn Quizzer" in check.inner_text("main")
    anonymous.close()
    context.close()
