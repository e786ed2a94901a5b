"""Sample clips (made by ``scripts/make_samples.py``): 640x360, 30 fps, keyframe every 2 s,
stereo Opus. Installed with the package, used by tests and the demo."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CLIPS = {"vp8": "sample-vp8.webm", "h264": "sample-h264.mp4"}


def sample_path(codec: str = "vp8") -> Path:
    """The path of the sample clip for ``codec`` (``vp8`` or ``h264``)."""
    return Path(str(resources.files(__name__).joinpath(CLIPS[codec])))
