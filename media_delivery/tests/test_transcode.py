"""A generated video becomes a playable HLS ladder, served with presigned segments (or CloudFront)."""

from __future__ import annotations

import base64
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth import get_user_model
from django.db import connection

from enrollments.services import enrollment_create
from media_delivery import storage
from media_delivery.models import MediaAsset, TranscodeStatus
from media_delivery.signing import _signer_for, canned_policy
from media_delivery.tasks import asset_transcode_task
from media_delivery.tests.helpers import http, tiny_video, video_course
from media_delivery.transcode import hls_ladder, probe
from tenants.context import storage_prefix
from tests.fixtures import client_for

User = get_user_model()


def _entries(playlist: str) -> list[str]:
    return [line for line in playlist.splitlines() if line and not line.startswith("#")]


def test_a_720p_source_gets_a_360p_and_a_720p_rung_a_poster_and_its_duration(tmp_path_factory):
    source = tiny_video(str(tmp_path_factory.getbasetemp()), width=1280, height=720, seconds=1.0)
    out = tmp_path_factory.mktemp("ladder")
    ladder = hls_ladder(source, out)
    assert [name for name, _, _ in ladder.renditions] == ["360p", "720p"]
    assert ladder.renditions[0][1:] == (640, 360)
    assert abs(ladder.probe.duration - 1.0) < 0.2 and ladder.probe.has_audio
    master = (out / "master.m3u8").read_text()
    assert master.startswith("#EXTM3U") and "RESOLUTION=1280x720" in master
    assert _entries(master) == ["360p.m3u8", "720p.m3u8"]
    for rung in _entries(master):
        playlist = (out / rung).read_text()
        assert "#EXT-X-ENDLIST" in playlist and "#EXT-X-PLAYLIST-TYPE:VOD" in playlist
        segments = _entries(playlist)
        assert segments and all((out / s).stat().st_size > 0 for s in segments)
        first = probe(out / segments[0])
        assert first.height == int(rung.split("p")[0])
    assert (out / "poster.jpg").read_bytes()[:3] == b"\xff\xd8\xff"


def test_a_small_source_gets_only_the_lowest_rung_at_its_own_size(tmp_path_factory):
    source = tiny_video(str(tmp_path_factory.getbasetemp()), width=320, height=240, seconds=1.0)
    ladder = hls_ladder(source, tmp_path_factory.mktemp("small"))
    assert ladder.renditions == [("360p", 320, 240)]


def test_a_file_that_is_not_video_fails_the_transcode_with_a_reason(tmp_path):
    from media_delivery.transcode import TranscodeError

    bogus = tmp_path / "x.mp4"
    bogus.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    with pytest.raises(TranscodeError):
        hls_ladder(bogus, tmp_path / "out")


@pytest.fixture
def transcoded(in_tenant, tmp_path_factory):
    source = tiny_video(str(tmp_path_factory.getbasetemp()), width=320, height=240, seconds=1.0)
    folder = f"tests/{uuid.uuid4()}/"
    course, lesson, asset = video_course(
        f"hls-{uuid.uuid4().hex[:8]}", key_name=f"{folder}lesson.mp4", data=Path(source).read_bytes()
    )
    enrollment_create(user=User.objects.get(email="learner@acme.test"), course=course)
    assert asset_transcode_task(str(asset.pk)) == "done"
    asset.refresh_from_db()
    yield course, lesson, asset
    connection.set_tenant(in_tenant)
    storage.objects_delete_prefix(storage_prefix() + folder)
    storage.objects_delete_prefix(f"{storage_prefix()}media/{asset.pk}/")


