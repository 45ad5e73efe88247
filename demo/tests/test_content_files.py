import shutil
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from courses.models import EnrollmentPolicy, LessonKind, Level
from demo.assessments import QUIZZES, quiz_load
from demo.content_spec import CATALOGS, CONTENT_DIR, TENANTS, ContentError, catalog_load


def test_catalogs_load_from_the_content_files():
    """The TOML and Markdown files give the catalogs seed_demo has always made."""
    acme, globex = CATALOGS["acme"], CATALOGS["globex"]
    assert [c.slug for c in acme.courses] == [
        "workplace-safety-essentials",
        "spreadsheet-skills",
        "giving-feedback",
    ]
    assert [c.slug for c in globex.courses] == [
        "onboarding-for-engineers",
        "customer-support-essentials",
        "data-privacy-basics",
    ]
    safety = acme.courses[0]
    assert safety.level == Level.BEGINNER and safety.policy == EnrollmentPolicy.OPEN
    assert safety.description.startswith("Everyone at Acme, on the floor or in the office")
    assert [m.opens_after_days for m in safety.modules] == [None, None, 7]
    welcome = safety.lessons[0]
    assert (welcome.title, welcome.minutes, welcome.preview) == ("Welcome: how this course works", 5, True)
    assert welcome.body.startswith("Most workplace injuries are not dramatic accidents.")
    assert welcome.body.endswith("\n") and not welcome.body.endswith("\n\n")
    assert "## What you will do in this course\n\nThe course has three modules." in welcome.body
    video = next(x for x in safety.lessons if x.kind == LessonKind.VIDEO)
    assert video.title == acme.journey.video == "Watch: a hazard walk, step by step"
    checklist = next(x for x in safety.lessons if x.kind == LessonKind.DOCUMENT).document
    assert checklist.name == "acme-hazard-checklist"
    assert checklist.subtitle.startswith("Acme Academy \u00b7 Workplace Safety Essentials")
    assert "\n## Floors and walkways\n- Walkways are clear" in checklist.body
    assert safety.lessons[-1].requires == ("Reporting incidents and near misses",)
    assert globex.courses[0].policy == EnrollmentPolicy.APPROVAL
    assert globex.journey.course == "customer-support-essentials" and globex.journey.video_position == 4
    assert [c.slug for c in globex.categories if c.parent == "compliance"] == ["privacy"]


def test_quizzes_load_from_the_content_files():
    acme, globex = QUIZZES["acme"], QUIZZES["globex"]
    assert (acme.course, acme.certificates, len(acme.questions)) == ("spreadsheet-skills", True, 5)
    assert (globex.course, globex.certificates, len(globex.questions)) == ("data-privacy-basics", False, 4)
    assert [(c.text, c.correct) for c in acme.questions[0].choices] == [
        ("SUM", True),
        ("COUNT", False),
        ("AVERAGE", False),
    ]
    assert acme.questions[1].question_fields() == {"partial_credit": True}
    assert acme.questions[3].question_fields() == {"accepted_answers": "VLOOKUP\nXLOOKUP"}
    assert acme.questions[4].question_fields() == {
        "numeric_answer": Decimal("2.7"),
        "tolerance": Decimal("0"),
    }
    assert globex.questions[1].question_fields() == {"correct_true": False}


def _file_references(table) -> list[str]:
    if isinstance(table, list):
        return [name for item in table for name in _file_references(item)]
    if not isinstance(table, dict):
        return []
    return [
        name
        for key, value in table.items()
        for name in ([value] if key.endswith("_file") else _file_references(value))
    ]


@pytest.mark.parametrize("tenant", TENANTS)
def test_every_referenced_file_exists_and_every_file_is_referenced(tenant):
    folder = CONTENT_DIR / tenant
    referenced = _file_references(tomllib.loads((folder / "catalog.toml").read_text()))
    assert len(referenced) > 20
    assert all((folder / name).is_file() for name in referenced)
    on_disk = {
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and path.name not in ("catalog.toml", "quiz.toml")
    }
    assert on_disk == set(referenced), "a content file nobody reads is a lesson nobody sees"
    # Lesson files are numbered in course order: <nn>-<lesson-slug>.md.
    for course in CATALOGS[tenant].courses:
        lesson_files = sorted(p.name for p in (folder / course.slug).glob("[0-9][0-9]-*.md"))
        assert len(lesson_files) == len(course.lessons)
        assert [int(name[:2]) for name in lesson_files] == list(range(1, len(course.lessons) + 1))


