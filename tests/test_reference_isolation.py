"""Inside one tenant, an instructor links nothing of a course they do not teach (issue #11, finding 2).

The instructor of acme teaches course A (and A2) and is not on course B's staff. For every
model admin of the tenant site (read from the registry, so a new one is walked by default)
and every add and change form the instructor can open, each reference field (main form and
inline rows) is posted once with course A's object, which must save, and once with course B's,
which must be refused (a form error or 4xx) with the database unchanged. Pages opened with
course B's ids in the address never list B's objects, and after all the attempts none of the
instructor's pages shows B's questions or correct answers.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.db import transaction
from django.forms.models import InlineForeignKeyField
from django.utils import timezone

from accounts.admin_site import tenant_admin_site
from accounts.models import AuditEntry, Invitation
from api.models import ApiKey
from assessments.models import (
    Assessment,
    Certificate,
    CertificateSettings,
    Choice,
    PoolDraw,
    Question,
    QuestionPool,
    RubricCriterion,
)
from assessments.tests.factories import add_question, make_assessed_course
from courses.models import Category, Course, CourseRevision, CourseStaff, Lesson, LessonKind, Module
from courses.services import course_publish
from enrollments.models import Enrollment
from enrollments.services import enrollment_create
from media_delivery.models import MediaAsset
from tests.fixtures import client_for
from webhooks.models import WebhookDelivery, WebhookEndpoint

User = get_user_model()

SECRET = "BRAVO-SECRET"  # in every title, prompt and answer of course B
ANSWER = "BRAVO-ANSWER"  # course B's correct answers

# Models with no course: what they reference is the organization's (people, categories).
TENANT_WIDE = {User, Invitation, AuditEntry, Category, ApiKey, WebhookEndpoint, WebhookDelivery}
# Registered models whose rows belong to a course; the walk opens course A's row of each.
COURSE_MODELS = {
    Course,
    Module,
    Lesson,
    CourseRevision,
    Enrollment,
    Assessment,
    Question,
    QuestionPool,
    CertificateSettings,
    Certificate,
    MediaAsset,
}

# On add pages: what a valid form needs besides its references.
FILL: dict[type, dict[str, object]] = {
    Course: {"title": "Alpha new course", "slug": "alpha-new-course"},
    Module: {"title": "Alpha new module"},
    Lesson: {"title": "Alpha new lesson", "kind": LessonKind.TEXT, "body": "Read this."},
    QuestionPool: {"title": "Alpha new bank"},
    Question: {"prompt": "Alpha new question?", "kind": "essay"},
}
# Exactly one of these is set (a question is in an assessment or in a bank).
EXCLUSIVE = {(Question, "assessment"): ["pool"], (Question, "pool"): ["assessment"]}


class FormFields(HTMLParser):
    """What a browser would submit from the form `form_id`: {name: [values]} (files left out)."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside = form_id, False
        self.data: dict[str, list[str]] = {}
        self._select = self._textarea = None
        self._options: list = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data.setdefault(name, []).append(attrs.get("value") or "on")
                return
            self.data.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "select" and name:
            self._select, self._multiple, self._options = name, "multiple" in attrs, []
        elif tag == "option" and self._select:
            self._options.append((attrs.get("value", ""), "selected" in attrs))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
            for name in self.data:
                if self.data[name] and self.data[name][0].startswith("\n"):
                    self.data[name][0] = self.data[name][0][1:]  # the newline after <textarea>
        elif tag == "select" and self._select:
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not self._multiple and self._options:
                chosen = [self._options[0][0]]
            self.data[self._select] = chosen
            self._select = None