def test_the_task_stores_the_ladder_under_the_asset_and_the_app_serves_presigned_segments(
    transcoded, in_tenant
):
    course, lesson, asset = transcoded
    assert asset.transcode_status == TranscodeStatus.DONE and asset.duration_seconds > 0.5
    assert asset.hls_prefix == f"{storage_prefix()}media/{asset.pk}/hls/"
    assert asset_transcode_task(str(asset.pk)) == "done already"  # idempotent
    client = client_for(in_tenant, as_role="learner")
    master = client.get(f"/media/{asset.pk}/hls/master.m3u8")
    assert master.status_code == 200 and master["Cache-Control"] == "private, no-store"
    assert master["Content-Type"] == "application/vnd.apple.mpegurl"
    rungs = _entries(master.content.decode())
    assert rungs == [f"/media/{asset.pk}/hls/360p.m3u8"]
    variant = client.get(rungs[0]).content.decode()
    segments = _entries(variant)
    assert segments and all("X-Amz-Signature=" in s for s in segments)
    status, body = http("GET", segments[0])
    assert status == 200 and body[:1] == b"G"  # MPEG-TS sync byte
    poster = client.get(f"/media/{asset.pk}/poster/")
    assert poster.status_code == 302 and http("GET", poster["Location"])[1][:3] == b"\xff\xd8\xff"
    # The lesson page plays it with hls.js, keeping a real <video> element.
    page = client.get(f"/learning/{course.slug}/lessons/{lesson.pk}/").content.decode()
    assert f'data-hls="/media/{asset.pk}/hls/master.m3u8"' in page and "<video" in page
    assert 'data-hls-cookies="0"' in page  # no CloudFront: presigned segments, no credentials
    assert "vendor/hls/hls.min.js" in page


def test_playlists_refuse_outsiders_and_unknown_names(transcoded, in_tenant, other_tenant):
    _, _, asset = transcoded
    outsider = User.objects.create_user(email="nosy@acme.test", password="nosy-pass-2026")
    client = client_for(in_tenant)
    client.force_login(outsider)
    assert client.get(f"/media/{asset.pk}/hls/master.m3u8").status_code == 404
    learner = client_for(in_tenant, as_role="learner")
    assert learner.get(f"/media/{asset.pk}/hls/nothing.m3u8").status_code == 404
    assert learner.get(f"/media/{asset.pk}/hls/360p_0000.ts").status_code == 404
    assert (
        client_for(other_tenant, as_role="learner").get(f"/media/{asset.pk}/hls/360p.m3u8").status_code == 404
    )


def test_with_cloudfront_the_redirect_is_signed_there_and_hls_gets_folder_scoped_cookies(
    transcoded, in_tenant, settings, tmp_path
):
    _, _, asset = transcoded
    key = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "cf.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    settings.CLOUDFRONT_DOMAIN = "media.example.test"
    settings.CLOUDFRONT_KEY_ID = "K2TESTKEY"
    settings.CLOUDFRONT_PRIVATE_KEY_FILE = str(pem)
    settings.CLOUDFRONT_COOKIE_DOMAIN = ".example.test"
    _signer_for.cache_clear()
    client = client_for(in_tenant, as_role="learner")
    response = client.get(f"/media/{asset.pk}/")
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "media.example.test",
        "/" + asset.key,
    )
    query = parse_qs(location.query)
    assert query["Key-Pair-Id"] == ["K2TESTKEY"] and query["Hash-Algorithm"] == ["SHA256"]
    # The signed resource is the URL with its pinned response headers, before the signature.
    resource = response["Location"].split("&Expires=")[0]
    assert query["response-content-type"] == ["video/mp4"]
    signature = query["Signature"][0].replace("-", "+").replace("_", "=").replace("~", "/")
    policy = canned_policy(resource, int(query["Expires"][0])).encode()
    key.public_key().verify(base64.b64decode(signature), policy, ec.ECDSA(hashes.SHA256()))
    hls = client.get(f"/media/{asset.pk}/hls/master.m3u8")
    folder = "/" + asset.hls_prefix
    assert hls.status_code == 302 and hls["Location"] == f"https://media.example.test{folder}master.m3u8"
    cookie = hls.cookies["CloudFront-Policy"]
    assert cookie["path"] == folder and cookie["domain"] == ".example.test"
    assert cookie["secure"] and cookie["httponly"]
    assert 290 <= int(cookie["max-age"]) <= 360  # until the policy's expiry
    assert re.search(r"K2TESTKEY", hls.cookies["CloudFront-Key-Pair-Id"].value)
    _signer_for.cache_clear()
    # The asset row is unchanged by delivery.
    assert MediaAsset.objects.get(pk=asset.pk).hls_prefix == asset.hls_prefix
