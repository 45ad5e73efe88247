"""ffmpeg work for videos: probe, an HLS ladder (360p, and 720p when the source has it), a poster.

ffmpeg comes from the imageio-ffmpeg wheel (or Debian's ffmpeg); no ffprobe is needed: the
duration and size are read from ffmpeg's own description of the input.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from core.ffmpeg import ffmpeg_path

# (name, height, video kbit/s): the ladder, lowest first. A rung above the source is skipped,
# except the lowest, which every video gets.
LADDER = (("360p", 360, 800), ("720p", 720, 2500))
SEGMENT_SECONDS = 4
TIMEOUT_SECONDS = 6 * 3600


class TranscodeError(RuntimeError):
    pass


@dataclass(frozen=True)
class Probe:
    duration: float
    width: int
    height: int
    has_audio: bool


@dataclass(frozen=True)
class Ladder:
    probe: Probe
    renditions: list[tuple[str, int, int]]  # (name, width, height)
    files: list[Path]  # everything to upload, master playlist first


def _run(args: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(  # noqa: S603 - our ffmpeg binary, arguments built here
            [ffmpeg_path(), "-hide_banner", "-nostdin", *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as exc:
        raise TranscodeError("ffmpeg did not finish in time.") from exc


def probe(source: Path) -> Probe:
    answer = _run(["-i", str(source)])  # exits 1 ("no output file"), having described the input
    text = answer.stderr
    duration = re.search(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", text)
    video = re.search(r"Stream #\S+.*?: Video: .*?(\d{2,5})x(\d{2,5})", text)
    if not duration or not video:
        raise TranscodeError("This file has no video stream ffmpeg can read.")
    h, m, s = duration.groups()
    return Probe(
        duration=int(h) * 3600 + int(m) * 60 + float(s),
        width=int(video.group(1)),
        height=int(video.group(2)),
        has_audio=bool(re.search(r"Stream #\S+.*?: Audio: ", text)),
    )


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def hls_ladder(source: Path, out_dir: Path) -> Ladder:
    """Write master.m3u8, one playlist per rung with its .ts segments, and poster.jpg."""
    info = probe(source)
    out_dir.mkdir(parents=True, exist_ok=True)
    rungs = [rung for index, rung in enumerate(LADDER) if index == 0 or rung[1] <= info.height]
    renditions, files, master = [], [], ["#EXTM3U", "#EXT-X-VERSION:3"]
    for name, height, kbps in rungs:
        height = min(height, _even(info.height))
        width = _even(info.width * height / info.height)
        args = [
            "-y",
            "-loglevel",
            "error",
            "-i",
            str(source),
            "-map",
            "0:v:0",
            "-map",
            "0:a:0?",
            "-vf",
            f"scale={width}:{height}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-profile:v",
            "main",
            "-pix_fmt",
            "yuv420p",
            "-b:v",
            f"{kbps}k",
            "-maxrate",
            f"{int(kbps * 1.2)}k",
            "-bufsize",
            f"{kbps * 2}k",
            # A keyframe at every segment boundary, so every rung switches cleanly.
            "-force_key_frames",
            f"expr:gte(t,n_forced*{SEGMENT_SECONDS})",
            "-c:a",
            "aac",
            "-b:a",
            "96k",
            "-ac",
            "2",
            "-f",
            "hls",
            "-hls_time",
            str(SEGMENT_SECONDS),
            "-hls_playlist_type",
            "vod",
            "-hls_segment_filename",
            str(out_dir / f"{name}_%04d.ts"),
            str(out_dir / f"{name}.m3u8"),
        ]
        answer = _run(args)
        if answer.returncode != 0:
            raise TranscodeError(f"ffmpeg failed on {name}: {answer.stderr.strip()[-400:]}")
        renditions.append((name, width, height))
        bandwidth = (kbps + (96 if info.has_audio else 0)) * 1000
        master += [f"#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},RESOLUTION={width}x{height}", f"{name}.m3u8"]
    (out_dir / "master.m3u8").write_text("\n".join(master) + "\n")
    at = min(1.0, info.duration / 2)
    poster = out_dir / "poster.jpg"
    answer = _run(
        ["-y", "-loglevel", "error", "-ss", f"{at:.2f}", "-i", str(source), "-frames:v", "1",
         "-vf", "scale=-2:360", "-q:v", "4", str(poster)]
    )  # fmt: skip
    if answer.returncode != 0 or not poster.is_file():
        raise TranscodeError(f"ffmpeg could not take a poster frame: {answer.stderr.strip()[-300:]}")
    files = [out_dir / "master.m3u8", *sorted(p for p in out_dir.iterdir() if p.name != "master.m3u8")]
    return Ladder(info, renditions, files)


CONTENT_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".jpg": "image/jpeg"}