@pytest.fixture
def world(in_tenant):
    """Courses A and A2 taught by instructor@acme.test; course B, full of secrets, taught by someone else."""
    instructor = User.objects.get(email="instructor@acme.test")
    admin = User.objects.get(email="admin@acme.test")
    learner = User.objects.get(email="learner@acme.test")
    other = User.objects.create_user(
        email="bravo-teacher@acme.test", password="x-pass-2026", role="instructor"
    )

    def build(slug: str, title: str, owner) -> dict:
        course, quiz_lesson, assessment = make_assessed_course(slug=slug, publish=False)
        course.title = title
        course.save()
        CourseStaff.objects.create(course=course, user=owner, role="owner")
        module = course.modules.get()
        module.title = f"{title} module"
        module.save()
        text = module.lessons.get(kind=LessonKind.TEXT)
        text.title = f"{title} reading"
        text.save()
        quiz_lesson.title = f"{title} quiz"
        quiz_lesson.save()
        module2 = Module.objects.create(course=course, title=f"{title} second module", position=1)
        text2 = Lesson.objects.create(module=module2, title=f"{title} reading 2", kind="text", body="x")
        spare = Lesson.objects.create(
            module=module2, title=f"{title} spare quiz", kind=LessonKind.QUIZ, body="x", position=1
        )
        pool = QuestionPool.objects.create(course=course, title=f"{title} bank")
        pool2 = QuestionPool.objects.create(course=course, title=f"{title} second bank")
        banked = add_question(
            pool=pool, prompt=f"{title} banked question?", choices=[(f"{title} answer", True), ("no", False)]
        )
        own = add_question(
            assessment, prompt=f"{title} own question?", choices=[(f"{title} own answer", True), ("x", False)]
        )
        draw = PoolDraw.objects.create(assessment=assessment, pool=pool, count=1)
        rubric = RubricCriterion.objects.create(assessment=assessment, title=f"{title} criterion")
        course_publish(actor=admin, course=course)
        return {
            "course": course,
            "module": module,
            "module2": module2,
            "text": text,
            "text2": text2,
            "quiz": quiz_lesson,
            "spare": spare,
            "assessment": assessment,
            "pool": pool,
            "pool2": pool2,
            "banked": banked,
            "question": own,
            "choice": own.choices.first(),
            "draw": draw,
            "rubric": rubric,
            "staff": course.staff.get(),
        }

    a = build("alpha", "Alpha", instructor)
    b = build("bravo", SECRET, other)
    a2 = Course.objects.create(title="Alpha two", slug="alpha-two")
    CourseStaff.objects.create(course=a2, user=instructor, role="owner")
    # Course B's correct answers carry the ANSWER marker too.
    Choice.objects.filter(question__in=[b["banked"], b["question"]], is_correct=True).update(text=ANSWER)
    a["settings"] = CertificateSettings.objects.create(course=a["course"], signature_name="Alpha signer")
    b["revision"] = b["course"].revisions.get()
    a["revision"] = a["course"].revisions.get()
    for side, course in (("a", a), ("b", b)):
        course["enrollment"] = enrollment_create(user=learner, course=course["course"])
        course["certificate"] = Certificate.objects.create(
            user=learner,
            course=course["course"],
            code=f"{side}-certificate",
            learner_name="Learner",
            course_title=course["course"].title,
            issued_at=timezone.now(),
        )
        course["asset"] = MediaAsset.objects.create(
            kind="video", key=f"t/x/media/{side}/source.mp4", status="ready", lesson=course["text"]
        )
    return {"a": a, "b": b, "a2": a2, "instructor": instructor}


def _b_object(world, model, field_name, related):
    """Course B's object for a reference field: one that would be accepted if the check were missing."""
    b = world["b"]
    special = {(Assessment, "lesson"): b["spare"], (Lesson, "prerequisites"): b["text"]}
    if (model, field_name) in special:
        return special[(model, field_name)]
    by_model = {
        Course: b["course"],
        Module: b["module"],
        Lesson: b["text"],
        Assessment: b["assessment"],
        QuestionPool: b["pool2"],
        PoolDraw: b["draw"],
        Question: b["question"],
        Choice: b["choice"],
        RubricCriterion: b["rubric"],
        CourseStaff: b["staff"],
        CertificateSettings: None,
        Enrollment: b["enrollment"],
    }
    assert related in by_model, (
        f"{model.__name__}.{field_name} references {related.__name__}: say which object of course B "
        "it must refuse (or list the model in TENANT_WIDE)"
    )
    return by_model[related]


