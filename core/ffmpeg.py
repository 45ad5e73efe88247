"""Where ffmpeg comes from: the imageio-ffmpeg wheel (a project dependency), else Debian's ffmpeg."""

from __future__ import annotations

import shutil


class FfmpegMissing(RuntimeError):
    """No ffmpeg binary is installed; the message says how to get one."""


def ffmpeg_path() -> str:
    """The ffmpeg binary: the one in the imageio-ffmpeg wheel, else one on PATH."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        pass
    found = shutil.which("ffmpeg")
    if found is None:
        raise FfmpegMissing(
            "Video work needs ffmpeg: `pip install -e .` installs imageio-ffmpeg, "
            "or `apt-get install ffmpeg`."
        )
    return found
