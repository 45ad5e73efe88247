"""Learner pages for quizzes and assignments, the grading queue, the gradebook, certificates.

Every "may they?" is a decision of `enrollments.access`; an object the person may not
see answers 404, exactly like an object of another tenant.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import may_use_admin
from core.csvexport import csv_response
from core.errors import Forbidden
from core.http import json_body
from courses.selectors import course_get_published
from enrollments.access import courses_for_grading, grading_decision, is_course_staff
from enrollments.models import EnrollmentStatus
from enrollments.selectors import enrollment_get
from media_delivery.delivery import signed_object_url

from .access import access_attempt, access_certificate, access_quiz
from .certificates import certificate_verify
from .grading import number_text
from .models import Attempt, AttemptStatus, Certificate, Question, QuestionKind
from .selectors import (
    answers_visible,
    attempt_items,
    attempts_of,
    course_certificate,
    gradebook,
    grading_queue,
)
from .services import (
    SUBMISSION_CONTENT_TYPES,
    SUBMISSION_TYPES_TEXT,
    AssessmentError,
    answer_error,
    answered,
    answers_from_fields,
    answers_save,
    assignment_submit,
    assignment_upload_abort,
    assignment_upload_finish,
    assignment_upload_get,
    assignment_upload_start,
    attempt_grade,
    attempt_hand_in,
    attempt_start,
    attempt_submit,
    attempts_left,
    availability_refusal,
)

MAX_ANSWER_BODY_BYTES = 64 * 1024
MAX_UPLOAD_BODY_BYTES = 4096


def _lesson_url(course, lesson_id) -> str:
    return reverse("enrollments:lesson", kwargs={"slug": course.slug, "lesson_id": lesson_id})


def _overview_url(course, lesson_id) -> str:
    return reverse("assessments:overview", kwargs={"slug": course.slug, "lesson_id": lesson_id})


def _attempt_url(course, attempt) -> str:
    return reverse("assessments:attempt", kwargs={"slug": course.slug, "attempt_id": attempt.pk})


class SubmissionForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), required=False, max_length=20_000)
    #: the id of the file the page uploaded straight to storage (assignment-upload.js sets it)
    asset = forms.UUIDField(required=False, widget=forms.HiddenInput(attrs={"data-asset-field": ""}))


@login_required
def overview(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    """A quiz's settings and the learner's attempts with a Start button; an assignment's form."""
    # A locked quiz is a locked lesson: 403 with the reason (the door raises Forbidden).
    quiz = access_quiz(user=request.user, course_slug=slug, lesson_id=lesson_id)
    course, lesson, assessment = quiz.course, quiz.lesson, quiz.assessment
    if assessment is None:
        return render(request, "assessments/not_ready.html", {"course": course, "lesson": lesson})
    attempts = attempts_of(user=request.user, assessment=assessment)
    left = attempts_left(assessment, len(attempts))
    open_attempt = next((a for a in attempts if a.status == AttemptStatus.IN_PROGRESS), None)
    form = SubmissionForm()
    if request.method == "POST" and assessment.is_assignment:
        form = SubmissionForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                attempt = assignment_submit(
                    user=request.user,
                    course=course,
                    assessment=assessment,
                    text=form.cleaned_data["text"],
                    asset_id=form.cleaned_data["asset"],
                )
            except AssessmentError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, "Handed in. You will get an e-mail when it is graded.")
                return redirect(_attempt_url(course, attempt))
    return render(
        request,
        "assessments/overview.html",
        {
            "course": course,
            "lesson": lesson,
            "assessment": assessment,
            "attempts": attempts,
            "left": left,
            "open_attempt": open_attempt,
            "closed": availability_refusal(assessment, timezone.now()),
            "waiting": any(a.status == AttemptStatus.SUBMITTED for a in attempts),
            "form": form,
            "staff": is_course_staff(request.user, course),
            "file_types": SUBMISSION_TYPES_TEXT,
            "accept": ",".join(sorted(SUBMISSION_CONTENT_TYPES)),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@login_required
def start(request: HttpRequest, slug: str, lesson_id: int) -> HttpResponse:
    quiz = access_quiz(user=request.user, course_slug=slug, lesson_id=lesson_id, need_assessment=True)
    course, lesson, assessment = quiz.course, quiz.lesson, quiz.assessment
    try:
        attempt = attempt_start(user=request.user, course=course, assessment=assessment)
    except AssessmentError as exc:
        messages.error(request, str(exc))
        return redirect(_overview_url(course, lesson.id))
    return redirect(_attempt_url(course, attempt))


def _with_errors(items: list) -> list:
    """The attempt's items, each with the sentence to show at it if its saved answer cannot be read."""
    for item in items:
        item.error = answer_error(item.question, item.response)
        item.shown = item.response.get("typed", item.response.get("value", ""))
    return items


def _points(items: list) -> tuple[Decimal, Decimal]:
    """(points earned, points possible) of a graded attempt's questions."""
    earned = sum((i.answer.points for i in items if i.answer and i.answer.points is not None), Decimal(0))
    return earned, sum((i.question.points for i in items), Decimal(0))


def score_sentence(attempt: Attempt, items: list | None = None, *, points=None) -> str:
    """'7 of 10', or '70 of 100 (7 of 10 points)' when the scale is not the points.

    `points`: (earned, possible) when known, instead of summing `items`."""
    text = f"{number_text(attempt.score)} of {number_text(attempt.max_score)}"
    if items or points:
        earned, possible = points or _points(items)
        if possible and possible != attempt.max_score:
            text += f" ({number_text(earned)} of {number_text(possible)} point{pluralize(possible)})"
    return text


def _course_finished(request: HttpRequest, course, attempt: Attempt) -> dict | None:
    """For an attempt whose pass completed the course: what the page says about it and the certificate."""
    if not attempt.passed:
        return None
    enrollment = enrollment_get(user=request.user, course=course)
    if enrollment is None or enrollment.status != EnrollmentStatus.COMPLETED:
        return None
    return {"title": course.published_revision.card.get("title", course.title)} | course_certificate(
        user=request.user, course=course
    )


@login_required
def attempt_page(request: HttpRequest, slug: str, attempt_id: int) -> HttpResponse:
    """An open attempt to answer, or the result of a submitted one."""
    course = course_get_published(slug=slug)
    attempt = access_attempt(user=request.user, course=course, attempt_id=attempt_id)
    now = timezone.now()
    if attempt.status == AttemptStatus.IN_PROGRESS and attempt.deadline and now > attempt.deadline:
        attempt, _ = attempt_submit(user=request.user, attempt=attempt, now=now)  # graded as of the deadline
        messages.info(
            request, "Time ran out: your attempt was handed in with the answers saved before the deadline."
        )
    attempts = attempts_of(user=request.user, assessment=attempt.assessment)
    attempt = next(a for a in attempts if a.pk == attempt.pk)
    items = _with_errors(attempt_items(attempt))
    graded = attempt.status == AttemptStatus.GRADED
    return render(
        request,
        "assessments/attempt.html",
        {
            "course": course,
            "assessment": attempt.assessment,
            "lesson": attempt.assessment.lesson,
            "attempt": attempt,
            "items": items,
            "open": attempt.status == AttemptStatus.IN_PROGRESS,
            "show_answers": answers_visible(attempt, attempts),
            "seconds_left": max(0, int((attempt.deadline - now).total_seconds()))
            if attempt.deadline
            else None,
            "left": attempts_left(attempt.assessment, len(attempts)),
            "score": score_sentence(attempt, items) if graded else "",
            "pass_mark": number_text(attempt.assessment.passing_score),
            "finished": _course_finished(request, course, attempt) if graded else None,
            "file_url": reverse("assessments:attempt_file", kwargs={"slug": slug, "attempt_id": attempt.pk})
            if attempt.asset_id or attempt.file
            else "",
        },
    )


def _answers_from_form(request: HttpRequest, attempt: Attempt) -> dict:
    """The form's fields q<id> (and q<id> repeated for multiple choice) as {question id: response}."""
    kinds = dict(Question.objects.filter(pk__in=attempt.question_ids).values_list("pk", "kind"))
    return answers_from_fields(request.POST, kinds)


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_POST
def answers_view(request: HttpRequest, slug: str, attempt_id: int) -> JsonResponse:
    """Autosave: {"answers": {question id: response}} for an open attempt.

    -> 200 {"saved": n, "saved_ids": [...]}; when some answers cannot be stored, 422 with the
    same and "errors": {question id: sentence}; every other answer of the request is saved.
    """
    if not request.user.is_authenticated:
        return _json_error("Sign in to answer.", 403)
    try:
        course = course_get_published(slug=slug)
        attempt = access_attempt(user=request.user, course=course, attempt_id=attempt_id)
    except Http404:
        return _json_error("No such attempt.", 404)
    if len(request.body) > MAX_ANSWER_BODY_BYTES:
        return _json_error(f"The body is larger than {MAX_ANSWER_BODY_BYTES // 1024} KB.", 413)
    data = json_body(request, max_bytes=MAX_ANSWER_BODY_BYTES)
    answers = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(answers, dict):
        return _json_error('The body must be {"answers": {question id: answer}}.', 400)
    try:
        result = answers_save(user=request.user, attempt=attempt, answers=answers)
    except AssessmentError as exc:
        status = 409 if attempt.status != AttemptStatus.IN_PROGRESS or "Time is up" in str(exc) else 400
        return _json_error(str(exc), status)
    body = {"saved": len(result.saved), "saved_ids": result.saved, "at": timezone.now().isoformat()}
    if result.errors:
        # 422: the body was read and the other answers are saved; these were not (ADR 0085).
        first = next(iter(result.errors.values()))
        return JsonResponse(body | {"errors": result.errors, "error": first}, status=422)
    return JsonResponse(body)


def _hand_in_summary(attempt: Attempt, items: list, used: int) -> dict:
    """What the learner is told before handing in: what is unanswered, what cannot be read, what is left."""
    unanswered = [i.number for i in items if not answered(i.question, i.response)]
    return {
        "answered": len(items) - len(unanswered),
        "unanswered": unanswered,
        "unreadable": [i.number for i in items if i.error],
        "left_after": attempts_left(attempt.assessment, used),
    }


@require_POST
@login_required
def submit(request: HttpRequest, slug: str, attempt_id: int) -> HttpResponse:
    """Hand in: the form's answers are saved first (each on its own), then a summary asks to
    confirm (unanswered questions, attempts left); `confirm=1` hands in."""
    course = course_get_published(slug=slug)
    here = reverse("assessments:attempt", kwargs={"slug": course.slug, "attempt_id": attempt_id})
    if request.POST.get("form") == "attempt" and request.POST.get("confirm") == "1":
        # The form's answers with the hand-in confirmed: one transaction, one row lock, and the
        # door finds the attempt with the statement that locks it (Http404 for anyone else's).
        try:
            handed = attempt_hand_in(
                user=request.user, course=course, attempt_id=attempt_id, fields=request.POST
            )
        except AssessmentError as exc:
            messages.error(request, f"{exc} Nothing was handed in; correct it and submit again.")
            return redirect(here)
        if handed.refused is not None:
            messages.error(
                request,
                f"{' '.join(handed.refused.errors.values())} Nothing was handed in; correct it and hand in "
                "again. Your other answers are saved.",
            )
            return redirect(here)
        return _handed_in(request, handed.attempt, handed.submitted_now, here)
    attempt = access_attempt(user=request.user, course=course, attempt_id=attempt_id)
    if attempt.status == AttemptStatus.IN_PROGRESS and request.POST.get("form") == "attempt":
        try:
            answers = _answers_from_form(request, attempt)
            saved = answers_save(user=request.user, attempt=attempt, answers=answers)
        except AssessmentError:
            saved = None  # handed in meanwhile or out of time: attempt_submit decides below
        if saved is not None and saved.errors:
            messages.error(
                request,
                f"{' '.join(saved.errors.values())} Nothing was handed in; correct it and hand in again. "
                "Your other answers are saved.",
            )
            return redirect(here)
    out_of_time = attempt.deadline is not None and timezone.now() > attempt.deadline
    if attempt.status == AttemptStatus.IN_PROGRESS and request.POST.get("confirm") != "1" and not out_of_time:
        attempts = attempts_of(user=request.user, assessment=attempt.assessment)
        items = _with_errors(attempt_items(attempt))
        return render(
            request,
            "assessments/hand_in.html",
            {
                "course": course,
                "assessment": attempt.assessment,
                "lesson": attempt.assessment.lesson,
                "attempt": attempt,
                "total": len(items),
                "seconds_left": max(0, int((attempt.deadline - timezone.now()).total_seconds()))
                if attempt.deadline
                else None,
            }
            | _hand_in_summary(attempt, items, len(attempts)),
        )
    try:
        attempt, submitted_now = attempt_submit(user=request.user, attempt=attempt)
    except AssessmentError as exc:
        messages.error(request, f"{exc} Nothing was handed in; correct it and submit again.")
        return redirect(here)
    return _handed_in(request, attempt, submitted_now, here)


def _handed_in(request: HttpRequest, attempt: Attempt, submitted_now: bool, here: str) -> HttpResponse:
    """The message after a hand-in, and back to the attempt's page."""
    if not submitted_now:
        messages.info(request, "This attempt was already handed in; its result is below.")
    elif attempt.status == AttemptStatus.GRADED:
        # Grading left the points on the attempt: no need to load the answers again for them.
        points = getattr(attempt, "question_points", None)
        score = (
            score_sentence(attempt, points=points)
            if points
            else score_sentence(attempt, attempt_items(attempt))
        )
        if attempt.passed:
            messages.success(request, f"Handed in. You passed with {score}.")
        else:
            used = len(attempts_of(user=request.user, assessment=attempt.assessment))
            left = attempts_left(attempt.assessment, used)
            tries = (
                "You have no attempts left."
                if left == 0
                else "You can try again."
                if left is None
                else f"You have {left} attempt{pluralize(left)} left."
            )
            messages.warning(
                request,
                f"Handed in. You did not pass this time: {score}; the pass mark is "
                f"{number_text(attempt.assessment.passing_score)}. {tries}",
            )
    else:
        messages.success(
            request, "Handed in. Some answers are graded by your instructor; you will get an e-mail."
        )
    return redirect(here)


@login_required
def attempt_file(request: HttpRequest, slug: str, attempt_id: int) -> HttpResponse:
    """An assignment's file, for its author or the course's graders: a redirect to a URL
    signed for 5 minutes (media_delivery's signer). Anyone else: 404."""
    course = course_get_published(slug=slug)
    attempt = (
        Attempt.objects.select_related("asset")
        .filter(pk=attempt_id, assessment__lesson__module__course=course)
        .first()
    )
    if attempt is None or not (attempt.asset_id or attempt.file):
        raise Http404("No such file.")
    if attempt.user_id != request.user.pk and not grading_decision(request.user, course):
        raise Http404("No such file.")
    if attempt.asset_id:
        url = signed_object_url(attempt.asset.key, filename=attempt.asset.filename)
    else:  # handed in through the form before direct uploads
        url = default_storage.url(attempt.file.name)
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "private, no-store"
    return response


# --- Assignment files: straight to S3 (ADR 0041) --------------------------------------------


def _upload_refusal(message: str, status: int) -> JsonResponse:
    response = _json_error(message, status)
    response["Cache-Control"] = "private, no-store"
    return response


def _assignment_for_upload(request: HttpRequest, slug: str, lesson_id: int):
    """(course, assessment) when the learner may take this assignment now; Http404 otherwise."""
    try:
        quiz = access_quiz(user=request.user, course_slug=slug, lesson_id=lesson_id, need_assessment=True)
    except Forbidden:
        # An upload ticket is no page to show a reason on: the overview page shows it.
        raise Http404("No such assignment.") from None
    course, assessment = quiz.course, quiz.assessment
    if not assessment.is_assignment:
        raise Http404("No such assignment.")
    return course, assessment


@require_POST
def upload_start_view(request: HttpRequest, slug: str, lesson_id: int) -> JsonResponse:
    """{"filename", "content_type", "size"} -> a presigned POST for this assignment's next file."""
    if not request.user.is_authenticated:
        return _upload_refusal("Sign in to upload.", 403)
    try:
        course, assessment = _assignment_for_upload(request, slug, lesson_id)
    except Http404:
        return _upload_refusal("No such assignment.", 404)
    if len(request.body) > MAX_UPLOAD_BODY_BYTES:
        return _upload_refusal("The body must be a small JSON object.", 400)
    data = json_body(request, max_bytes=MAX_UPLOAD_BODY_BYTES, empty={})
    if not isinstance(data, dict):
        return _upload_refusal("The body must be a small JSON object.", 400)
    size = data.get("size")
    try:
        ticket = assignment_upload_start(
            user=request.user,
            course=course,
            assessment=assessment,
            filename=str(data.get("filename", ""))[:255],
            content_type=str(data.get("content_type", "")),
            size=size if isinstance(size, int) and not isinstance(size, bool) else -1,
        )
    except AssessmentError as exc:
        return _upload_refusal(str(exc), 400)
    response = JsonResponse(ticket.as_json() | {"max_bytes": assessment.max_file_bytes}, status=201)
    response["Cache-Control"] = "private, no-store"
    return response


def _upload_step(request: HttpRequest, slug: str, lesson_id: int, asset_id, step) -> JsonResponse:
    if not request.user.is_authenticated:
        return _upload_refusal("Sign in to upload.", 403)
    try:
        _, assessment = _assignment_for_upload(request, slug, lesson_id)
        asset = assignment_upload_get(user=request.user, assessment=assessment, asset_id=asset_id)
    except Http404:
        return _upload_refusal("No such upload.", 404)
    asset = step(user=request.user, asset=asset)
    response = JsonResponse(
        {
            "asset": str(asset.pk),
            "status": asset.status,
            "reason": asset.reason,
            "size": asset.size,
            "filename": asset.filename,
        },
        status=422 if asset.status == "rejected" and step is assignment_upload_finish else 200,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def upload_finish_view(request: HttpRequest, slug: str, lesson_id: int, asset_id) -> JsonResponse:
    """Verify the file that arrived in storage: 200 ready, or 422 with the reason it was rejected."""
    return _upload_step(request, slug, lesson_id, asset_id, assignment_upload_finish)


@require_POST
def upload_abort_view(request: HttpRequest, slug: str, lesson_id: int, asset_id) -> JsonResponse:
    return _upload_step(request, slug, lesson_id, asset_id, assignment_upload_abort)


# --- Staff: grading queue and gradebook -----------------------------------------------------


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    if not may_use_admin(request.user) and not courses_for_grading(request.user).alive().exists():
        raise Http404("No such page.")
    courses = (
        courses_for_grading(request.user).alive().filter(published_revision__isnull=False).order_by("title")
    )
    return render(
        request, "assessments/queue.html", {"attempts": grading_queue(user=request.user), "courses": courses}
    )


@login_required
def grade(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = access_attempt(user=request.user, attempt_id=attempt_id, for_grading=True)
    assessment = attempt.assessment
    items = attempt_items(attempt)
    essays = [item for item in items if item.question.kind == QuestionKind.ESSAY]
    criteria = list(assessment.rubric.all())
    error = ""
    if request.method == "POST":
        try:
            attempt_grade(
                actor=request.user,
                attempt=attempt,
                question_points={
                    str(i.question.pk): request.POST.get(f"q{i.question.pk}", "") for i in essays
                },
                rubric={str(c.pk): request.POST.get(f"c{c.pk}", "") for c in criteria}
                | ({"score": request.POST.get("score", "")} if not criteria else {}),
                comment=request.POST.get("comment", ""),
            )
        except AssessmentError as exc:
            error = str(exc)
        else:
            messages.success(request, f"Graded. {attempt.user} will get an e-mail.")
            return redirect("assessments:queue")
    course = assessment.lesson.module.course
    return render(
        request,
        "assessments/grade.html",
        {
            "attempt": attempt,
            "assessment": assessment,
            "course": course,
            "items": items,
            "essays": essays,
            "criteria": criteria,
            "error": error,
            "posted": request.POST,
            "file_url": reverse(
                "assessments:attempt_file", kwargs={"slug": course.slug, "attempt_id": attempt.pk}
            )
            if attempt.asset_id or attempt.file
            else "",
        },
        status=400 if error else 200,
    )


@login_required
def gradebook_view(request: HttpRequest, slug: str) -> HttpResponse:
    course = course_get_published(slug=slug)
    if not grading_decision(request.user, course):
        raise Http404("No such gradebook.")
    book = gradebook(course=course)
    if request.GET.get("format") == "csv":
        return csv_response(
            filename=f"gradebook-{course.slug}.csv",
            header=["Learner", "E-mail", *(f"{a.lesson.title} (of {a.max_score})" for a in book.assessments)],
            rows=(
                [user.full_name, user.email, *(_cell_text(cell) for cell in cells)]
                for user, cells in book.rows
            ),
        )
    return render(request, "assessments/gradebook.html", {"course": course, "book": book})


def _cell_text(attempt):
    if attempt is None:
        return ""
    if attempt.status == AttemptStatus.SUBMITTED:
        return "waiting for grading"
    return attempt.score  # a number: written as it is


# --- Certificates ---------------------------------------------------------------------------


@login_required
def certificate_download(request: HttpRequest, code: str) -> HttpResponse:
    certificate = access_certificate(user=request.user, code=code)
    disposition = f'attachment; filename="certificate-{certificate.code}.pdf"'
    return HttpResponseRedirect(
        default_storage.url(certificate.file.name, parameters={"ResponseContentDisposition": disposition})
    )


@login_required
def my_certificates(request: HttpRequest) -> HttpResponse:
    certificates = Certificate.objects.filter(user=request.user).order_by("-issued_at")
    return render(request, "assessments/my_certificates.html", {"certificates": certificates})


def verify(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """Public: whether a code is valid; only name, course, date (and revocation date)."""
    asked = code if code is not None else request.GET.get("code", "")
    certificate = certificate_verify(asked) if asked else None
    return render(
        request,
        "assessments/verify.html",
        {"asked": asked[:40], "certificate": certificate},
        status=404 if asked and certificate is None else 200,
    )
