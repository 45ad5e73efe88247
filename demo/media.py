"""The demo's media, made on this machine rather than downloaded: a short video and PDFs.

Both are written once into `.data/demo-media/` (gitignored) and reused on later runs; the
file name carries a hash of everything that shapes the file, so changing the recipe or
the text makes a new file instead of serving a stale one.

- The video is an ffmpeg test pattern with a progress bar in the tenant's colour. ffmpeg
  comes from the `imageio-ffmpeg` wheel (a project dependency), or Debian's `ffmpeg`.
- The PDFs come from the small PDF writer in core.pdf, so no PDF library is needed.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from core.ffmpeg import FfmpegMissing, ffmpeg_path
from core.pdf import pdf_document

MEDIA_DIR = Path(settings.BASE_DIR) / ".data" / "demo-media"
VIDEO_SECONDS = 10


class DemoMediaError(RuntimeError):
    """The demo media could not be made; the message says what to install or fix."""


def _cached(name: str, suffix: str, recipe: str, make: Callable[[Path], object]) -> Path:
    """The cached file for `recipe`, made by `make(tmp_path)` first if it is missing."""
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    target = MEDIA_DIR / f"{name}-{digest}{suffix}"
    if target.is_file() and target.stat().st_size > 0:
        return target
    MEDIA_DIR.mkdir(parents=True, exist_ok=True)
    # Write beside the target, then rename: a second seed_demo running at the same time
    # never reads a half-written file.
    partial = target.with_name(f"{target.name}.{os.getpid()}.part")
    try:
        make(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


# --- Video ---------------------------------------------------------------------------


def _video_args(colour: str, seconds: int) -> list[str]:
    """ffmpeg arguments after the binary, up to (not including) the output path."""
    hex_colour = colour.lstrip("#").lower()
    if not re.fullmatch(r"[0-9a-f]{6}", hex_colour):
        raise DemoMediaError(f"Colour {colour!r} is not #rrggbb.")
    size = "640x360"
    # A test pattern, a dark band along the bottom, and a bar in the tenant's colour that
    # grows with the playback position: a resumed video visibly starts part-way.
    graph = ";".join(
        [
            f"testsrc2=size={size}:rate=25:duration={seconds}[pattern]",
            f"color=c=0x1f2937:size=640x14:rate=25:duration={seconds}[band]",
            f"color=c=0x{hex_colour}:size=640x14:rate=25:duration={seconds}[bar]",
            "[pattern][band]overlay=x=0:y=H-h[banded]",
            f"[banded][bar]overlay=x='-w+w*t/{seconds}':y=H-h:eval=frame,format=yuv420p[v]",
            f"sine=frequency=440:sample_rate=48000:duration={seconds},volume=0.08[a]",
        ]
    )
    return [
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-y",
        "-filter_complex",
        graph,
        "-map",
        "[v]",
        "-map",
        "[a]",
        "-c:v",
        "libx264",
        "-profile:v",
        "main",
        "-preset",
        "medium",
        "-crf",
        "30",
        "-g",
        "50",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "64k",
        "-ac",
        "1",
        # The index (moov) goes before the media data, so a browser starts playing and
        # seeking before it has the whole file.
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
    ]


def demo_video(*, colour: str, seconds: int = VIDEO_SECONDS) -> Path:
    """A small H.264/AAC MP4 (640x360, yuv420p, faststart) made from a test pattern."""
    args = _video_args(colour, seconds)

    def make(path: Path) -> None:
        try:
            subprocess.run(  # noqa: S603 - our ffmpeg binary and arguments built above
                [ffmpeg_path(), *args, str(path)], capture_output=True, text=True, check=True, timeout=300
            )
        except subprocess.CalledProcessError as exc:
            raise DemoMediaError(
                f"ffmpeg could not make the demo video: {exc.stderr.strip()[-800:]}"
            ) from exc
        except FfmpegMissing as exc:
            raise DemoMediaError(f"The demo video cannot be made: {exc}") from exc
        except subprocess.TimeoutExpired as exc:
            raise DemoMediaError("ffmpeg took more than 5 minutes to make a 10-second video.") from exc

    return _cached(f"video-{colour.lstrip('#').lower()}", ".mp4", " ".join(args), make)


# --- PDF ---


def demo_pdf(*, name: str, title: str, subtitle: str, body: str) -> Path:
    """The cached PDF of a document (see pdf_document for the text format)."""
    data = pdf_document(title=title, subtitle=subtitle, body=body)
    return _cached(name, ".pdf", data.decode("latin-1"), lambda path: path.write_bytes(data))
