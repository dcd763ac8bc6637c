"""The webcam between the scene and the file: white balance, exposure, gamma and contrast (one
lookup table per channel), saturation, vignetting, soft focus, low resolution, sensor noise, JPEG
compression, a software overlay, and a window that refreshes less often than it is recorded.

A `Camera` is one clip's draw of these settings; `Camera.apply(img, t)` turns a rendered frame
into what a webcam would have written. `refresh_schedule` says which rendered frame each recorded
frame repeats.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> refresh_schedule(rng, 12, 12.0, 4.5)[:6].tolist()
[0, 0, 2, 2, 2, 5]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import cv2
import numpy as np

NORMAL_QUANTILES = np.array([NormalDist().inv_cdf((i + 0.5) / 256) for i in range(256)])


def refresh_schedule(rng, frames: int, fps: float, refresh_fps: float) -> np.ndarray:
    """For each of `frames` recorded at `fps`, the index of the frame actually shown, when the
    picture only changes `refresh_fps` times a second (with some jitter): repeated frames."""
    step = fps / max(refresh_fps, 1e-6)
    shown, t = [], 0.0
    while t < frames:
        shown.append(int(t))
        t += step * rng.uniform(0.6, 1.4)
    out = np.zeros(frames, np.int64)
    for i, s in enumerate(shown):
        out[s:] = s if i else 0
    return out


def _lut(gains, exposure: float, gamma: float, contrast: float, pedestal: float) -> np.ndarray:
    """One 1x256x3 uint8 table: per-channel gain, exposure, gamma, then contrast about mid-grey
    lifted by a pedestal (haze, a cheap lens)."""
    x = np.arange(256, dtype=np.float64) / 255.0
    chans = []
    for g in gains:
        v = np.clip(x * g * exposure, 0, 1) ** gamma
        v = 0.5 + (v - 0.5) * contrast + pedestal
        chans.append(np.clip(np.round(v * 255), 0, 255))
    return np.stack(chans, -1).astype(np.uint8)[None]


@dataclass
class Camera:
    """One clip's camera (see the module docstring). Sampled by `Camera.sample`."""

    size: tuple[int, int]
    lut: np.ndarray
    saturation: float
    vignette: np.ndarray | None  # HxWx3 uint8 gain (scale 1/255)
    blur: float  # Gaussian sigma of soft focus, 0 = sharp
    low_res: float  # downscale factor before upscaling back, 1 = full resolution
    noise_pos: np.ndarray | None
    noise_neg: np.ndarray | None
    noise_offsets: np.ndarray
    jpeg: int  # JPEG quality of the camera's own compression, 0 = none
    overlay: dict | None

    @classmethod
    def sample(cls, rng: np.random.Generator, size: tuple[int, int], style, frames: int) -> Camera:
        w, h = size
        wb = style.white_balance
        gains = np.exp(rng.normal(0.0, wb, 3))
        if rng.random() < style.tint:  # a strong colour cast: pink, cyan, yellow or blue screens
            gains *= np.array([rng.uniform(0.7, 1.35), rng.uniform(0.7, 1.2), rng.uniform(0.7, 1.35)])
        gains /= gains[1] ** 0.5
        exposure = math.exp(rng.uniform(*np.log(style.exposure)))
        gamma = rng.uniform(*style.gamma)
        contrast = rng.uniform(*style.contrast)
        pedestal = rng.uniform(0, 0.12) * (1.1 - contrast)
        lut = _lut(gains, exposure, gamma, contrast, pedestal)
        saturation = rng.uniform(*style.saturation)
        vignette = None
        if rng.random() < style.vignette:
            ys, xs = np.ogrid[:h, :w]
            r2 = ((xs - w / 2) / (w / 2)) ** 2 + ((ys - h / 2) / (h / 2)) ** 2
            v = np.clip(1.0 - rng.uniform(0.15, 0.45) * r2 / 2, 0, 1) * 255
            vignette = cv2.merge([v.astype(np.uint8)] * 3)
        blur = rng.uniform(0.5, 1.6) if rng.random() < style.blur else 0.0
        low_res = rng.uniform(0.3, 0.75) if rng.random() < style.low_res else 1.0
        sigma = rng.uniform(*style.noise)
        noise_pos = noise_neg = None
        if sigma >= 0.5:
            # Gaussian noise from random bytes through the normal quantile function (a lookup
            # table): several times cheaper than drawing normals
            u = np.frombuffer(rng.bytes((h + 8) * (w + 8) * 3), np.uint8).reshape(h + 8, w + 8, 3)
            if rng.random() < 0.5:  # luma noise: the same in every channel
                u = np.repeat(u[..., :1], 3, axis=2)
            q = np.round(NORMAL_QUANTILES * sigma)
            noise_pos = cv2.LUT(u, np.clip(q, 0, 255).astype(np.uint8))
            noise_neg = cv2.LUT(u, np.clip(-q, 0, 255).astype(np.uint8))
        noise_offsets = rng.integers(0, 9, (frames, 2))
        jpeg = int(rng.integers(*style.jpeg_quality)) if rng.random() < style.jpeg else 0
        overlay = None
        if rng.random() < style.overlay:
            overlay = {"box": tuple(int(c) for c in rng.choice(
                [(180, 80, 230), (60, 220, 60), (40, 40, 230), (230, 200, 40), (255, 255, 255)])),
                "text": rng.random() < 0.7, "corner": rng.random() < 0.5,
                "pad": rng.uniform(0.05, 0.3)}
        return cls(size, lut, saturation, vignette, blur, low_res, noise_pos, noise_neg,
                   noise_offsets, jpeg, overlay)

    def apply(self, img: np.ndarray, t: int, box=None) -> np.ndarray:
        """Frame t as the camera records it; `box` (x0, y0, x1, y1) is the hand's, for overlays."""
        w, h = self.size
        if self.blur:
            img = cv2.GaussianBlur(img, (0, 0), self.blur)
        if self.low_res < 1:
            small = cv2.resize(img, (max(8, int(w * self.low_res)), max(8, int(h * self.low_res))),
                               interpolation=cv2.INTER_AREA)
            img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        img = cv2.LUT(img, self.lut)
        if abs(self.saturation - 1.0) > 0.03:
            grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
            img = cv2.addWeighted(img, self.saturation, grey, 1.0 - self.saturation, 0)
        if self.vignette is not None:
            img = cv2.multiply(img, self.vignette, scale=1 / 255)
        if self.noise_pos is not None:
            oy, ox = self.noise_offsets[min(t, len(self.noise_offsets) - 1)]
            img = cv2.add(img, self.noise_pos[oy:oy + h, ox:ox + w])
            img = cv2.subtract(img, self.noise_neg[oy:oy + h, ox:ox + w])
        if self.overlay is not None:
            img = self._draw_overlay(img, t, box)
        if self.jpeg:
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg])
            if ok:
                img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        return img

    def _draw_overlay(self, img, t, box):
        """What a demo program draws over its camera view: a box around the hand, a label."""
        o = self.overlay
        w, h = self.size
        if box is not None:
            x0, y0, x1, y1 = box
            px, py = (x1 - x0) * o["pad"], (y1 - y0) * o["pad"]
            p0 = (int(max(0, x0 - px)), int(max(0, y0 - py)))
            p1 = (int(min(w - 1, x1 + px)), int(min(h - 1, y1 + py)))
            cv2.rectangle(img, p0, p1, o["box"], 1, cv2.LINE_AA)
            if o["text"]:
                cv2.putText(img, "id 1 hand", (p0[0], max(6, p0[1] - 2)), cv2.FONT_HERSHEY_PLAIN,
                            max(0.4, h / 300), (255, 255, 255), 1, cv2.LINE_AA)
        if o["corner"]:
            cv2.putText(img, f"{(t * 83) % 1000:03d} ms", (2, h - 3), cv2.FONT_HERSHEY_PLAIN,
                        max(0.4, h / 300), (255, 255, 255), 1, cv2.LINE_AA)
        return img


def motion_kernel(dx: float, dy: float) -> np.ndarray | None:
    """A normalised line kernel along (dx, dy) px: the smear of an object moving that far during
    the exposure; None when it moves less than a pixel and a half."""
    length = math.hypot(dx, dy)
    if length < 1.5:
        return None
    n = int(math.ceil(length)) | 1
    k = np.zeros((n, n), np.float32)
    c = n // 2
    cv2.line(k, (int(round(c - dx / 2)), int(round(c - dy / 2))),
             (int(round(c + dx / 2)), int(round(c + dy / 2))), 1.0, 1, cv2.LINE_AA)
    return k / max(float(k.sum()), 1e-6)
