"""The paper's edge prompt (eq. 9): grey -> Otsu threshold tau -> Canny(grey, 0.5 tau, tau) -> 0/1 map.

This module and `lcr_edge.preprocess` are the only definitions of preprocessing in the project:
training, export, evaluation and the app all call them. No torch here.

>>> import numpy as np
>>> frame = np.zeros((100, 176, 3), np.uint8); frame[30:70, 60:120] = 200
>>> e = edge_map(frame)
>>> e.dtype, e.shape, int(e.max())
(dtype('uint8'), (100, 176), 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lcr_edge.errors import LCRError


@dataclass(frozen=True)
class EdgeParams:
    """Canny's thresholds are (low_ratio * tau, tau), tau from Otsu on the grey frame."""

    low_ratio: float = 0.5
    aperture: int = 3
    l2_gradient: bool = False

    def to_dict(self) -> dict:
        return {"method": "otsu-canny", "low_ratio": self.low_ratio, "aperture": self.aperture,
                "l2_gradient": self.l2_gradient}

    @classmethod
    def from_dict(cls, d: dict) -> EdgeParams:
        if d.get("method", "otsu-canny") != "otsu-canny":
            raise LCRError(f"unknown edge method {d.get('method')!r}; this version knows 'otsu-canny'")
        return cls(float(d.get("low_ratio", 0.5)), int(d.get("aperture", 3)),
                   bool(d.get("l2_gradient", False)))


def check_frame(frame: np.ndarray, channels: int | None = 3) -> None:
    """Raise one clear LCRError unless `frame` is a uint8 HxW (channels=None) or HxWx3 BGR image."""
    if not isinstance(frame, np.ndarray):
        raise LCRError(f"a frame must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise LCRError(f"a frame must be uint8 (0-255), got dtype {frame.dtype}")
    want = (2,) if channels is None else (3,)
    if frame.ndim not in want or (channels and frame.shape[2] != channels):
        what = "HxW grey" if channels is None else f"HxWx{channels} BGR"
        raise LCRError(f"a frame must be a {what} image, got shape {frame.shape}")
    if frame.shape[0] < 2 or frame.shape[1] < 2:
        raise LCRError(f"a frame must be at least 2x2 pixels, got shape {frame.shape}")


def otsu_threshold(grey: np.ndarray) -> int:
    """Otsu's threshold of a uint8 grey image: the level maximising the between-class variance.

    Same value as `cv2.threshold(grey, 0, 255, THRESH_BINARY | THRESH_OTSU)[0]` (a test holds them
    equal); written out so the edge prompt's one free parameter is visible and testable.
    """
    check_frame(grey, channels=None)
    hist = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
    p = hist / hist.sum()
    omega = np.cumsum(p)  # class-0 probability for threshold t (pixels <= t)
    mu = np.cumsum(p * np.arange(256))  # class-0 first moment
    mu_t = mu[-1]
    denom = omega * (1.0 - omega)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma_b = np.where(denom > 1e-12, (mu_t * omega - mu) ** 2 / denom, 0.0)
    # OpenCV keeps the first maximum met while scanning upwards, but only when strictly larger
    # by more than float noise; argmax over the rounded values does the same.
    return int(np.argmax(np.round(sigma_b, 9)))


def edge_map(frame_bgr: np.ndarray, params: EdgeParams = EdgeParams()) -> np.ndarray:
    """BGR uint8 frame (HxWx3) -> uint8 HxW map of 0/1 edges (Otsu-adaptive Canny)."""
    check_frame(frame_bgr)
    grey = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    return edge_map_grey(grey, params)


def edge_map_grey(grey: np.ndarray, params: EdgeParams = EdgeParams()) -> np.ndarray:
    """Grey uint8 HxW -> uint8 HxW map of 0/1 edges; a blank frame gives an empty map."""
    tau = otsu_threshold(grey)
    edges = cv2.Canny(grey, params.low_ratio * tau, float(tau), apertureSize=params.aperture,
                      L2gradient=params.l2_gradient)
    return (edges > 0).astype(np.uint8)
