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
from lcr_edge.training.synth.render import render_clip
from lcr_edge.training.synth.scene import Style

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
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"):
        raise LCRError(f"{path}: --preview writes an image: give a .png (or .jpg) file name")
    sheet = contact_sheet(labels, **kw)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ok = cv2.imwrite(str(path), sheet)
    except (OSError, cv2.error) as exc:
        raise LCRError(f"{path}: cannot write the image ({exc})") from None
    if not ok:
        raise LCRError(f"{path}: cannot write the image (unwritable folder?)")
    return path


# Every knob neutral (a clean camera, a plain room with a person), so a sheet shows one knob alone.
NEUTRAL = dict(outline=(0.85, 0.85), shading=(0.25, 0.25), yaw=(0.0, 0.0), motion_blur=0.0,
               white_balance=0.0, tint=0.0, exposure=(1.0, 1.0), gamma=(1.0, 1.0),
               contrast=(1.0, 1.0), saturation=(1.0, 1.0), vignette=0.0, noise=(1.0, 1.0), blur=0.0,
               low_res=0.0, jpeg=0.0, overlay=0.0, distractor=0.0, refresh=0.0, light_change=0.0,
               backgrounds=("room",), person=1.0, small_hand=0.0, off_centre=0.0, quick=0.0)
# Each style knob at "off" and at "on" over NEUTRAL, for `knob_sheet`: the pictures docs/synth.md
# shows beside each knob's description.
KNOBS: dict[str, tuple[dict, dict]] = {
    "backgrounds": ({"backgrounds": ("gradient", "texture", "stripes", "clutter")},
                    {"backgrounds": ("room", "photo")}),
    "person": ({"person": 0.0}, {"person": 1.0}),
    "outline": ({"outline": (0.55, 0.55)}, {"outline": (0.9, 0.95)}),
    "shading": ({"shading": (0.0, 0.0)}, {"shading": (0.5, 0.5)}),
    "yaw": ({"yaw": (0.0, 0.0)}, {"yaw": (60.0, 60.0)}),
    "motion_blur": ({"motion_blur": 0.0}, {"motion_blur": 1.0}),
    "white_balance": ({"white_balance": 0.0, "tint": 0.0}, {"white_balance": 0.15, "tint": 1.0}),
    "exposure": ({"exposure": (1.0, 1.0), "gamma": (1.0, 1.0)},
                 {"exposure": (0.6, 1.5), "gamma": (0.7, 1.4)}),
    "contrast": ({"contrast": (1.0, 1.0), "saturation": (1.0, 1.0)},
                 {"contrast": (0.6, 0.7), "saturation": (0.5, 0.6)}),
    "vignette": ({"vignette": 0.0}, {"vignette": 1.0}),
    "noise": ({"noise": (0.0, 0.0)}, {"noise": (8.0, 10.0)}),
    "blur": ({"blur": 0.0}, {"blur": 1.0}),
    "low_res": ({"low_res": 0.0}, {"low_res": 1.0}),
    "jpeg": ({"jpeg": 0.0}, {"jpeg": 1.0, "jpeg_quality": (20, 30)}),
    "overlay": ({"overlay": 0.0}, {"overlay": 1.0}),
    "occlusion": ({"distractor": 0.0}, {"distractor": 1.0, "occlusion": 1.0}),
    "small_hand": ({"small_hand": 0.0}, {"small_hand": 1.0}),
    "off_centre": ({"off_centre": 0.0}, {"off_centre": 1.0}),
}


def knob_sheet(knob: str, label: str = "Swiping Left", clips: int = 4, seed: int = 0,
               size: tuple[int, int] = (176, 100)) -> np.ndarray:
    """BGR uint8 image: the middle frame of `clips` clips of `label` with `knob` off (top row) and
    on (bottom row), every other knob neutral (same seeds in both rows)."""
    from dataclasses import replace

    from lcr_edge.training.synth.scene import STYLES

    if knob not in KNOBS:
        raise LCRError(f"unknown style knob {knob!r}; known: {', '.join(KNOBS)}")
    rows = []
    for name, overrides in zip(("off", "on"), KNOBS[knob], strict=True):
        style = replace(STYLES["default"], **{**NEUTRAL, **overrides})
        row = np.concatenate([render_clip(label, seed * 1000 + i, 24, size, style)[12]
                              for i in range(clips)], 1)
        row = cv2.copyMakeBorder(row, LABEL_BAND, 0, 0, 0, cv2.BORDER_CONSTANT,
                                 value=(255, 255, 255))
        cv2.putText(row, f"{knob} {name}", (3, LABEL_BAND - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.42,
                    (0, 0, 0), 1, cv2.LINE_AA)
        rows.append(row)
    return np.concatenate(rows, 0)
