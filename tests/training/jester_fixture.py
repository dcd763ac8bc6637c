"""A hand-made dataset in the real 20BN Jester layout, small enough for tests."""

from pathlib import Path

import cv2
import numpy as np

LABELS = ["Swiping Left", "Swiping Right", "Stop Sign"]


def frame(label_idx: int, t: int, n: int, seed: int) -> np.ndarray:
    """176x100 BGR: a bright box moving left, right, or standing still, over a noisy background."""
    rng = np.random.default_rng(seed * 1000 + t)
    img = rng.integers(0, 60, (100, 176, 3), dtype=np.uint8)
    x = {0: 140 - 100 * t // max(1, n - 1), 1: 20 + 100 * t // max(1, n - 1), 2: 80}[label_idx % 3]
    cv2.rectangle(img, (x, 30), (x + 30, 70), (200, 210, 240), -1)
    return img


def make_jester(root: Path, per_class: int = 3, frames: int = 6, val_per_class: int = 1,
                labels=LABELS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "jester-v1-labels.csv").write_text("\n".join(labels) + "\n")
    train, val, cid = [], [], 100
    for li, label in enumerate(labels):
        for k in range(per_class + val_per_class):
            cid += 1
            d = root / str(cid)
            d.mkdir()
            for t in range(frames):
                cv2.imwrite(str(d / f"{t + 1:05d}.jpg"), frame(li, t, frames, cid))
            (val if k >= per_class else train).append(f"{cid};{label}")
    (root / "jester-v1-train.csv").write_text("\n".join(train) + "\n")
    (root / "jester-v1-validation.csv").write_text("\n".join(val) + "\n")
    (root / "jester-v1-test.csv").write_text("")
    return root
