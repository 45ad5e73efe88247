"""In a real browser: a quiz answer the server cannot read (a bad number) never costs the learner
the other answers typed at the same time, and its error shows at that question, also after a
reload (issue #11, ADR 0085). The course is committed in tenant `globex` and deleted at the end.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from assessments.models import Answer, QuestionKind
from assessments.tests.factories import add_question, make_assessed_course
from enrollments.services import enrollment_create
from tests.fixtures import PASSWORD, browser_sign_in, site_url

pytestmark = pytest.mark.browser
TENANT = "globex"


@pytest.fixture
def two_question_quiz(browser, django_db_blocker):
    from accounts.services import user_create
    from courses.services import course_publish

    tag = uuid.uuid4().hex[:8]
    with django_db_blocker.unblock(), schema_context(TENANT):
        from django.contrib.auth import get_user_model

        learner = user_create(email=f"saver-{tag}@globex.test", role="learner", password=PASSWORD)
        course, lesson, assessment = make_assessed_course(
            slug=f"autosave-{tag}", questions=False, publish=False, text_lessons=0, attempts_allowed=2
        )
        short = add_question(
            assessment,
            kind=QuestionKind.SHORT,
            prompt="Who signs the permit?",
            accepted_answers="The supervisor",
            position=1,
        )
        numeric = add_question(
            assessment,
            kind=QuestionKind.NUMERIC,
            prompt="Load limit in tonnes?",
            numeric_answer=Decimal("2.7"),
            position=2,
        )
        course_publish(actor=get_user_model().objects.get(email="admin@globex.test"), course=course)
        course.refresh_from_db()
        enrollment_create(user=learner, course=course)
        connection.close()
    try:
        yield {"course": course, "lesson": lesson, "learner": learner, "short": short, "numeric": numeric}
    finally:
        with django_db_blocker.unblock(), schema_context(TENANT):
            course.delete()
            learner.delete()
            connection.close()


def _status(page) -> str:
    return page.locator("[data-save-status]").inner_text()


def test_a_bad_number_keeps_the_good_answer_and_shows_its_error_after_a_reload(
    browser, live_server_port, two_question_quiz, django_db_blocker
):
    port, quiz = live_server_port, two_question_quiz
    course, lesson = quiz["course"], quiz["lesson"]
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15000)
    browser_sign_in(page, slug=TENANT, port=port, email=quiz["learner"].email)
    page.goto(site_url(TENANT, port, f"/learning/{course.slug}/lessons/{lesson.pk}/"))
    page.get_by_role("button", name="Start the quiz").click()
    page.wait_for_url(lambda url: "/attempts/" in url)

    # Both typed within one autosave: a good text answer and a number with two commas.
    page.get_by_label("Your answer", exact=True).fill("The supervisor")
    page.get_by_label("Your answer (a number)").fill("2,,7")
    page.wait_for_function(
        "document.querySelector('[data-save-status]').textContent.startsWith('Saved, except one answer')"
    )
    numeric = page.locator(f'fieldset[data-question="{quiz["numeric"].pk}"]')
    error = numeric.locator("[data-question-error]")
    assert error.is_visible() and "Enter a number" in error.inner_text()
    assert numeric.get_by_label("Your answer (a number)").get_attribute("aria-invalid") == "true"
    short = page.locator(f'fieldset[data-question="{quiz["short"].pk}"]')
    assert short.locator("[data-question-error]").is_hidden()

    page.reload()
    assert page.get_by_label("Your answer", exact=True).input_value() == "The supervisor"
    assert page.get_by_label("Your answer (a number)").input_value() == "2,,7"
    error = page.locator(f'fieldset[data-question="{quiz["numeric"].pk}"] [data-question-error]')
    assert error.is_visible() and "Enter a number, e.g. 3.14 or 3,14." in error.inner_text()

    # A decimal comma is a number: the error goes away and the answer is stored as 2.7.
    page.get_by_label("Your answer (a number)").fill("2,7")
    page.wait_for_function("document.querySelector('[data-save-status]').textContent === 'Saved.'")
    assert error.is_hidden()
    with django_db_blocker.unblock(), schema_context(TENANT):
        stored = {
            a.question_id: a.response for a in Answer.objects.filter(attempt__assessment__lesson=lesson)
        }
        connection.close()
    assert stored[quiz["short"].pk] == {"text": "The supervisor"}
    assert stored[quiz["numeric"].pk] == {"value": "2.7", "typed": "2,7"}

    # Handing in asks first, then the result is right.
    page.get_by_role("button", name="Hand in…").click()
    summary = page.locator("[data-hand-in-summary]").inner_text()
    assert "You answered all 2 questions." in summary and "After this one you have 1 attempt left." in summary
    page.get_by_role("button", name="Hand in now").click()
    assert "You passed with 100 of 100 (2 of 2 points)." in page.locator(".message.success").inner_text()
    context.close()