def _a_object(world, model, field_name, related, page: str):
    """Course A's object for a reference field, one the form must accept."""
    a = world["a"]
    special = {
        (Assessment, "lesson"): a["spare"],
        (CertificateSettings, "course"): world["a2"],
        (PoolDraw, "pool"): a["pool2"],
        (Lesson, "module"): a["module2"],
        (Lesson, "prerequisites"): a["text"],
        (Module, "prerequisites"): a["text"],
    }
    if (model, field_name) in special:
        return special[(model, field_name)]
    by_model = {
        Course: a["course"],
        Module: a["module"],
        Lesson: a["text"],
        Assessment: a["assessment"],
        QuestionPool: a["pool"],
    }
    assert related in by_model, f"{model.__name__}.{field_name}: say which object of course A it accepts"
    return by_model[related]


def _a_row(world, model):
    """Course A's row of a registered course model (its change page is walked)."""
    a = world["a"]
    rows = {
        Course: a["course"],
        Module: a["module2"],
        Lesson: a["text2"],
        CourseRevision: a["revision"],
        Enrollment: a["enrollment"],
        Assessment: a["assessment"],
        Question: a["question"],
        QuestionPool: a["pool"],
        CertificateSettings: a["settings"],
        Certificate: a["certificate"],
        MediaAsset: a["asset"],
    }
    return rows[model]


def _b_row(world, model):
    b = world["b"]
    rows = {
        Course: b["course"],
        Module: b["module2"],
        Lesson: b["text2"],
        CourseRevision: b["revision"],
        Enrollment: b["enrollment"],
        Assessment: b["assessment"],
        Question: b["question"],
        QuestionPool: b["pool"],
        Certificate: b["certificate"],
        MediaAsset: b["asset"],
    }
    return rows.get(model)


def fingerprint() -> dict:
    """Every course-owned row and link, without timestamps the admin touches on any save."""
    models = [
        Course,
        CourseStaff,
        Module,
        Lesson,
        Lesson.prerequisites.through,
        Module.prerequisites.through,
        Assessment,
        PoolDraw,
        Question,
        Choice,
        QuestionPool,
        RubricCriterion,
        CertificateSettings,
        Certificate,
        Enrollment,
        MediaAsset,
    ]
    state = {}
    for model in models:
        names = [
            f.attname for f in model._meta.concrete_fields if f.name not in ("updated_at", "last_activity_at")
        ]
        state[model._meta.label] = sorted(map(repr, model.objects.values_list(*names)))
    return state


def _url(model, page: str, obj=None) -> str:
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    return base + ("add/" if page == "add" else f"{obj.pk}/change/")


def _reference_model(field):
    if isinstance(field, InlineForeignKeyField):
        return type(field.parent_instance)
    if isinstance(field, forms.ModelChoiceField):
        return field.queryset.model
    return None


def _values(obj) -> list[str]:
    if obj is None:
        return []
    return [str(obj.pk)]


def _refused(response) -> bool:
    if 400 <= response.status_code < 500:
        return True
    return response.status_code == 200 and bool(response.context and len(response.context["errors"]))