@pytest.fixture
def acme_copy(tmp_path) -> Path:
    folder = tmp_path / "acme"
    shutil.copytree(CONTENT_DIR / "acme", folder)
    return folder


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _error(folder: Path, load=catalog_load) -> str:
    with pytest.raises(ContentError) as caught:
        load(folder)
    return str(caught.value)


def test_a_copy_of_the_content_loads_like_the_original(acme_copy):
    assert catalog_load(acme_copy) == CATALOGS["acme"]
    assert quiz_load(acme_copy) == QUIZZES["acme"]


def test_a_bad_lesson_kind_names_the_file_and_field(acme_copy):
    catalog = acme_copy / "catalog.toml"
    _edit(catalog, 'kind = "video"', 'kind = "vidoe"')
    message = _error(acme_copy)
    assert message.startswith(f"{catalog}: courses[0].modules[1].lessons[0].kind: 'vidoe' is not one of")
    assert "video" in message and "text" in message


def test_a_lesson_kind_the_seed_cannot_make_is_refused(acme_copy):
    _edit(acme_copy / "catalog.toml", 'kind = "video"', 'kind = "embed"')
    assert "courses[0].modules[1].lessons[0]: kind 'embed': seed_demo makes text, video, document" in (
        _error(acme_copy)
    )


def test_an_unknown_key_names_the_file_and_field(acme_copy):
    _edit(acme_copy / "catalog.toml", "minutes = 5\n", "minutes = 5\nminuets = 5\n")
    message = _error(acme_copy)
    assert "catalog.toml: courses[0].modules[0].lessons[0].minuets: unknown key" in message
    assert "body_file" in message  # the keys it does take


def test_a_missing_lesson_file_names_the_file_and_field(acme_copy):
    (acme_copy / "workplace-safety-essentials" / "02-hazards-risks-and-controls.md").unlink()
    message = _error(acme_copy)
    assert "catalog.toml: courses[0].modules[0].lessons[1].body_file: no file " in message
    assert message.endswith("workplace-safety-essentials/02-hazards-risks-and-controls.md")


def test_a_file_outside_the_content_folder_is_refused(acme_copy):
    _edit(acme_copy / "catalog.toml", '"workplace-safety-essentials/description.md"', '"../../etc/passwd"')
    assert "courses[0].description_file: '../../etc/passwd' is not a file name inside" in _error(acme_copy)


def test_a_missing_field_a_wrong_type_and_bad_toml_are_named(acme_copy):
    catalog = acme_copy / "catalog.toml"
    text = catalog.read_text()
    catalog.write_text(text.replace("minutes = 10\n", "", 1))
    assert "courses[0].modules[0].lessons[1].minutes: missing" in _error(acme_copy)
    catalog.write_text(text.replace("minutes = 10\n", 'minutes = "10"\n', 1))
    assert "courses[0].modules[0].lessons[1].minutes: expected int, got '10'" in _error(acme_copy)
    catalog.write_text(text.replace("[[courses]]", "[[courses]", 1))
    assert _error(acme_copy).startswith(f"{catalog}: not valid TOML: ")


def test_cross_references_are_checked(acme_copy):
    catalog = acme_copy / "catalog.toml"
    _edit(catalog, 'requires = ["Reporting incidents and near misses"]', 'requires = ["Reporting"]')
    assert "lesson 'Fire and evacuation' requires ['Reporting'], not lessons of this course" in (
        _error(acme_copy)
    )
    _edit(catalog, 'requires = ["Reporting"]', 'requires = ["Reporting incidents and near misses"]')
    _edit(catalog, 'category = "health-and-safety"', 'category = "safety"')
    assert "workplace-safety-essentials names category 'safety', which is not in [[categories]]" in (
        _error(acme_copy)
    )


def test_a_quiz_answer_written_as_a_float_is_refused(acme_copy):
    quiz = acme_copy / "quiz.toml"
    _edit(quiz, 'numeric_answer = "2.7"', "numeric_answer = 2.7")
    assert _error(acme_copy, load=quiz_load) == (
        f"{quiz}: questions[4].numeric_answer: expected a decimal written as a string, got 2.7"
    )


def test_seed_demo_stops_with_a_sentence_before_writing_when_a_file_is_wrong(monkeypatch):
    from django.core.management import CommandError, call_command

    from demo.content_files import LazyContent
    from demo.management.commands import seed_demo

    def broken(slug):
        raise ContentError(f"demo/content/{slug}/catalog.toml: courses[0].title: missing")

    monkeypatch.setattr(seed_demo, "CATALOGS", LazyContent(["acme"], broken))
    with pytest.raises(CommandError, match=r"The demo content has a mistake: .*courses\[0\]\.title: missing"):
        call_command("seed_demo")
