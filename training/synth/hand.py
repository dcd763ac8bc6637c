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
    the forearm to point that way; 0 = straight down), None = in line with the hand (or towards
    the shoulder when `draw_hand` is given one).
    yaw: turn about the hand's long axis, degrees (0 = palm to the camera, 90 = edge-on, seen as
    a narrower hand).
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
    yaw: float = 0.0

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
    narrow = max(0.3, math.cos(math.radians(pose.yaw)))
    x = pts[:, 0] * pose.side * narrow * (1.0 + 0.45 * math.sin(phi) * (pts[:, 1] + 0.26))
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


@dataclass(frozen=True)
class Look:
    """How a hand is lit and dressed (fixed per clip). outline: the shade of the edges between
    fingers and around the hand (1 = none, 0.55 = a drawn outline); light: direction of the light
    in the image (degrees, 0 = from the right, 90 = from above) and `contrast` the strength of
    the shading across the hand; sleeve_from: where the sleeve starts along the forearm (0 = at
    the wrist, 1 = short sleeve: the whole forearm bare)."""

    skin: tuple[int, int, int] = (120, 160, 210)
    sleeve: tuple[int, int, int] = (90, 60, 40)
    outline: float = 0.55
    light: float = 90.0
    contrast: float = 0.0
    sleeve_from: float = 0.4


def _arm_chain(pose: Pose, wrist, L: float, shoulder) -> np.ndarray:
    """Forearm (and upper arm) joints in fixed-point pixels: wrist -> elbow -> shoulder when the
    shoulder is known and the forearm is free, else a straight forearm reaching out of the frame."""
    wrist = np.asarray(wrist, np.float64)
    if shoulder is not None and pose.arm_angle is None:
        sh = np.asarray(shoulder, np.float64) * ONE
        d = sh - wrist
        dist = float(np.hypot(*d))
        if dist > 0.6 * L * ONE:
            # the elbow hangs below the line wrist-shoulder
            elbow = wrist + 0.55 * d + np.array([0.0, 0.35 * min(dist, 2.2 * L * ONE)])
            return np.round(np.stack([wrist, elbow, sh])).astype(np.int32)
    if pose.arm_angle is not None:
        a = math.radians(pose.arm_angle)
        direction = np.array([-math.sin(a), math.cos(a)])
    else:  # in line with the hand
        a = math.radians(pose.angle)
        direction = np.array([-math.sin(a), math.cos(a)])
    return np.round(np.stack([wrist, wrist + direction * 3.2 * L * ONE])).astype(np.int32)


def _shade_hand(img: np.ndarray, layer: np.ndarray, mask: np.ndarray, pose: Pose, look: Look):
    """Composite the drawn hand `layer` (premultiplied over black) into `img` through `mask`,
    with a linear light gradient across the hand."""
    ys, xs = np.nonzero(mask[::2, ::2])
    if len(xs) == 0:
        return
    h, w = mask.shape
    x0, x1 = max(0, 2 * xs.min() - 2), min(w, 2 * xs.max() + 3)
    y0, y1 = max(0, 2 * ys.min() - 2), min(h, 2 * ys.max() + 3)
    a = mask[y0:y1, x0:x1].astype(np.float32) * (1.0 / 255)
    lay = layer[y0:y1, x0:x1].astype(np.float32)
    if look.contrast > 0:
        la = math.radians(look.light)
        gx = (np.arange(x0, x1, dtype=np.float32) - pose.x) * (math.cos(la) / pose.size)
        gy = (np.arange(y0, y1, dtype=np.float32) - pose.y) * (-math.sin(la) / pose.size)
        gain = np.clip(1.0 + look.contrast * (gx[None, :] + gy[:, None]), 0.45, 1.5)
        lay *= gain[..., None]
    roi = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = np.clip(roi * (1.0 - a[..., None]) + lay, 0, 255).astype(np.uint8)


def draw_hand(img: np.ndarray, pose: Pose | None, skin=None, sleeve=(90, 60, 40),
              look: Look | None = None, shoulder=None, motion=None) -> None:
    """Draw `pose` into the BGR uint8 image `img` (HxWx3) in place; None draws nothing.

    skin/sleeve: BGR colours (or give a `Look`); the outline is a darker skin shade (a drawn
    outline keeps the silhouette visible to Canny even on a background of the same brightness;
    real hands show only soft shading, `Look.outline` near 1). shoulder: the image point the arm
    comes from (a person behind the hand), else the forearm reaches out of the frame. motion:
    how far (dx, dy) px the hand moved during the exposure: it is smeared along that line."""
    if pose is None:
        return
    if look is None:
        look = Look(skin=tuple(int(c) for c in (skin if skin is not None else Look.skin)),
                    sleeve=tuple(int(c) for c in sleeve))
    skin = tuple(int(c) for c in look.skin)
    dark = tuple(int(c * look.outline) for c in skin)
    light = tuple(min(255, int(c * 1.06 + 6)) for c in skin)
    sleeve = tuple(int(c) for c in look.sleeve)
    sleeve_dark = tuple(int(c * (0.6 + 0.4 * (look.outline - 0.55) / 0.45)) for c in sleeve)
    parts = hand_parts(pose)
    L = pose.size
    line = max(1, int(round(L / 45)))
    # one transform for all points (the per-call overhead dominates at these sizes)
    chains = [parts["thumb"]] + parts["fingers"]
    pts = _transform(pose, np.concatenate([parts["arm"], parts["palm"], *chains]))
    palm = pts[2:2 + len(PALM)]
    arm = _arm_chain(pose, pts[0], L, shoulder) if pose.arm else None
    h, w = img.shape[:2]
    layer = np.zeros_like(img)
    mask = np.zeros((h, w), np.uint8)
    for canvas, mono in ((layer, False), (mask, True)):
        def col(c, mono=mono):
            return 255 if mono else c
        if arm is not None:
            wrist_w = max(2, int(0.30 * L))
            seg = arm[1] - arm[0]
            cuff = (arm[0] + seg * (0.15 + 0.85 * look.sleeve_from)).astype(np.int32)
            _capsules(canvas, np.stack([arm[0], cuff]), wrist_w, col(skin), col(dark), line)
            rest = np.concatenate([cuff[None], arm[1:]])
            _capsules(canvas, rest, int(wrist_w * 1.35), col(sleeve), col(sleeve_dark), line)
        cv2.fillPoly(canvas, [palm], col(skin), cv2.LINE_AA, SHIFT)
        cv2.polylines(canvas, [palm], True, col(dark), line, cv2.LINE_AA, SHIFT)
        # the thumb goes under the fingers when folded, above the palm
        at = 2 + len(PALM)
        for chain, fw in zip(chains, (THUMB_WIDTH,) + FINGER_WIDTH, strict=True):
            _capsules(canvas, pts[at:at + len(chain)], max(2, int(round(fw * L))), col(light),
                      col(dark), line)
            at += len(chain)
    if motion is not None:
        from lcr_edge.training.synth.camera import motion_kernel

        k = motion_kernel(*motion)
        if k is not None:
            layer = cv2.filter2D(layer, -1, k)
            mask = cv2.filter2D(mask, -1, k)
    _shade_hand(img, layer, mask, pose, look)


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