def _variants(world, model, page: str, response, data: dict) -> list[dict]:
    """(name, control data, attack data, strict) for every reference field on the page."""
    out = []

    def add(owner, field_name, field, name, *, current, base=None):
        related = _reference_model(field)
        if related is None or related in TENANT_WIDE:
            return
        assert related in COURSE_MODELS | {CourseStaff, PoolDraw, Choice, RubricCriterion}, (
            f"{owner.__name__}.{field_name} references {related.__name__}: classify it in this test"
        )
        is_pk = field_name == owner._meta.pk.name or isinstance(field, InlineForeignKeyField)
        base = dict(base or data)
        prefix = name[: -len(field_name)]
        for other in EXCLUSIVE.get((owner, field_name), []):
            base[prefix + other] = []
        attack_obj = (
            _b_row(world, related)
            if isinstance(field, InlineForeignKeyField)
            else _b_object(world, owner, field_name, related)
        )
        if attack_obj is None:
            return
        control = dict(base)
        if not current or not any(current):
            control[name] = _values(_a_object(world, owner, field_name, related, page))
        attack = dict(base)
        attack[name] = _values(attack_obj)
        out.append({"name": name, "control": control, "attack": attack, "strict": not is_pk})

    form = response.context["adminform"].form
    for field_name, field in form.fields.items():
        add(model, field_name, field, form.add_prefix(field_name), current=data.get(field_name))
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        inline_model = formset.model
        for row in formset.initial_forms:
            for field_name, field in row.fields.items():
                name = row.add_prefix(field_name)
                add(inline_model, field_name, field, name, current=data.get(name))
        # A new row for every reference an inline row can set (not its own id or parent).
        empty = formset.empty_form
        refs = [
            (n, f)
            for n, f in empty.fields.items()
            if _reference_model(f) not in (None, *TENANT_WIDE)
            and n != inline_model._meta.pk.name
            and not isinstance(f, InlineForeignKeyField)
        ]
        if not refs:
            continue
        total_key = f"{formset.prefix}-TOTAL_FORMS"
        n = int(data[total_key][0])
        marker = f"{formset.prefix}-__prefix__-"
        row = {
            k.replace(marker, f"{formset.prefix}-{n}-"): v for k, v in data.items() if k.startswith(marker)
        }
        base = {**data, **row, total_key: [str(n + 1)]}
        for field_name, field in refs:
            add(
                inline_model, field_name, field, f"{formset.prefix}-{n}-{field_name}", current=None, base=base
            )
    return out


def _form_data(world, response, model, page: str) -> dict:
    """The page's form as a browser would post it; on add pages filled in with course A's objects."""
    parser = FormFields(f"{model._meta.model_name}_form")
    parser.feed(response.content.decode())
    data = dict(parser.data)
    if page == "add":
        data.update({k: [str(v)] for k, v in FILL.get(model, {}).items()})
        for name, field in response.context["adminform"].form.fields.items():
            related = _reference_model(field)
            if field.required and related not in (None, *TENANT_WIDE) and not any(data.get(name, [])):
                data[name] = _values(_a_object(world, model, name, related, page))
    data["_save"] = ["Save"]
    return data


def _pages(world, model, model_admin, client):
    """The add and change pages of `model` the instructor can open with a form: (page, url)."""
    pages = [("add", _url(model, "add"))]
    if model in COURSE_MODELS:
        pages.append(("change", _url(model, "change", _a_row(world, model))))
    else:
        assert model in TENANT_WIDE, f"{model._meta.label}: a new admin; classify it in this test"
    for page, url in pages:
        response = client.get(url)
        assert response.status_code in (200, 403, 404), (url, response.status_code)
        assert SECRET not in response.content.decode(), f"{url} shows course B"
        form = response.context.get("adminform") if response.status_code == 200 else None
        if form is not None and form.form.fields:
            yield page, url, response


