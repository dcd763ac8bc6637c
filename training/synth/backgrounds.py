"""Backgrounds behind the hand: procedural families, rooms, and photographs when a folder of them
is available.

Every family is `f(rng, w, h) -> BGR uint8 (h, w, 3)`. "room" draws what webcams mostly see behind a
person: a wall lit unevenly, a ceiling edge in perspective, a door or a window, furniture, a
curtain, a picture. "photo" crops a photograph (see `photo_files`); without photographs it falls
back to a room.

>>> import numpy as np
>>> BACKGROUNDS["room"](np.random.default_rng(0), 64, 48).shape
(48, 64, 3)
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

# Where photographs are looked for when $LCR_SYNTH_PHOTOS is not set: the wallpaper folders of
# Debian's desktop packages (gnome-backgrounds, mate-backgrounds; see docs/synth.md for licences).
PHOTO_DIRS = ("/usr/share/backgrounds", "/usr/share/wallpapers")
PHOTO_EXTS = (".jpg", ".jpeg", ".png", ".webp")


def _colour(rng, lo=0, hi=255) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(lo, hi, 3))


def _muted(rng, lo=60, hi=235, sat=0.35) -> tuple[int, int, int]:
    """A desaturated colour, as walls, furniture and clothes mostly are."""
    grey = rng.uniform(lo, hi)
    c = grey + (rng.uniform(-1, 1, 3) * sat * min(grey, 255 - grey))
    return tuple(int(v) for v in np.clip(c, 0, 255))


def _gradient(rng, w, h) -> np.ndarray:
    a, b = np.array(_colour(rng, 20, 235), np.float32), np.array(_colour(rng, 20, 235), np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    xs = (np.arange(w, dtype=np.float32) / w - 0.5) * math.cos(ang)
    ys = (np.arange(h, dtype=np.float32) / h - 0.5) * math.sin(ang)
    t = np.clip(xs[None, :] + ys[:, None] + 0.5, 0, 1)
    # per-channel 2-D ops and a merge: broadcasting against a length-3 last axis is slow in numpy
    return cv2.merge([(a[c] + (b[c] - a[c]) * t).astype(np.uint8) for c in range(3)])


def _texture(rng, w, h) -> np.ndarray:
    cells = int(rng.integers(3, 12))
    base = np.array(_colour(rng, 40, 200), np.float32)
    amp = rng.uniform(30, 80)
    small = base + amp * (rng.uniform(0, 1, (cells, max(2, cells * w // h), 3)) - 0.5)
    img = cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    grain = rng.standard_normal((h, w), dtype=np.float32) * rng.uniform(2, 10)
    img += cv2.merge([grain, grain, grain])
    return np.clip(img, 0, 255).astype(np.uint8)


def _stripes(rng, w, h) -> np.ndarray:
    img = _gradient(rng, w, h)
    period = rng.uniform(8, 30)
    c = _colour(rng, 0, 255)
    vertical = rng.random() < 0.6
    n = int((w if vertical else h) / period) + 1
    for i in range(n):
        p = int(i * period)
        t = int(rng.uniform(1, period / 2))
        if vertical:
            cv2.rectangle(img, (p, 0), (p + t, h), c, -1)
        else:
            cv2.rectangle(img, (0, p), (w, p + t), c, -1)
    return cv2.addWeighted(img, 0.6, _gradient(rng, w, h), 0.4, 0)


def _clutter(rng, w, h) -> np.ndarray:
    img = _gradient(rng, w, h) if rng.random() < 0.5 else _texture(rng, w, h)
    for _ in range(int(rng.integers(4, 14))):
        c = _colour(rng)
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        s = int(rng.integers(4, max(5, h // 3)))
        kind = rng.integers(0, 3)
        if kind == 0:
            cv2.rectangle(img, (x, y), (x + s, y + int(s * rng.uniform(0.4, 2))), c, -1)
        elif kind == 1:
            cv2.circle(img, (x, y), s // 2, c, -1, cv2.LINE_AA)
        else:
            cv2.line(img, (x, y), (int(rng.integers(0, w)), int(rng.integers(0, h))), c,
                     int(rng.integers(1, 4)), cv2.LINE_AA)
    return img


def _office(rng, w, h) -> np.ndarray:
    """Held out of the default style: a wall, a window and a bookshelf with coloured spines."""
    wall = np.array(_colour(rng, 150, 230), np.float32)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = wall.astype(np.uint8)
    wx = int(rng.uniform(0.0, 0.5) * w)
    cv2.rectangle(img, (wx, int(0.05 * h)), (wx + w // 3, int(0.5 * h)), (235, 225, 200), -1)
    cv2.rectangle(img, (wx, int(0.05 * h)), (wx + w // 3, int(0.5 * h)), (60, 60, 60), 2)
    sx = int(rng.uniform(0.45, 0.75) * w)
    for shelf in range(3):
        y0 = int((0.15 + 0.28 * shelf) * h)
        cv2.rectangle(img, (sx, y0 + int(0.22 * h)), (w, y0 + int(0.25 * h)), (40, 70, 100), -1)
        x = sx
        while x < w:
            bw = int(rng.integers(2, 6))
            cv2.rectangle(img, (x, y0 + int(rng.integers(0, 6))), (x + bw, y0 + int(0.22 * h)),
                          _colour(rng, 30, 220), -1)
            x += bw + 1
    return img


def _shade(img: np.ndarray, rng, strength: float) -> np.ndarray:
    """Uneven light: a smooth gain field (a lamp to one side, darker corners)."""
    h, w = img.shape[:2]
    cx, cy = rng.uniform(-0.3, 1.3) * w, rng.uniform(-0.5, 0.8) * h
    ys, xs = np.ogrid[:h, :w]
    d = np.sqrt(((xs - cx) / w) ** 2 + ((ys - cy) / h) ** 2).astype(np.float32)
    gain = 1.0 + strength * (0.6 - d)
    return np.clip(img.astype(np.float32) * gain[..., None], 0, 255).astype(np.uint8)


def _room(rng, w, h) -> np.ndarray:
    """An indoor wall behind the person: ceiling edge, door or window, furniture, curtain."""
    wall = _muted(rng, 120, 235, 0.3)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = wall
    # ceiling: a line (or a corner of two) high in the frame, seen from below in perspective
    if rng.random() < 0.6:
        y0, y1 = rng.uniform(-0.1, 0.35, 2) * h
        ceiling = tuple(int(min(255, c * rng.uniform(1.0, 1.15))) for c in wall)
        corner = rng.uniform(0.2, 0.8) * w
        ym = min(y0, y1) - rng.uniform(0, 0.15) * h
        pts = np.array([(0, 0), (w, 0), (w, y1), (corner, ym), (0, y0)], np.int32)
        cv2.fillPoly(img, [pts], ceiling, cv2.LINE_AA)
        cv2.polylines(img, [pts[2:]], False, tuple(int(c * 0.8) for c in wall), 1, cv2.LINE_AA)
        if rng.random() < 0.5:  # the vertical edge where two walls meet
            side = tuple(int(c * rng.uniform(0.75, 0.9)) for c in wall)
            cv2.fillPoly(img, [np.array([(corner, ym), (w if rng.random() < 0.5 else 0, y1),
                                         (w if rng.random() < 0.5 else 0, h), (corner, h)],
                                        np.int32)], side, cv2.LINE_AA)
    for _ in range(int(rng.integers(1, 4))):
        kind = rng.choice(["door", "window", "shelf", "curtain", "picture", "plant"])
        x = int(rng.uniform(-0.1, 0.9) * w)
        if kind == "door":
            dw, top = int(rng.uniform(0.18, 0.35) * w), int(rng.uniform(0.0, 0.3) * h)
            frame = _muted(rng, 30, 230, 0.4)
            cv2.rectangle(img, (x, top), (x + dw, h), frame, -1)
            inner = tuple(int(c * rng.uniform(0.3, 0.8)) for c in frame)
            m = max(1, dw // 10)
            cv2.rectangle(img, (x + m, top + m), (x + dw - m, h), inner, -1)
        elif kind == "window":
            ww, wh = int(rng.uniform(0.15, 0.35) * w), int(rng.uniform(0.25, 0.5) * h)
            top = int(rng.uniform(0.0, 0.4) * h)
            sky = tuple(int(v) for v in np.clip(np.array(_muted(rng, 200, 255, 0.2)) + 20, 0, 255))
            cv2.rectangle(img, (x, top), (x + ww, top + wh), sky, -1)
            bar = _muted(rng, 40, 240, 0.2)
            cv2.rectangle(img, (x, top), (x + ww, top + wh), bar, max(1, w // 80))
            cv2.line(img, (x + ww // 2, top), (x + ww // 2, top + wh), bar, max(1, w // 100))
        elif kind == "shelf":
            sw, top = int(rng.uniform(0.2, 0.45) * w), int(rng.uniform(0.2, 0.6) * h)
            wood = _muted(rng, 30, 150, 0.5)
            cv2.rectangle(img, (x, top), (x + sw, h), wood, -1)
            for shelf in range(int(rng.integers(2, 5))):
                y = top + int((shelf + 0.5) * 0.18 * h)
                xx = x + 2
                while xx < x + sw - 2 and y < h:
                    bw = int(rng.integers(2, 6))
                    cv2.rectangle(img, (xx, y - int(rng.uniform(0.06, 0.14) * h)), (xx + bw, y),
                                  _muted(rng, 20, 230, 0.6), -1)
                    xx += bw + int(rng.integers(0, 3))
        elif kind == "curtain":
            cw = int(rng.uniform(0.15, 0.4) * w)
            base = np.array(_colour(rng, 40, 240), np.float32)
            folds = rng.uniform(3, 8)
            xs = np.arange(cw, dtype=np.float32)
            shade = 0.75 + 0.25 * np.cos(2 * math.pi * folds * xs / max(cw, 1))
            strip = (base[None, :] * shade[:, None]).astype(np.uint8)
            x0, x1 = max(0, x), min(w, x + cw)
            if x1 > x0:
                img[:, x0:x1] = strip[x0 - x:x1 - x][None, :, :]
        elif kind == "picture":
            pw, ph = int(rng.uniform(0.08, 0.2) * w), int(rng.uniform(0.1, 0.25) * h)
            top = int(rng.uniform(0.05, 0.4) * h)
            cv2.rectangle(img, (x, top), (x + pw, top + ph), _colour(rng), -1)
            cv2.rectangle(img, (x, top), (x + pw, top + ph), _muted(rng, 20, 200), max(1, w // 90))
        else:  # plant: a cluster of dark green blobs
            cy = int(rng.uniform(0.3, 0.9) * h)
            for _ in range(int(rng.integers(5, 12))):
                g = (int(rng.integers(20, 70)), int(rng.integers(60, 140)), int(rng.integers(20, 70)))
                cv2.ellipse(img, (x + int(rng.normal(0, 0.04 * w)), cy + int(rng.normal(0, 0.06 * h))),
                            (int(rng.uniform(2, 0.05 * w + 3)), int(rng.uniform(1, 0.03 * w + 2))),
                            rng.uniform(0, 180), 0, 360, g, -1, cv2.LINE_AA)
    img = _shade(img, rng, rng.uniform(0.1, 0.6))
    # the wall is out of focus: the camera focuses on the person
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 1.6))


@lru_cache(maxsize=1)
def photo_files() -> tuple[Path, ...]:
    """Photographs for the "photo" family: $LCR_SYNTH_PHOTOS (a folder, searched recursively),
    else `PHOTO_DIRS`. Empty when there are none (the family then draws rooms)."""
    env = os.environ.get("LCR_SYNTH_PHOTOS")
    roots = [Path(env)] if env else [Path(d) for d in PHOTO_DIRS]
    files = []
    for root in roots:
        if root.is_dir():
            files += [p for p in root.rglob("*") if p.suffix.lower() in PHOTO_EXTS and p.is_file()]
    return tuple(sorted(files))


@lru_cache(maxsize=64)
def _load_photo(path: Path) -> np.ndarray | None:
    """A photograph shrunk to at most 480 px wide (crops are small; this keeps decoding cheap)."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        return None
    scale = 480 / max(img.shape[1], 1)
    if scale < 1:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return img


def _photo(rng, w, h) -> np.ndarray:
    """A random crop of a photograph, a little out of focus; a room when there are none."""
    files = photo_files()
    photo = _load_photo(files[int(rng.integers(0, len(files)))]) if files else None
    if photo is None:
        return _room(rng, w, h)
    ph, pw = photo.shape[:2]
    frac = rng.uniform(0.3, 1.0)  # the crop's share of the photo's largest box of our aspect
    cw = min(pw, ph * w / h) * frac
    ch = cw * h / w
    x0, y0 = rng.uniform(0, pw - cw), rng.uniform(0, ph - ch)
    crop = photo[int(y0):int(y0 + ch), int(x0):int(x0 + cw)]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    img = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
    # wallpapers are vivid: mute them towards indoor colours
    grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    keep = rng.uniform(0.3, 0.9)
    img = cv2.addWeighted(img, keep, grey, 1 - keep, 0)
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 2.0))


BACKGROUNDS = {"gradient": _gradient, "texture": _texture, "stripes": _stripes,
               "clutter": _clutter, "office": _office, "room": _room, "photo": _photo}
