"""Tiny data for the personal-gesture tests: short videos, a small gesture set, a tiny base model."""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))
from personal_data import bundle_tool, clip_frames, fake_export, write_video  # noqa: E402


@pytest.fixture
def video(tmp_path):
    """40 frames at 12 fps (3.3 s)."""
    return write_video(tmp_path / "gesture.avi", clip_frames(1, 40))


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    """A random-weight LCR-S (dim 32) over Jester's 27 labels, sampling 6 frames stride 2."""
    from tiny_models import tiny_checkpoint

    from lcr_edge.model.checkpoint import load_checkpoint, save_checkpoint

    path = tmp_path_factory.getbasetemp() / "tiny_base.pt"
    tiny_checkpoint(path, num_classes=27, dim=32)
    model, ckpt = load_checkpoint(path)
    save_checkpoint(path, model, ckpt["labels"],
                    sampling={"frames": 6, "stride": 2, "source_fps": 12.0, "frame_rate": 6.0})
    return path


@pytest.fixture
def bundled(tmp_path, tiny_base, monkeypatch):
    """The bundled default model location pointed at a tiny bundle (made by tools/bundle_model.py
    from a fake export of `tiny_base`), with $LCR_EDGE_MODEL unset."""
    from lcr_edge import paths

    folder = tmp_path / "bundled"
    bundle_tool().bundle(fake_export(tmp_path / "export", tiny_base), folder,
                         {"trained_on": "random weights (a test)"})
    monkeypatch.delenv("LCR_EDGE_MODEL", raising=False)
    monkeypatch.setattr(paths, "BUNDLED_MODEL", folder)
    return folder