REGISTRY = sorted(tenant_admin_site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTRY, ids=[model._meta.label_lower for model, _ in REGISTRY]
)
def test_an_instructor_links_no_object_of_a_course_they_do_not_teach(world, in_tenant, model, model_admin):
    client = client_for(in_tenant, as_role="instructor")
    walked = 0
    for page, url, response in _pages(world, model, model_admin, client):
        data = _form_data(world, response, model, page)
        for variant in _variants(world, model, page, response, data):
            walked += 1
            before = fingerprint()
            attack = client.post(url, variant["attack"])
            where = f"{url} {variant['name']}"
            assert attack.status_code < 500, where
            if variant["strict"]:
                assert _refused(attack), f"{where}: course B's object was accepted ({attack.status_code})"
            assert fingerprint() == before, f"{where}: the database changed"
            assert SECRET not in attack.content.decode(), f"{where}: the answer shows course B"
            # The same post with course A's object saves: the refusal was about the reference.
            savepoint = transaction.savepoint()
            try:
                control = client.post(url, variant["control"])
                errors = control.context["errors"] if control.status_code == 200 and control.context else ""
                assert control.status_code == 302, f"{where}: course A's object refused: {errors}"
            finally:
                transaction.savepoint_rollback(savepoint)
    b_row = _b_row(world, model)
    if b_row is not None:
        before = fingerprint()
        assert client.get(_url(model, "change", b_row)).status_code in (403, 404)
        assert client.post(_url(model, "change", b_row), {"_save": "Save"}).status_code in (403, 404)
        assert fingerprint() == before
    if model in (Assessment, Question, QuestionPool, Module, Lesson):
        assert walked, f"{model._meta.label}: no reference field was walked"


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTRY, ids=[model._meta.label_lower for model, _ in REGISTRY]
)
def test_an_add_page_named_with_another_courses_ids_lists_none_of_its_objects(
    world, in_tenant, model, model_admin
):
    """?module=<B's module> on the lesson add page (and the like) never lists B's lessons, banks, ..."""
    client = client_for(in_tenant, as_role="instructor")
    url = _url(model, "add")
    response = client.get(url)
    if response.status_code != 200:
        assert response.status_code in (403, 404)
        return
    fields = response.context["adminform"].form.fields
    for name, field in fields.items():
        related = _reference_model(field)
        if related is None or related in TENANT_WIDE:
            continue
        target = _b_object(world, model, name, related)
        if target is None:
            continue
        named = client.get(f"{url}?{name}={target.pk}")
        assert named.status_code in (200, 403, 404), (url, name)
        assert SECRET not in named.content.decode(), f"{url}?{name}=<course B's> lists course B's objects"


def _instructor_pages(client, world) -> list[tuple[str, str]]:
    """Every page the instructor reads: admin lists and course A's change pages, quiz pages, grading."""
    a = world["a"]
    urls = [f"/admin/{m._meta.app_label}/{m._meta.model_name}/" for m in tenant_admin_site._registry]
    urls += [_url(model, "change", _a_row(world, model)) for model in COURSE_MODELS]
    urls += [
        _url(QuestionPool, "change", a["pool2"]),
        "/assessments/grading/",
        "/assessments/alpha/gradebook/",
    ]
    pages = []
    # Take every quiz of course A as its instructor may, to the end, with the answers shown.
    for lesson in (a["quiz"], a["spare"]):
        started = client.post(f"/assessments/alpha/lessons/{lesson.pk}/start/", follow=True)
        pages.append((f"quiz {lesson}", started.content.decode()))
        attempt = started.context.get("attempt") if started.context else None
        if attempt is not None:
            done = client.post(f"/assessments/alpha/attempts/{attempt.pk}/submit/", follow=True)
            pages.append((f"result {lesson}", done.content.decode()))
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 403, 404), url
        pages.append((url, response.content.decode()))
    return pages


def test_after_trying_to_link_them_the_instructor_reads_none_of_another_courses_questions(world, in_tenant):
    a, b = world["a"], world["b"]
    client = client_for(in_tenant, as_role="instructor")
    client.raise_request_exception = False  # what matters is what can be read afterwards
    # A new quiz of course A drawing from course B's bank (the add page has no course yet).
    add = client.get("/admin/assessments/assessment/add/")
    data = _form_data(world, add, Assessment, "add")
    data.update(
        {
            "lesson": [str(a["spare"].pk)],
            "draws-TOTAL_FORMS": ["1"],
            "draws-0-pool": [str(b["pool"].pk)],
            "draws-0-count": ["5"],
        }
    )
    client.post("/admin/assessments/assessment/add/", data)
    # An existing quiz of course A, given a new draw from course B's bank.
    url = _url(Assessment, "change", a["assessment"])
    data = _form_data(world, client.get(url), Assessment, "change")
    total = int(data["draws-TOTAL_FORMS"][0])
    data.update(
        {
            "draws-TOTAL_FORMS": [str(total + 1)],
            f"draws-{total}-pool": [str(b["pool"].pk)],
            f"draws-{total}-count": ["5"],
            f"draws-{total}-assessment": [str(a["assessment"].pk)],
        }
    )
    client.post(url, data)
    # A question of course A's quiz put into course B's bank.
    url = _url(Question, "change", a["question"])
    data = _form_data(world, client.get(url), Question, "change")
    data.update({"assessment": [], "pool": [str(b["pool"].pk)]})
    client.post(url, data)

    for where, content in _instructor_pages(client, world):
        assert SECRET not in content and ANSWER not in content, f"{where} shows course B's questions"
    assert not PoolDraw.objects.filter(pool__course=b["course"]).exclude(assessment=b["assessment"]).exists()
    assert set(b["pool"].questions.all()) == {b["banked"]}
    # The quizzes really were taken (the walk above read what they show).
    assert a["assessment"].attempts.filter(user=world["instructor"]).exists()


