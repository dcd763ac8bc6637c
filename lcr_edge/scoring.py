"""The paper's clip score, at the frame rate a model sees.

The paper scores a Jester clip by, for each class, the highest probability over its last 10 frames
(32 frames at 12 fps, so the last 0.83 s) and predicts the best class by that. A model fed every
`stride`-th frame sees those 0.83 s as ceil(10 / stride) frames: taking the last 10 of its frames
instead would reach back to the clip's start (3.3 s at stride 4), where no gesture is visible yet.
"""

from __future__ import annotations

import math

import numpy as np

from lcr_edge.labels import JESTER_FPS

PAPER_LAST_FRAMES = 10  # frames of a 12 fps Jester clip


def paper_window(frame_rate: float = JESTER_FPS) -> int:
    """Frames in the paper's scoring window at `frame_rate` (10 at 12 fps, 3 at 3 fps).

    >>> paper_window(12.0), paper_window(3.0), paper_window(30.0)
    (10, 3, 25)
    """
    return max(1, math.ceil(PAPER_LAST_FRAMES * frame_rate / JESTER_FPS - 1e-9))


def paper_scores(probs: np.ndarray, window: int = PAPER_LAST_FRAMES) -> np.ndarray:
    """probs (N, F, K) per-frame probabilities -> (N, K): each class's best over the last `window`."""
    return probs[:, -window:].max(axis=1)
