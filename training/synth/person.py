"""The person behind the hand: torso in clothes, shoulders, neck, a shaded face with eyes, brows,
nose, mouth, hair, sometimes glasses or a beard, as a webcam sees someone sitting in front of it.

`draw_person` paints into a background image and returns where the shoulders are, so the hand's
forearm can come from the body as it does in real clips.

>>> import numpy as np
>>> img = np.zeros((100, 176, 3), np.uint8)
>>> body = draw_person(np.random.default_rng(0), img, skin=(120, 160, 210))
>>> sorted(body)
['head', 'head_size', 'shoulders']
"""

from __future__ import annotations

import cv2
import numpy as np


def _c(v) -> tuple[int, int, int]:
    return tuple(int(min(255, max(0, x))) for x in v)


def _shaded_ellipse(img, centre, axes, colour, light: float, angle=0.0) -> None:
    """An ellipse lit from one side: a darker rim and a lighter core, drawn as three layers."""
    cx, cy = centre
    ax, ay = axes
    cv2.ellipse(img, (int(cx), int(cy)), (max(1, int(ax)), max(1, int(ay))), angle, 0, 360,
                _c(np.array(colour) * 0.78), -1, cv2.LINE_AA)
    off = light * ax * 0.18
    cv2.ellipse(img, (int(cx + off), int(cy - 0.05 * ay)), (max(1, int(ax * 0.86)),
                max(1, int(ay * 0.9))), angle, 0, 360, _c(colour), -1, cv2.LINE_AA)
    cv2.ellipse(img, (int(cx + 2 * off), int(cy - 0.15 * ay)), (max(1, int(ax * 0.45)),
                max(1, int(ay * 0.5))), angle, 0, 360, _c(np.array(colour) * 1.08 + 6), -1,
                cv2.LINE_AA)


