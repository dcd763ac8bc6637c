"""Everything around the hand: appearance styles, backgrounds, a moving distractor, the camera.

A `Style` says what a clip may look like (skin palette, background families, noise, blur, hand
size). `STYLES["default"]` is what `lcr-edge synth` trains on; `STYLES["new-user"]` draws skin
tones, a background family and camera noise that the default never uses, to stand in for a user
the model has not seen (fine-tuning tests). A `Scene` is one clip's (or stream's) fixed draw of a
style: colours, background image, distractor path and camera drift, all from one numpy Generator.

>>> import numpy as np
>>> scene = Scene.sample(np.random.default_rng(0), (176, 100), STYLES["default"], frames=4)
>>> scene.frame(0, hand=None).shape
(100, 176, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import cv2
import numpy as np

from training.synth.hand import Pose, draw_hand

BGR = tuple[int, int, int]
NORMAL_QUANTILES = np.array([NormalDist().inv_cdf((i + 0.5) / 256) for i in range(256)])
PAD = 6  # camera drift margin (px) around the visible frame


@dataclass(frozen=True)
class Style:
    """What clips may look like. Ranges are (low, high), drawn uniformly per clip.

    skin: BGR anchor tones; a clip's skin interpolates between two neighbouring anchors.
    backgrounds: families, drawn uniformly: gradient, texture, stripes, clutter, office.
    hand_size: hand length (wrist to middle fingertip) as a fraction of the frame height.
    noise: camera noise sigma (grey levels). blur: probability of a soft focus.
    distractor: probability of a moving object; person: of a person (head, torso) behind the hand.
    light_change: probability of a lighting change (drift or a step) during the clip.
    """

    skin: tuple[BGR, ...]
    backgrounds: tuple[str, ...]
    sleeves: tuple[BGR, ...]
    hand_size: tuple[float, float] = (0.34, 0.48)
    noise: tuple[float, float] = (1.0, 6.0)
    blur: float = 0.3
    distractor: float = 0.5
    person: float = 0.6
    light_change: float = 0.4


# Training skin anchors run from light to dark brown; the new user's tones (rosy-pale, deep
# olive, grey-blue cast under a cold light) lie off that line.
DEFAULT_SKIN: tuple[BGR, ...] = ((170, 195, 235), (140, 175, 225), (110, 150, 205), (90, 130, 185),
                                 (70, 105, 160), (50, 80, 125), (40, 60, 95))
NEW_USER_SKIN: tuple[BGR, ...] = ((175, 170, 240), (150, 165, 225), (70, 120, 110), (120, 110, 120))

STYLES: dict[str, Style] = {
    "default": Style(skin=DEFAULT_SKIN,
                     backgrounds=("gradient", "texture", "stripes", "clutter"),
                     sleeves=((90, 60, 40), (40, 40, 40), (200, 200, 200), (40, 40, 150),
                              (60, 120, 60), (150, 110, 60), (30, 90, 160))),
    # A plain studio: one gradient behind the hand, nobody else in view, little noise. Small models
    # learn it from 80 clips a class on a CPU in minutes; "default" needs far more clips or time.
    "studio": Style(skin=DEFAULT_SKIN, backgrounds=("gradient",),
                    sleeves=((90, 60, 40), (40, 40, 40), (200, 200, 200), (40, 40, 150)),
                    hand_size=(0.40, 0.50), noise=(0.5, 2.0), blur=0.0, distractor=0.0, person=0.0,
                    light_change=0.0),
    "new-user": Style(skin=NEW_USER_SKIN, backgrounds=("office",),
                      sleeves=((120, 40, 120), (20, 150, 200)), hand_size=(0.30, 0.44),
                      noise=(6.0, 9.0), blur=0.5, distractor=0.7, person=0.9),
}


def get_style(style: str | Style | None) -> Style:
    from lcr_edge.errors import LCRError

    if style is None:
        return STYLES["default"]
    if isinstance(style, Style):
        return style
    if style not in STYLES:
        raise LCRError(f"unknown synth style {style!r}; known: {', '.join(STYLES)}")
    return STYLES[style]


def _colour(rng, lo=0, hi=255) -> BGR:
    return tuple(int(c) for c in rng.integers(lo, hi, 3))


def _cast(c, cast) -> BGR:
    return tuple(int(min(255, v * k)) for v, k in zip(c, cast, strict=True))


def _luma(c) -> float:
    return 0.114 * c[0] + 0.587 * c[1] + 0.299 * c[2]


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


BACKGROUNDS = {"gradient": _gradient, "texture": _texture, "stripes": _stripes,
               "clutter": _clutter, "office": _office}


def _person(rng, img, skin, w, h) -> None:
    """A person behind the hand: torso and head, darker than the hand (further from the light)."""
    cx = int(rng.uniform(0.3, 0.7) * w)
    shirt = _colour(rng, 20, 230)
    cv2.ellipse(img, (cx, int(1.15 * h)), (int(0.3 * w), int(0.55 * h)), 0, 0, 360, shirt, -1,
                cv2.LINE_AA)
    face = tuple(int(c * rng.uniform(0.6, 0.85)) for c in skin)
    cv2.ellipse(img, (cx, int(0.38 * h)), (int(0.1 * h + 4), int(0.16 * h + 4)), 0, 0, 360, face,
                -1, cv2.LINE_AA)
    hair = _colour(rng, 0, 90)
    cv2.ellipse(img, (cx, int(0.3 * h)), (int(0.1 * h + 5), int(0.1 * h + 3)), 0, 180, 360, hair,
                -1, cv2.LINE_AA)


@dataclass
class Scene:
    """One clip's fixed appearance and camera; `frame(t, hand)` renders frame t (BGR HxWx3)."""

    size: tuple[int, int]
    background: np.ndarray  # (H + 2 PAD) x (W + 2 PAD) x 3
    skin: BGR
    sleeve: BGR
    hand_size: float  # px
    side: int
    drift: np.ndarray  # frames x 2 camera offsets (int px)
    brightness: np.ndarray  # frames: light level (1 = as sampled)
    noise_pos: np.ndarray | None  # uint8 noise fields (added / subtracted)
    noise_neg: np.ndarray | None
    noise_offsets: np.ndarray  # frames x 2
    blur: int  # 0 or an odd Gaussian kernel size
    distractor: dict | None

    @classmethod
    def sample(cls, rng: np.random.Generator, size: tuple[int, int], style: Style,
               frames: int) -> Scene:
        w, h = size
        bw, bh = w + 2 * PAD, h + 2 * PAD
        a, b = sorted(rng.integers(0, len(style.skin), 2))
        t = rng.random()
        skin = tuple(int(style.skin[a][i] * (1 - t) + style.skin[b][i] * t) for i in range(3))
        family = style.backgrounds[int(rng.integers(0, len(style.backgrounds)))]
        bg = BACKGROUNDS[family](rng, bw, bh)
        if rng.random() < style.person:
            _person(rng, bg, skin, bw, bh)
        # keep the hand visible: most of the time the background differs from the skin in brightness
        if rng.random() < 0.9:
            s, m = _luma(skin), float(cv2.cvtColor(bg, cv2.COLOR_BGR2GRAY).mean())
            if abs(m - s) < 45:
                up, down = s + 45 - m, s - 45 - m
                beta = up if (m >= s and s + 45 < 235) or s - 45 < 20 else down
                bg = cv2.convertScaleAbs(bg, alpha=1.0, beta=beta)
        # camera: slow drift of a few px, light gain per frame (drift or a step), noise, blur
        steps = rng.normal(0, 0.35, (frames, 2)).cumsum(0) if rng.random() < 0.6 else \
            np.zeros((frames, 2))
        drift = np.clip(np.round(steps), -PAD, PAD).astype(int)
        # light: a colour cast and exposure fixed per clip (baked into every colour below), and a
        # brightness ramp or step per frame
        cast = rng.uniform(0.75, 1.2) * np.array(
            [rng.uniform(0.88, 1.12), 1.0, rng.uniform(0.88, 1.12)])
        bg = cv2.multiply(bg, (float(cast[0]), float(cast[1]), float(cast[2]), 0.0))
        skin = _cast(skin, cast)
        ramp = np.ones(frames)
        if rng.random() < style.light_change:
            if rng.random() < 0.5:
                ramp = np.linspace(1.0, rng.uniform(0.7, 1.3), frames)
            else:
                ramp[int(rng.integers(1, max(2, frames))):] = rng.uniform(0.7, 1.3)
        sigma = rng.uniform(*style.noise)
        noise_pos = noise_neg = None
        if sigma >= 0.5:
            # Gaussian noise from random bytes through the normal quantile function (a lookup
            # table): several times cheaper than drawing normals
            u = np.frombuffer(rng.bytes((h + 8) * (w + 8) * 3), np.uint8).reshape(h + 8, w + 8, 3)
            q = np.round(NORMAL_QUANTILES * sigma)
            noise_pos = cv2.LUT(u, np.clip(q, 0, 255).astype(np.uint8))
            noise_neg = cv2.LUT(u, np.clip(-q, 0, 255).astype(np.uint8))
        noise_offsets = rng.integers(0, 9, (frames, 2))
        blur = int(rng.choice([3, 5])) if rng.random() < style.blur else 0
        distractor = None
        if rng.random() < style.distractor:
            r = rng.uniform(0.06, 0.18) * h
            start = rng.uniform(0, 1, 2) * (bw, bh)
            velocity = rng.normal(0, 1, 2) * rng.uniform(0.2, 1.2) * w / max(frames, 1) * 0.5
            distractor = {"r": r, "start": start, "v": velocity, "colour": _colour(rng),
                          "kind": int(rng.integers(0, 2)), "angle": rng.uniform(0, 180)}
            distractor["colour"] = _cast(distractor["colour"], cast)
        L = rng.uniform(*style.hand_size) * h
        side = 1 if rng.random() < 0.5 else -1
        sleeve = _cast(style.sleeves[int(rng.integers(0, len(style.sleeves)))], cast)
        return cls(size, bg, skin, sleeve, L, side, drift, ramp, noise_pos, noise_neg,
                   noise_offsets, blur, distractor)

    def frame(self, t: int, hand: Pose | None) -> np.ndarray:
        """Frame t with the hand drawn in `hand` (image coordinates of the visible frame)."""
        w, h = self.size
        t_cam = min(t, len(self.drift) - 1)
        dx, dy = self.drift[t_cam]
        img = self.background[PAD + dy:PAD + dy + h, PAD + dx:PAD + dx + w].copy()
        d = self.distractor
        if d is not None:
            cx, cy = d["start"] + d["v"] * t - (PAD + dx, PAD + dy)
            centre = (int(cx * 16), int(cy * 16))
            axes = (int(d["r"] * 16), int(d["r"] * 0.6 * 16))
            if d["kind"] == 0:
                cv2.ellipse(img, centre, axes, d["angle"] + 3 * t, 0, 360, d["colour"], -1,
                            cv2.LINE_AA, 4)
            else:
                cv2.circle(img, centre, axes[0], d["colour"], -1, cv2.LINE_AA, 4)
        if hand is not None and (dx or dy):  # the camera's drift moves the hand too
            hand = hand.moved(x=hand.x - dx, y=hand.y - dy)
        draw_hand(img, hand, self.skin, self.sleeve)
        gain = float(self.brightness[t_cam])
        if abs(gain - 1.0) > 0.01:
            img = cv2.convertScaleAbs(img, alpha=gain)
        if self.noise_pos is not None:
            oy, ox = self.noise_offsets[t_cam]
            img = cv2.add(img, self.noise_pos[oy:oy + h, ox:ox + w])
            img = cv2.subtract(img, self.noise_neg[oy:oy + h, ox:ox + w])
        if self.blur:
            img = cv2.GaussianBlur(img, (self.blur, self.blur), 0)
        return img
