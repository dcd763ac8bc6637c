"""Contact sheets: one row per gesture, every k-th frame of a clip, the class name above the row.

>>> sheet = contact_sheet(["Swiping Left", "Thumb Up"], seed=0, frames=8, every=4, size=(64, 48))
>>> sheet.shape
(128, 128, 3)
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from lcr_edge.errors import LCRError
from training.synth.render import render_clip
from training.synth.scene import Style

LABEL_BAND = 16  # px of white above each row for the class name


def contact_sheet(labels: list[str], seed: int = 0, frames: int = 36, every: int = 4,
                  size: tuple[int, int] = (176, 100),
                  style: str | Style | None = None) -> np.ndarray:
    """BGR uint8 image: for each label a row of frames 0, every, 2*every, ... of one clip
    (clip i of the sheet uses seed * 1000 + i)."""
    if every < 1:
        raise LCRError(f"every must be at least 1, got {every}")
    rows = []
    for i, label in enumerate(labels):
        clip = render_clip(label, seed * 1000 + i, frames, size, style)
        row = np.concatenate(clip[::every], 1)
        row = cv2.copyMakeBorder(row, LABEL_BAND, 0, 0, 0, cv2.BORDER_CONSTANT,
                                 value=(255, 255, 255))
        cv2.putText(row, label, (3, LABEL_BAND - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1,
                    cv2.LINE_AA)
        rows.append(row)
    return np.concatenate(rows, 0)


def write_contact_sheet(path: str | Path, labels: list[str], **kw) -> Path:
    """Write `contact_sheet(labels, **kw)` as a PNG (or anything cv2.imwrite knows)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), contact_sheet(labels, **kw)):
        raise LCRError(f"{path}: cannot write the image (unknown extension or unwritable folder)")
    return path