def draw_person(rng: np.random.Generator, img: np.ndarray, skin) -> dict:
    """Paint a person into `img` (BGR, in place); returns {"head": (x, y), "head_size": px,
    "shoulders": [(x, y), (x, y)]} in image pixels (left and right in the image)."""
    h, w = img.shape[:2]
    skin = np.array(skin, np.float32) * rng.uniform(0.75, 0.95)  # further from the light
    head_h = rng.uniform(0.18, 0.42) * h  # half-height of the face ellipse x2
    cx = rng.uniform(0.3, 0.7) * w
    # the face sits anywhere from the upper third to the bottom edge (a laptop camera looking up)
    cy = rng.uniform(0.25, 0.75) * h if rng.random() < 0.8 else rng.uniform(0.75, 0.95) * h
    light = rng.uniform(-1, 1)
    ax, ay = head_h * rng.uniform(0.36, 0.44), head_h * 0.5
    # torso: shoulders a head-height and a half wide, below the chin
    shirt = rng.uniform(20, 235, 3) * (rng.uniform(0.3, 1.0) if rng.random() < 0.5 else 1.0)
    neck_y = cy + ay * 0.9
    sh_y = neck_y + head_h * rng.uniform(0.25, 0.45)
    half = head_h * rng.uniform(1.1, 1.6)
    torso = np.array([(cx - half, sh_y + 0.1 * head_h), (cx - half * 0.8, sh_y - 0.05 * head_h),
                      (cx + half * 0.8, sh_y - 0.05 * head_h), (cx + half, sh_y + 0.1 * head_h),
                      (cx + half * 1.15, h + head_h), (cx - half * 1.15, h + head_h)], np.int32)
    cv2.fillPoly(img, [torso], _c(shirt), cv2.LINE_AA)
    cv2.ellipse(img, (int(cx - half * 0.85), int(sh_y + 0.12 * head_h)),
                (int(0.3 * head_h), int(0.2 * head_h)), 0, 0, 360, _c(shirt), -1, cv2.LINE_AA)
    cv2.ellipse(img, (int(cx + half * 0.85), int(sh_y + 0.12 * head_h)),
                (int(0.3 * head_h), int(0.2 * head_h)), 0, 0, 360, _c(shirt), -1, cv2.LINE_AA)
    if rng.random() < 0.5:  # a collar or print: clothes are rarely one flat colour
        cv2.ellipse(img, (int(cx), int(sh_y - 0.02 * head_h)), (int(0.28 * head_h), int(0.2 * head_h)),
                    0, 0, 180, _c(shirt * rng.uniform(0.5, 1.3)), max(1, int(head_h / 12)),
                    cv2.LINE_AA)
    # neck
    nw = ax * 0.55
    cv2.rectangle(img, (int(cx - nw), int(cy)), (int(cx + nw), int(sh_y)), _c(skin * 0.8), -1)
    # hair behind the head (long hair falls to the shoulders)
    hair = rng.uniform(5, 90, 3) if rng.random() < 0.85 else rng.uniform(90, 200, 3)
    style = rng.choice(["short", "long", "bald", "cap"], p=[0.5, 0.3, 0.1, 0.1])
    if style == "long":
        cv2.ellipse(img, (int(cx), int(cy + 0.2 * ay)), (int(ax * 1.25), int(ay * 1.25)), 0, 0, 360,
                    _c(hair), -1, cv2.LINE_AA)
    _shaded_ellipse(img, (cx, cy), (ax, ay), skin, light)
    if style in ("short", "long"):
        cv2.ellipse(img, (int(cx), int(cy - 0.35 * ay)), (int(ax * 1.08), int(ay * 0.75)), 0, 180,
                    360, _c(hair), -1, cv2.LINE_AA)
    elif style == "cap":
        cv2.ellipse(img, (int(cx), int(cy - 0.45 * ay)), (int(ax * 1.1), int(ay * 0.6)), 0, 180, 360,
                    _c(rng.uniform(0, 255, 3)), -1, cv2.LINE_AA)
    # features: brows, eyes, nose shadow, mouth; seen a little from the side sometimes
    turn = rng.uniform(-0.25, 0.25) * ax
    ey = cy - 0.1 * ay
    dark = _c(skin * 0.35)
    for s in (-1, 1):
        ex = cx + turn + s * ax * 0.42
        cv2.ellipse(img, (int(ex), int(ey)), (max(1, int(ax * 0.16)), max(1, int(ay * 0.06))), 0, 0,
                    360, dark, -1, cv2.LINE_AA)
        cv2.line(img, (int(ex - ax * 0.2), int(ey - ay * 0.16)), (int(ex + ax * 0.2),
                 int(ey - ay * 0.18)), _c(hair * 0.8), max(1, int(ay / 14)), cv2.LINE_AA)
    if rng.random() < 0.3:  # glasses
        frame = _c(rng.uniform(0, 80, 3))
        for s in (-1, 1):
            cv2.ellipse(img, (int(cx + turn + s * ax * 0.42), int(ey)),
                        (max(2, int(ax * 0.3)), max(2, int(ay * 0.16))), 0, 0, 360, frame,
                        max(1, int(ay / 18)), cv2.LINE_AA)
    cv2.line(img, (int(cx + turn), int(ey + 0.1 * ay)), (int(cx + turn + 0.08 * ax),
             int(cy + 0.28 * ay)), _c(skin * 0.7), max(1, int(ay / 14)), cv2.LINE_AA)
    mouth_y = cy + 0.5 * ay
    if rng.random() < 0.2:  # beard
        cv2.ellipse(img, (int(cx + turn), int(cy + 0.55 * ay)), (int(ax * 0.8), int(ay * 0.45)), 0, 0,
                    180, _c(hair), -1, cv2.LINE_AA)
    cv2.ellipse(img, (int(cx + turn), int(mouth_y)), (max(1, int(ax * 0.3)), max(1, int(ay * 0.05))),
                0, 0, 360, _c(skin * np.array([0.55, 0.55, 0.75])), -1, cv2.LINE_AA)
    return {"head": (float(cx), float(cy)), "head_size": float(head_h),
            "shoulders": [(float(cx - half * 0.85), float(sh_y)), (float(cx + half * 0.85), float(sh_y))]}