def test_the_services_refuse_another_courses_objects_for_create_and_change(world):
    """The writes themselves, without the admin's choices in front of them."""
    from assessments.services import (
        AssessmentError,
        assessment_save,
        certificate_settings_save,
        pool_draw_save,
        question_pool_save,
        question_save,
    )
    from courses.services import CourseError, lesson_save, lesson_set_prerequisites, module_save

    a, b, actor = world["a"], world["b"], world["instructor"]
    before = fingerprint()
    refusals = [
        (AssessmentError, lambda: assessment_save(actor=actor, assessment=Assessment(lesson=b["spare"]))),
        (
            AssessmentError,
            lambda: assessment_save(actor=actor, assessment=_with(a["assessment"], lesson=b["spare"])),
        ),
        (
            AssessmentError,
            lambda: pool_draw_save(actor=actor, draw=PoolDraw(assessment=a["assessment"], pool=b["pool2"])),
        ),
        (AssessmentError, lambda: pool_draw_save(actor=actor, draw=_with(a["draw"], pool=b["pool2"]))),
        (
            AssessmentError,
            lambda: pool_draw_save(
                actor=actor, draw=_with(a["draw"], assessment=b["assessment"], pool=b["pool2"])
            ),
        ),
        (AssessmentError, lambda: question_save(actor=actor, question=Question(pool=b["pool"], prompt="?"))),
        (
            AssessmentError,
            lambda: question_save(
                actor=actor, question=_with(a["question"], assessment=None, pool=b["pool"])
            ),
        ),
        (
            AssessmentError,
            lambda: question_pool_save(actor=actor, pool=QuestionPool(course=b["course"], title="x")),
        ),
        (AssessmentError, lambda: question_pool_save(actor=actor, pool=_with(a["pool"], course=b["course"]))),
        # Within the instructor's own courses: a bank that course A's quiz draws from stays in A.
        (AssessmentError, lambda: question_pool_save(actor=actor, pool=_with(a["pool"], course=world["a2"]))),
        (
            AssessmentError,
            lambda: certificate_settings_save(actor=actor, settings=CertificateSettings(course=b["course"])),
        ),
        (
            AssessmentError,
            lambda: certificate_settings_save(actor=actor, settings=_with(a["settings"], course=b["course"])),
        ),
        (CourseError, lambda: module_save(actor=actor, module=Module(course=b["course"], title="x"))),
        (CourseError, lambda: module_save(actor=actor, module=_with(a["module2"], course=b["course"]))),
        (CourseError, lambda: lesson_save(actor=actor, lesson=Lesson(module=b["module"], title="x"))),
        (
            CourseError,
            lambda: lesson_save(actor=actor, lesson=_with(a["text2"], module=b["module"]), moved=True),
        ),
        (
            CourseError,
            lambda: lesson_set_prerequisites(actor=actor, lesson=a["text2"], prerequisites=[b["text"]]),
        ),
    ]
    for error, attempt in refusals:
        with pytest.raises(error) as refused, transaction.atomic():
            attempt()
        assert SECRET not in str(refused.value)
        assert fingerprint() == before
    # The same writes inside course A go through.
    assert pool_draw_save(actor=actor, draw=PoolDraw(assessment=a["assessment"], pool=a["pool2"])).pk
    assert question_save(actor=actor, question=Question(pool=a["pool2"], prompt="Alpha?", kind="essay")).pk
    assert module_save(actor=actor, module=Module(course=a["course"], title="Alpha third")).position == 2
    assert lesson_save(actor=actor, lesson=Lesson(module=a["module2"], title="Alpha more")).position == 2


