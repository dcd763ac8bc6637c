"""A drawn hand: a pose (where the hand is and how it is held) and a cheap cv2 rasteriser.

The hand lives in its own frame: origin at the palm centre, unit = hand length L (wrist to the tip
of the middle finger), x towards the little finger, y towards the fingers. `Pose` places that frame
in the image (x, y in pixels, `size` = L in pixels, `angle` clockwise in degrees as seen in the
image, `side` = +1 or -1 mirrors the hand left/right) and shapes it: per-finger extension, spread,
a thumb-index pinch and `pitch` (tilt towards (+) or away from (-) the camera, seen as
foreshortening). Fingers are chains of capsules whose joints bend towards the camera; a bent
segment is drawn foreshortened, so a fist seen from the palm side shows the fingers folded over
the palm.

>>> import numpy as np
>>> img = np.zeros((100, 176, 3), np.uint8)
>>> draw_hand(img, Pose(x=88, y=60, size=40), skin=(120, 160, 210))
>>> bool(img[60, 88].any())
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

SHIFT = 4  # cv2 fixed-point bits: sub-pixel positions, so slow motion is smooth
ONE = 1 << SHIFT

# Palm outline in hand units (x towards the little finger, y towards the fingers).
PALM = np.array([(-0.15, -0.26), (0.13, -0.26), (0.19, -0.02), (0.18, 0.18), (0.10, 0.25),
                 (-0.10, 0.26), (-0.19, 0.20), (-0.21, 0.00)])
# Fingers: index, middle, ring, little. Knuckle position, direction (deg from +y, positive
# towards the little finger), segment lengths, width.
KNUCKLES = ((-0.145, 0.22), (-0.045, 0.25), (0.055, 0.23), (0.145, 0.18))
FINGER_DIRS = (-7.0, 0.0, 6.0, 13.0)
FINGER_SEGS = ((0.20, 0.13, 0.11), (0.22, 0.15, 0.12), (0.21, 0.14, 0.11), (0.16, 0.10, 0.09))
FINGER_WIDTH = (0.085, 0.09, 0.085, 0.072)
THUMB_BASE = (-0.16, -0.12)
THUMB_SEGS = (0.19, 0.15, 0.12)
THUMB_WIDTH = 0.10
# Maximum bend of the three joints of a finger (deg) when fully curled (extension 0).
CURL = (85.0, 100.0, 70.0)


@dataclass(frozen=True)
class Pose:
    """Where the hand is and how it is held (see the module docstring for the frame).

    ext: extension of (thumb, index, middle, ring, little) in [0, 1] (0 curled, 1 straight).
    spread: -1 fingertips gathered to a point, 0 relaxed, 1 spread wide.
    pinch: 0 thumb and index apart, 1 their tips touch.
    thumb_angle: thumb direction, degrees away from the fingers (towards the thumb side).
    arm: draw the forearm; arm_angle: its direction (the `angle` an upright hand would need for
    the forearm to point that way; 0 = straight down), None = in line with the hand.
    """

    x: float
    y: float
    size: float
    angle: float = 0.0
    pitch: float = 0.0
    ext: tuple[float, float, float, float, float] = (1.0, 1.0, 1.0, 1.0, 1.0)
    spread: float = 0.0
    pinch: float = 0.0
    thumb_angle: float = 45.0
    side: int = 1
    arm: bool = True
    arm_angle: float | None = None

    def moved(self, **changes) -> Pose:
        return replace(self, **changes)


def _bent_chain(base, direction_deg, segs, ext, toward=None):
    """Joint positions (hand units) of a chain of segments bending towards the camera.

    A segment whose accumulated bend is b shows cos(b) of its length along the finger direction
    (negative past 90 deg: it folds back over the palm). `toward` (deg) optionally turns the
    folded part sideways (the thumb folds across the palm)."""
    pts = [base]
    bend = 0.0
    d = math.radians(direction_deg)
    for seg, curl in zip(segs, CURL, strict=True):
        bend += (1.0 - ext) * curl
        along = seg * math.cos(math.radians(bend))
        if toward is not None and bend > 40:
            d = d + (math.radians(toward) - d) * min(1.0, (bend - 40) / 120)
        px, py = pts[-1]
        pts.append((px + along * math.sin(d), py + along * math.cos(d)))
    return pts


def hand_parts(pose: Pose) -> dict:
    """The hand's outline in hand units: palm polygon, finger and thumb joint chains, forearm.

    Returns {"palm": 8x2, "fingers": 4 lists of 4 joints (index..little), "thumb": 4 joints,
    "arm": 2x2 (wrist, elbow side)}."""
    spread = pose.spread
    fingers = []
    for i in range(4):
        kx, ky = KNUCKLES[i]
        d = FINGER_DIRS[i]
        ext = pose.ext[i + 1]
        if spread >= 0:
            d = d * (1.0 + 1.8 * spread) + (i - 1.5) * 4.0 * spread
        else:  # gather: fingers lean towards a point above the middle knuckle
            g = -spread
            d = d * (1 - g) + (-(kx + 0.03) * 140.0) * g
            ext = ext * (1 - 0.3 * g)
        if i == 0 and pose.pinch > 0:  # index bends down towards the thumb
            d = d - 35.0 * pose.pinch
            ext = ext * (1 - 0.35 * pose.pinch)
        fingers.append(_bent_chain((kx, ky), d, FINGER_SEGS[i], ext))
    t_ext = pose.ext[0]
    t_dir = -pose.thumb_angle
    if spread >= 0:
        t_dir -= 25.0 * spread
    else:
        t_dir += 40.0 * -spread
        t_ext *= 1 - 0.2 * -spread
    if pose.pinch > 0:
        t_dir += 30.0 * pose.pinch
    thumb = _bent_chain(THUMB_BASE, t_dir, THUMB_SEGS, t_ext, toward=150.0)
    return {"palm": PALM, "fingers": fingers, "thumb": thumb,
            "arm": np.array([(-0.01, -0.2), (-0.03, -1.6)])}


def _transform(pose: Pose, pts) -> np.ndarray:
    """Hand units -> fixed-point image coordinates (int32, SHIFT bits)."""
    pts = np.asarray(pts, np.float64)
    phi = pose.pitch * math.radians(70)
    x = pts[:, 0] * pose.side * (1.0 + 0.45 * math.sin(phi) * (pts[:, 1] + 0.26))
    y = pts[:, 1] * math.cos(phi) * (1.0 + 0.08 * math.sin(phi))
    a = math.radians(pose.angle)
    ca, sa = math.cos(a), math.sin(a)
    # image y points down: an upright hand has its fingers at -y; clockwise rotation by a
    ix = pose.x + pose.size * (x * ca + y * sa)
    iy = pose.y + pose.size * (x * sa - y * ca)
    return np.round(np.stack([ix, iy], 1) * ONE).astype(np.int32)


def _capsules(img, chain, width_px, colour, outline, outline_px):
    chain = chain.reshape(-1, 1, 2)
    if outline_px:
        # the outline without anti-aliasing: 3x cheaper, and the fill drawn over it is smooth
        cv2.polylines(img, [chain], False, outline, width_px + 2 * outline_px, cv2.LINE_8, SHIFT)
    cv2.polylines(img, [chain], False, colour, width_px, cv2.LINE_AA, SHIFT)


def draw_hand(img: np.ndarray, pose: Pose | None, skin, sleeve=(90, 60, 40)) -> None:
    """Draw `pose` into the BGR uint8 image `img` (HxWx3) in place; None draws nothing.

    skin: BGR fill colour; the outline is a darker skin shade (it keeps the hand's silhouette
    visible to Canny even on a background of the same brightness)."""
    if pose is None:
        return
    skin = tuple(int(c) for c in skin)
    dark = tuple(int(c * 0.55) for c in skin)
    light = tuple(min(255, int(c * 1.06 + 6)) for c in skin)
    sleeve = tuple(int(c) for c in sleeve)
    parts = hand_parts(pose)
    L = pose.size
    line = max(1, int(round(L / 45)))
    # one transform for all points (the per-call overhead dominates at these sizes)
    chains = [parts["thumb"]] + parts["fingers"]
    pts = _transform(pose, np.concatenate([parts["arm"], parts["palm"], *chains]))
    arm, palm = pts[:2], pts[2:2 + len(PALM)]
    if pose.arm_angle is not None:  # the forearm keeps its own direction (e.g. while turning)
        a = math.radians(pose.arm_angle)
        reach = 1.4 * L * ONE
        arm = np.stack([arm[0], arm[0] + np.round([-math.sin(a) * reach, math.cos(a) * reach])])
        arm = arm.astype(np.int32)
    if pose.arm:
        wrist_w = max(2, int(0.30 * L))
        cuff = (arm[0] * 3 + arm[1] * 2) // 5
        _capsules(img, np.stack([arm[0], cuff]), wrist_w, skin, dark, line)
        _capsules(img, np.stack([cuff, arm[1]]), int(wrist_w * 1.35), sleeve,
                  tuple(int(c * 0.6) for c in sleeve), line)
    cv2.fillPoly(img, [palm], skin, cv2.LINE_AA, SHIFT)
    cv2.polylines(img, [palm], True, dark, line, cv2.LINE_AA, SHIFT)
    # the thumb goes under the fingers when folded, above the palm
    at = 2 + len(PALM)
    for chain, w in zip(chains, (THUMB_WIDTH,) + FINGER_WIDTH, strict=True):
        _capsules(img, pts[at:at + len(chain)], max(2, int(round(w * L))), light, dark, line)
        at += len(chain)


def hand_box(pose: Pose) -> tuple[float, float, float, float]:
    """Image-space bounding box (x0, y0, x1, y1) of palm, fingers and thumb (not the forearm)."""
    parts = hand_parts(pose)
    pts = np.concatenate([parts["palm"], parts["thumb"], *parts["fingers"]])
    p = _transform(pose, pts).astype(np.float64) / ONE
    return float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())


def fingertips(pose: Pose) -> np.ndarray:
    """Image coordinates (px) of the five fingertips, 5x2 float: thumb, index, middle, ring, little.

    >>> tips = fingertips(Pose(x=88, y=60, size=40))
    >>> bool(tips[2, 1] < 60)  # an upright hand: the middle fingertip is above the palm centre
    True
    """
    parts = hand_parts(pose)
    tips = [parts["thumb"][-1]] + [f[-1] for f in parts["fingers"]]
    return _transform(pose, tips).astype(np.float64) / ONE
