"""Draw a step's result onto a frame (for `lcr-edge run --out annotated.mp4`): top-3 bars, the
last event as a banner, the frame time. OpenCV only; the app draws its own overlays with Qt.

>>> import numpy as np
>>> out = annotate(np.zeros((96, 128, 3), np.uint8), [("Thumb Up", 0.8)], "Thumb Up", 1.5)
>>> out.shape
(192, 256, 3)
"""

from __future__ import annotations

import cv2
import numpy as np


def annotate(image: np.ndarray, top: list[tuple[str, float]], banner: str | None,
             t: float, min_width: int = 256) -> np.ndarray:
    """BGR HxWx3 -> a copy, enlarged to at least `min_width` wide, with the overlays."""
    scale = max(1.0, min_width / image.shape[1])
    out = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR) \
        if scale > 1 else image.copy()
    h, w = out.shape[:2]
    font, fs = cv2.FONT_HERSHEY_SIMPLEX, 0.35 * max(1.0, w / 320)
    row = int(14 * max(1.0, w / 320))
    for i, (label, score) in enumerate(top[:3]):
        y = h - (3 - i) * row - 4
        cv2.rectangle(out, (4, y - row + 4), (4 + int(score * (w // 3)), y), (0, 160, 0), -1)
        cv2.putText(out, f"{label} {score:.2f}", (8, y - 2), font, fs, (255, 255, 255), 1,
                    cv2.LINE_AA)
    if banner:
        cv2.rectangle(out, (0, 0), (w, row + 8), (0, 120, 255), -1)
        cv2.putText(out, banner, (6, row + 2), font, fs * 1.2, (255, 255, 255), 1, cv2.LINE_AA)
    cv2.putText(out, f"{t:6.2f} s", (w - 8 * row // 2 - 40, h - 6), font, fs, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out
