"""Tiny clips for the personal-gesture tests (a module of its own: `conftest` is ambiguous when
several test folders run together)."""

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "training"))
from jester_fixture import frame as box_frame  # noqa: E402


def clip_frames(kind: int, n: int = 12, seed: int = 0) -> list[np.ndarray]:
    """A bright box moving left (0), right (1) or standing still (2) over noise, 176x100 BGR."""
    return [box_frame(kind, t, n, seed) for t in range(n)]


def write_video(path: Path, frames: list[np.ndarray], fps: float = 12.0) -> Path:
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for f in frames:
        out.write(f)
    out.release()
    return path
