"""/media/<id>/: the policy decides, then a short-lived signature; the real S3 server refuses the rest."""

from __future__ import annotations

import calendar
import time
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import schema_context

from enrollments.models import EnrollmentStatus
from enrollments.services import enrollment_create
from media_delivery import storage
from media_delivery.models import AssetStatus, MediaAsset
from media_delivery.tests.helpers import PDF, http, put, video_course
from tenants.context import storage_prefix
from tests.fixtures import client_for

User = get_user_model()
VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2000


@pytest.fixture
def scratch(in_tenant):
    """A unique folder name for this test's objects; everything under it is deleted after."""
    folder = f"tests/{uuid.uuid4()}/"
    yield folder
    connection.set_tenant(in_tenant)
    storage.objects_delete_prefix(storage_prefix() + folder)


@pytest.fixture
def enrolled(in_tenant, scratch):
    course, lesson, asset = video_course(
        f"media-{uuid.uuid4().hex[:8]}", key_name=f"{scratch}lesson.mp4", data=VIDEO_BYTES
    )
    learner = User.objects.get(email="learner@acme.test")
    enrollment_create(user=learner, course=course)
    return course, lesson, asset


def test_an_anonymous_get_of_any_object_is_refused_by_the_s3_server(in_tenant, scratch):
    key = put(f"{scratch}secret.pdf", PDF, "application/pdf")
    status, _ = http("GET", f"{settings.S3_ENDPOINT_URL}/{settings.S3_BUCKET}/{key}")
    assert status == 403
    status, _ = http("GET", f"{settings.S3_ENDPOINT_URL}/{settings.S3_BUCKET}?list-type=2")
    assert status == 403


