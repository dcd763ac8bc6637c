"""Scripted stand-ins for `lcr_edge.runtime.Recognizer` and helpers to build probability streams.

Anything with `reset()`, `step(frame) -> probs[K]`, `labels`, `frame_rate`, `metadata` and `timings`
works in the engine, the app and `lcr-edge run`; these fakes are that interface with a script.
"""

from __future__ import annotations

import time

import numpy as np

from lcr_edge.labels import JESTER_LABELS

IDLE = "No gesture"


def probs_for(label: str, p: float = 0.9, labels=JESTER_LABELS) -> np.ndarray:
    """A probability vector [K]: `p` on `label`, the rest on "No gesture"."""
    v = np.zeros(len(labels), np.float32)
    v[labels.index(IDLE)] = 1.0 - p
    v[labels.index(label)] += p
    return v


def stream(*segments, labels=JESTER_LABELS) -> list[np.ndarray]:
    """stream(("Swiping Left", 4), ("idle", 10), ("Thumb Up", 3, 0.7)) -> list of [K] vectors."""
    out = []
    for seg in segments:
        label, n = seg[0], seg[1]
        p = seg[2] if len(seg) > 2 else 0.9
        out += [probs_for(IDLE if label == "idle" else label, p, labels) for _ in range(n)]
    return out


class ScriptedRecognizer:
    """Returns `script[i]` at the i-th step since reset (idle once the script runs out).

    script: list of [K] vectors, or a function frame_index -> [K]. `delay_s` sleeps in every
    step (a deliberately slow model for the GUI-responsiveness test). `key_on_frame=True` reads
    the frame index from the frame's top-left pixel (written by the synthetic videos below), so
    the script is keyed to the video frame, not to how many frames reached the model.
    """

    def __init__(self, script=None, labels=JESTER_LABELS, frame_rate=12.0, delay_s=0.0,
                 key_on_frame=False):
        self.labels = list(labels)
        self.frame_rate = float(frame_rate)
        self.metadata = {"labels": self.labels, "frame_rate": self.frame_rate, "variant": "fake"}
        self.script = script if script is not None else []
        self.delay_s = delay_s
        self.key_on_frame = key_on_frame
        self.timings: dict[str, float] = {}
        self.steps = 0
        self.resets = 0
        self.seen: list[int] = []  # the stamped index of every frame stepped
        self.i = 0

    def reset(self) -> None:
        self.resets += 1
        self.i = 0

    def step(self, frame: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        idx = frame_index(frame) if self.key_on_frame else self.i
        self.seen.append(frame_index(frame))
        if callable(self.script):
            p = self.script(idx)
        elif idx < len(self.script):
            p = self.script[idx]
        else:
            p = probs_for(IDLE, 1.0, self.labels)
        if self.delay_s:
            time.sleep(self.delay_s)
        self.i += 1
        self.steps += 1
        ms = (time.perf_counter() - t0) * 1e3
        self.timings = {"preprocess": 0.0, "edges": 0.0, "inference": ms}
        return np.asarray(p, np.float32)


def frame_index(frame: np.ndarray) -> int:
    """Inverse of `write_video(..., stamp=True)`: the index encoded in the top-left 16x16 block."""
    b, g, _ = frame[2:14, 2:14].reshape(-1, 3).mean(axis=0)
    return int(round(b / 16)) + 16 * int(round(g / 16))


def synthetic_frames(n: int, size=(96, 128), stamp=True) -> list[np.ndarray]:
    """n BGR frames of a white rectangle moving left to right; frame index stamped top-left."""
    h, w = size
    frames = []
    for i in range(n):
        f = np.full((h, w, 3), 40, np.uint8)
        x = int((w - 30) * i / max(n - 1, 1))
        f[h // 3: h // 3 + 30, x: x + 30] = 230
        if stamp:
            f[:16, :16] = (16 * (i % 16), 16 * (i // 16), 0)  # survives JPEG; up to 256 frames
        frames.append(f)
    return frames


def write_video(path, n: int = 36, fps: float = 12.0, size=(96, 128)) -> str:
    """A small MJPG .avi of `synthetic_frames` (OpenCV writes it without extra codecs)."""
    import cv2

    h, w = size
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert vw.isOpened(), "OpenCV could not open a VideoWriter"
    for f in synthetic_frames(n, size):
        vw.write(f)
    vw.release()
    return str(path)
