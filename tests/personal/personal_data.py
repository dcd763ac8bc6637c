"""Tiny clips and model folders for the personal-gesture tests (a module of its own: `conftest`
is ambiguous when several test folders run together)."""

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


def fake_export(folder, checkpoint, with_checkpoint=True):
    """A folder shaped like `lcr-edge quantize`'s output for `checkpoint`: its real model.json
    fields (quantize.export.base_metadata), the FP32 checkpoint.pt, and placeholder bytes for the
    INT8 files (listed with their hashes). Enough for tools/bundle_model.py and for finetune,
    which reads only checkpoint.pt; no slow export."""
    import shutil

    from lcr_edge.artifact import CHECKPOINT, FILES, METADATA, file_entry
    from lcr_edge.io import write_json
    from lcr_edge.model.checkpoint import load_checkpoint
    from lcr_edge.quantize.export import base_metadata

    folder.mkdir(parents=True)
    model, ckpt = load_checkpoint(checkpoint)
    meta = base_metadata(model, ckpt, checkpoint, None)
    for kind in ("onnx", "openvino_stateful"):
        name = FILES[("int8", kind)]
        (folder / name).write_bytes(f"placeholder {kind}".encode())
        if name.endswith(".xml"):
            (folder / (name[:-4] + ".bin")).write_bytes(b"placeholder weights")
        meta["files"].setdefault("int8", {})[kind] = file_entry(folder, name)
    if with_checkpoint:
        shutil.copyfile(checkpoint, folder / CHECKPOINT)
        meta["files"]["torch"] = {"checkpoint": file_entry(folder, CHECKPOINT)}
    write_json(folder / METADATA, meta)
    return folder


def bundle_tool():
    """tools/bundle_model.py (a script, not an installed package) as a module."""
    from tests.scripts import load_script

    return load_script("tools/bundle_model.py")