def test_an_enrolled_learner_is_redirected_to_a_private_five_minute_url(enrolled, in_tenant):
    _, _, asset = enrolled
    assert asset.status == AssetStatus.READY
    client = client_for(in_tenant, as_role="learner")
    before = time.time()
    response = client.get(f"/media/{asset.pk}/")
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    url = response["Location"]
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    expires_in = int(query["X-Amz-Expires"][0])
    assert settings.MEDIA_URL_TTL - 2 <= expires_in <= settings.MEDIA_URL_TTL + settings.MEDIA_URL_BUCKET
    # The URL ends at a bucket boundary, so a second request in the same bucket gets the same URL.
    date = calendar.timegm(time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ"))
    assert (date + expires_in) % settings.MEDIA_URL_BUCKET == 0
    assert date >= int(before) - 1
    again = client.get(f"/media/{asset.pk}/")["Location"]
    if (
        int(time.time() + settings.MEDIA_URL_TTL) // settings.MEDIA_URL_BUCKET
        == int(before + settings.MEDIA_URL_TTL) // settings.MEDIA_URL_BUCKET
    ):
        assert again == url
    status, body = http("GET", url)
    assert (status, body) == (200, VIDEO_BYTES)
    download = client.get(f"/media/{asset.pk}/?download=1")
    assert "attachment" in parse_qs(urlsplit(download["Location"]).query)["response-content-disposition"][0]


def test_a_tampered_url_is_refused_by_the_s3_server(enrolled, in_tenant, scratch):
    _, _, asset = enrolled
    other = put(f"{scratch}other.pdf", PDF, "application/pdf")
    url = client_for(in_tenant, as_role="learner").get(f"/media/{asset.pk}/")["Location"]
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    # Another key with the same signature, and a longer life with the same signature.
    moved = urlunsplit(parts._replace(path=f"/{settings.S3_BUCKET}/{other}"))
    assert http("GET", moved)[0] == 403
    query["X-Amz-Expires"] = ["604800"]
    longer = urlunsplit(parts._replace(query=urlencode({k: v[0] for k, v in query.items()})))
    assert http("GET", longer)[0] == 403
    query = parse_qs(parts.query)
    signature = query["X-Amz-Signature"][0]
    query["X-Amz-Signature"] = [("0" if signature[0] != "0" else "1") + signature[1:]]
    flipped = urlunsplit(parts._replace(query=urlencode({k: v[0] for k, v in query.items()})))
    assert http("GET", flipped)[0] == 403


def test_an_expired_url_is_refused_by_the_s3_server(enrolled, in_tenant, settings):
    _, _, asset = enrolled
    settings.MEDIA_URL_TTL, settings.MEDIA_URL_BUCKET = 1, 1  # a short test TTL
    url = client_for(in_tenant, as_role="learner").get(f"/media/{asset.pk}/")["Location"]
    query = parse_qs(urlsplit(url).query)
    expires_in = int(query["X-Amz-Expires"][0])
    assert expires_in <= 2
    assert http("GET", url)[0] == 200
    signed_at = calendar.timegm(time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ"))
    time.sleep(max(0.0, signed_at + expires_in - time.time()) + 1.05)  # just past the expiry second
    assert http("GET", url)[0] == 403


def test_staff_reach_a_draft_lessons_media_and_learners_do_not(in_tenant, scratch):
    from courses.models import Course

    course, _, asset = video_course(
        f"draft-{uuid.uuid4().hex[:8]}", key_name=f"{scratch}draft.mp4", data=VIDEO_BYTES
    )
    Course.objects.filter(pk=course.pk).update(status="draft", published_revision=None)
    from django.core.cache import cache

    cache.clear()  # the published-course lookup is cached; update() sends no signal
    assert client_for(in_tenant, as_role="admin").get(f"/media/{asset.pk}/").status_code == 302
    assert client_for(in_tenant, as_role="learner").get(f"/media/{asset.pk}/").status_code == 404


def test_a_learner_not_enrolled_gets_404_and_no_url(enrolled, in_tenant):
    _course, _, asset = enrolled
    other = User.objects.create_user(email="outsider@acme.test", password="outsider-pass-2026")
    client = client_for(in_tenant)
    client.force_login(other)
    response = client.get(f"/media/{asset.pk}/")
    assert response.status_code == 404 and "Location" not in response
    assert client_for(in_tenant).get(f"/media/{asset.pk}/").status_code == 404  # signed out


def test_a_blocked_learner_gets_404(enrolled, in_tenant):
    course, _, asset = enrolled
    from enrollments.models import Enrollment

    Enrollment.objects.filter(course=course).update(status=EnrollmentStatus.BLOCKED)
    from django.core.cache import cache

    cache.clear()
    assert client_for(in_tenant, as_role="learner").get(f"/media/{asset.pk}/").status_code == 404


def test_course_staff_reach_the_media_of_a_draft_lesson(enrolled, in_tenant):
    _, _, asset = enrolled
    assert client_for(in_tenant, as_role="admin").get(f"/media/{asset.pk}/").status_code == 302


def test_a_globex_learner_never_obtains_a_url_for_an_acme_asset(enrolled, in_tenant, other_tenant):
    _, _, asset = enrolled
    globex = client_for(other_tenant, as_role="learner")
    for path in (f"/media/{asset.pk}/", f"/media/{asset.pk}/poster/", f"/media/{asset.pk}/hls/master.m3u8"):
        response = globex.get(path)
        assert response.status_code == 404, path
        assert "Location" not in response
        assert asset.key not in response.content.decode(errors="replace")
    # Not through a globex admin either.
    assert client_for(other_tenant, as_role="admin").get(f"/media/{asset.pk}/").status_code == 404


def test_a_key_of_another_tenant_cannot_be_signed_here(in_tenant, other_tenant):
    with schema_context(other_tenant.schema_name):
        foreign = storage_prefix(other_tenant) + "media/x/source.mp4"
    connection.set_tenant(in_tenant)
    with pytest.raises(PermissionError):
        storage.presigned_get(foreign, expires_in=60)
    with pytest.raises(PermissionError):
        storage.presigned_get(storage_prefix() + "../" + foreign, expires_in=60)


def test_an_unknown_or_malformed_media_id_is_404(in_tenant):
    client = client_for(in_tenant, as_role="admin")
    assert client.get(f"/media/{uuid.uuid4()}/").status_code == 404
    assert client.get("/media/not-a-uuid/").status_code == 404


def test_the_lesson_page_links_the_access_checked_redirect_not_a_signed_url(enrolled, in_tenant):
    course, lesson, asset = enrolled
    page = client_for(in_tenant, as_role="learner").get(f"/learning/{course.slug}/lessons/{lesson.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'src="/media/{asset.pk}/"' in html and "<video" in html
    assert "X-Amz-Signature" not in html


def test_a_newer_upload_reaches_learners_only_once_the_lesson_is_republished(enrolled, in_tenant, scratch):
    from courses.services import course_publish
    from media_delivery.services import asset_adopt

    course, lesson, published = enrolled
    admin = User.objects.get(email="admin@acme.test")
    newer = asset_adopt(
        actor=admin, key=put(f"{scratch}newer.mp4", VIDEO_BYTES, "video/mp4"), kind="video", lesson=lesson
    )
    learner = client_for(in_tenant, as_role="learner")
    page = learner.get(f"/learning/{course.slug}/lessons/{lesson.pk}/").content.decode()
    assert f"/media/{published.pk}/" in page and str(newer.pk) not in page
    assert learner.get(f"/media/{newer.pk}/").status_code == 404
    assert (
        client_for(in_tenant, as_role="admin").get(f"/media/{newer.pk}/").status_code == 302
    )  # staff preview
    lesson.refresh_from_db()
    assert lesson.video.name == f"{scratch}newer.mp4"
    course_publish(actor=admin, course=course)
    page = learner.get(f"/learning/{course.slug}/lessons/{lesson.pk}/").content.decode()
    assert f"/media/{newer.pk}/" in page
    assert learner.get(f"/media/{newer.pk}/").status_code == 302
    assert learner.get(f"/media/{published.pk}/").status_code == 404


def test_a_file_saved_through_the_lesson_form_gets_its_asset_and_is_served_through_the_redirect(
    in_tenant, scratch
):
    from courses.models import LessonKind
    from courses.services import course_publish
    from courses.tests.factories import lessons_of, make_course

    course = make_course(slug=f"form-{uuid.uuid4().hex[:8]}", lessons=1, publish=False)
    lesson = lessons_of(course)[0]
    put(f"{scratch}form.mp4", VIDEO_BYTES, "video/mp4")
    lesson.kind, lesson.video.name = LessonKind.VIDEO, f"{scratch}form.mp4"
    lesson.save()
    asset = MediaAsset.objects.get(key=f"{storage_prefix()}{scratch}form.mp4")
    assert (asset.status, asset.lesson_id, asset.kind) == (AssetStatus.READY, lesson.pk, "video")
    course_publish(actor=User.objects.get(email="admin@acme.test"), course=course)
    enrollment_create(user=User.objects.get(email="learner@acme.test"), course=course)
    page = client_for(in_tenant, as_role="learner").get(f"/learning/{course.slug}/lessons/{lesson.pk}/")
    assert f'src="/media/{asset.pk}/"' in page.content.decode()
    # A file that is not what it claims is registered as rejected and never served.
    put(f"{scratch}bogus.pdf", b"not a pdf at all", "application/pdf")
    lesson.document.name = f"{scratch}bogus.pdf"
    lesson.save()
    bogus = MediaAsset.objects.get(key=f"{storage_prefix()}{scratch}bogus.pdf")
    assert bogus.status == AssetStatus.REJECTED and "not PDF" in bogus.reason
