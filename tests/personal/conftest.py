"""Tiny data for the personal-gesture tests: short videos, a small gesture set, a tiny base model."""

import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
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


@pytest.fixture
def video(tmp_path):
    """40 frames at 12 fps (3.3 s)."""
    return write_video(tmp_path / "gesture.avi", clip_frames(1, 40))


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    """A random-weight LCR-S (dim 32) over Jester's 27 labels, sampling 6 frames stride 2."""
    from lcr_edge.model.checkpoint import load_checkpoint, save_checkpoint
    from quantize.testing import tiny_checkpoint

    path = tmp_path_factory.getbasetemp() / "tiny_base.pt"
    tiny_checkpoint(path, num_classes=27, dim=32)
    model, ckpt = load_checkpoint(path)
    save_checkpoint(path, model, ckpt["labels"],
                    sampling={"frames": 6, "stride": 2, "source_fps": 12.0, "frame_rate": 6.0})
    return path