def _with(obj, **fields):
    """A fresh copy of the stored row with some fields changed (as a form would hand it over)."""
    obj = type(obj).objects.get(pk=obj.pk)
    for name, value in fields.items():
        setattr(obj, name, value)
    return obj


def _builder_routes():
    """The course builder's own endpoints (admin URLs taking a course id), from the URL resolver."""
    from django.urls import URLPattern, URLResolver

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                yield prefix + str(entry.pattern)

    return [
        route for route in walk(tenant_admin_site.urls[0]) if "<int:course_id>/" in route and "_id>" in route
    ]


def test_the_builder_endpoints_refuse_another_courses_modules_lessons_and_revisions(world, in_tenant):
    import re

    a, b = world["a"], world["b"]
    routes = _builder_routes()
    assert any("module_id" in r for r in routes) and any("lesson_id" in r for r in routes), routes
    client = client_for(in_tenant, as_role="instructor")
    own = {"course_id": a["course"].pk, "module_id": a["module"].pk, "lesson_id": a["text"].pk}
    foreign = {
        "course_id": b["course"].pk,
        "module_id": b["module"].pk,
        "lesson_id": b["text"].pk,
        "revision_id": b["revision"].pk,
    }
    before = fingerprint()
    for route in routes:
        params = re.findall(r"<int:(\w+)>", route)
        # Course B itself, and course A with every other id taken from course B.
        for values in (foreign, {**foreign, "course_id": own["course_id"]}):
            if values["course_id"] == own["course_id"] and params == ["course_id"]:
                continue  # course A's own endpoint: nothing of B's in the address
            url = "/admin/" + re.sub(r"<int:(\w+)>", lambda m, v=values: str(v[m.group(1)]), route)
            response = client.post(url, {"direction": "up", "summary": "x"})
            assert response.status_code in (403, 404), url
            assert SECRET not in response.content.decode(), url
    assert fingerprint() == before


def test_the_upload_api_and_page_refuse_another_courses_lesson(world, in_tenant):
    import json

    a, b = world["a"], world["b"]
    client = client_for(in_tenant, as_role="instructor")
    before = fingerprint()
    body = {"kind": "document", "filename": "notes.pdf", "content_type": "application/pdf", "size": 1000}
    refused = client.post(
        "/media/uploads/", data=json.dumps({**body, "lesson": b["text"].pk}), content_type="application/json"
    )
    assert refused.status_code == 404 and refused["Content-Type"].startswith("application/")
    assert SECRET not in refused.content.decode()
    assert fingerprint() == before
    assert client.get(f"/media/upload/?lesson={b['text'].pk}").status_code == 404
    allowed = client.post(
        "/media/uploads/", data=json.dumps({**body, "lesson": a["text"].pk}), content_type="application/json"
    )
    assert allowed.status_code == 201, allowed.content
    assert MediaAsset.objects.filter(lesson=a["text"], filename="notes.pdf").exists()


def test_a_staff_enrollment_is_refused_in_a_course_the_person_does_not_teach(world):
    """The admin's add form lists only the person's courses; its write checks the course itself."""
    from django.core.exceptions import PermissionDenied

    from enrollments.admin import EnrollmentAddForm

    newcomer = User.objects.create_user(email="newcomer@acme.test", password="x-pass-2026")
    form = EnrollmentAddForm(data={"user": newcomer.pk, "course": world["b"]["course"].pk})
    assert form.is_valid(), form.errors
    with pytest.raises(PermissionDenied):
        form.save_enrollment(actor=world["instructor"])
    assert not Enrollment.objects.filter(user=newcomer).exists()
    form = EnrollmentAddForm(data={"user": newcomer.pk, "course": world["a"]["course"].pk})
    assert form.is_valid(), form.errors
    assert form.save_enrollment(actor=world["instructor"]).course == world["a"]["course"]
