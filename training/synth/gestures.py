"""How each gesture moves: a registry from class name to a motion builder.

A builder takes a numpy Generator and a `Ctx` (frame size, hand length, handedness) and returns a
`Motion`: `pose(u)` for gesture progress u in [0, 1] (None: no hand), plus what the idle frames
around the gesture show (`pre`/`post`: "hold" the first/last pose, "absent", or "any").
`GESTURES` holds the 27 Jester classes in `lcr_edge.labels.JESTER_LABELS` order; `EXTRA_GESTURES`
holds gestures that are not in Jester (to stand in for users' new gesture names). Directions are
Jester's: as the actor sees them. The camera faces the actor, so in the recorded, unmirrored image
"Swiping Left" moves the hand towards larger x and "Turning Hand Clockwise" turns it
counterclockwise (builders below take image directions: `_translate(dx, ...)` in image x,
`_turn(image_clockwise)`).

>>> import numpy as np
>>> m = GESTURES["Swiping Left"](np.random.default_rng(0), Ctx(176, 100, 40.0, 1))
>>> m.pose(0.0).x < m.pose(1.0).x
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lcr_edge.labels import JESTER_LABELS
from lcr_edge.training.synth.hand import Pose

OPEN = (1.0, 1.0, 1.0, 1.0, 1.0)
FIST = (0.15, 0.0, 0.0, 0.0, 0.0)
TWO = (0.25, 1.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Ctx:
    w: int
    h: int
    L: float  # hand length in px
    side: int  # +1 / -1: which way the thumb sits
    head: tuple[float, float] | None = None  # the person's face (px), when one is in view


@dataclass(frozen=True)
class Motion:
    pose: Callable[[float], Pose | None]
    pre: str = "any"
    post: str = "any"
    brisk: bool = False  # one stroke that people may do quickly (a style's `quick` applies)


def smooth(u: float) -> float:
    u = min(1.0, max(0.0, u))
    return u * u * (3 - 2 * u)


def _ease(rng) -> Callable[[float], float]:
    """A random mix of linear and smoothstep timing (speed profiles differ between clips)."""
    k = rng.uniform(0.3, 1.0)
    return lambda u: (1 - k) * min(1.0, max(0.0, u)) + k * smooth(u)


def _lerp(a, b, t):
    return a + (b - a) * t


def _base(rng, c: Ctx, ext=OPEN, x=None, y=None, **kw) -> Pose:
    """A pose near the frame centre with small random variations of shape."""
    ext = tuple(min(1.0, max(0.0, e + rng.normal(0, 0.05))) for e in ext)
    return Pose(x=c.w * rng.uniform(0.35, 0.65) if x is None else x,
                y=c.h * rng.uniform(0.55, 0.7) if y is None else y,
                size=c.L, angle=kw.pop("angle", rng.uniform(-12, 12)), ext=ext,
                spread=kw.pop("spread", rng.uniform(-0.15, 0.35)), side=c.side,
                thumb_angle=kw.pop("thumb_angle", rng.uniform(35, 55)), **kw)


def _translate(dx: float, dy: float, ext=OPEN, size=(0.35, 0.55)):
    """Swipes and two-finger slides: the hand crosses a good part of the frame along (dx, dy)."""

    def build(rng, c: Ctx) -> Motion:
        ease = _ease(rng)
        if dx:
            dist = rng.uniform(*size) * c.w
            xc, yc = c.w * rng.uniform(0.4, 0.6), c.h * rng.uniform(0.5, 0.68)
        else:
            dist = rng.uniform(size[0] * 0.9, size[1] * 0.9) * c.h
            xc, yc = c.w * rng.uniform(0.3, 0.7), c.h * rng.uniform(0.5, 0.62)
        p0 = _base(rng, c, ext, xc - dx * dist / 2, yc - dy * dist / 2,
                   angle=rng.uniform(-25, 25) if ext is TWO else rng.uniform(-12, 12))
        arc = rng.uniform(-0.06, 0.06) * c.h
        swing = rng.uniform(5, 20) * (dx or dy)
        pitch = rng.uniform(-0.3, 0.3)

        def pose(u):
            e = ease(u)
            return p0.moved(x=p0.x + dx * dist * e + dy * arc * math.sin(math.pi * u),
                            y=p0.y + dy * dist * e + dx * arc * math.sin(math.pi * u),
                            angle=p0.angle + swing * (e - 0.5),
                            pitch=pitch * math.sin(math.pi * u))
        return Motion(pose, brisk=True)
    return build


def _scale(away: bool, ext=OPEN):
    """Pushing away shrinks the hand (and lifts it a little); pulling in grows it."""

    def build(rng, c: Ctx) -> Motion:
        ease = _ease(rng)
        near, far = rng.uniform(1.05, 1.2), rng.uniform(0.5, 0.65)
        s0, s1 = (near, far) if away else (far, near)
        p0 = _base(rng, c, ext, y=c.h * rng.uniform(0.55, 0.66),
                   angle=rng.uniform(-20, 20) if ext is TWO else rng.uniform(-10, 10))
        lift = rng.uniform(0.02, 0.08) * c.h * (1 if away else -1)

        def pose(u):
            e = ease(u)
            s = _lerp(s0, s1, e)
            return p0.moved(size=c.L * s, y=p0.y - lift * (e - 0.5) + 0.2 * c.L * (s - 0.85))
        return Motion(pose, brisk=True)
    return build


def _roll(forward: bool):
    """The hand rolls about a horizontal axis: fingers tilt towards (forward) or away from the
    camera first, the hand circles down-and-near or up-and-far; 1-2 turns."""

    def build(rng, c: Ctx) -> Motion:
        turns = rng.uniform(1.0, 1.8)
        p0 = _base(rng, c, spread=rng.uniform(-0.2, 0.2))
        amp_y = rng.uniform(0.06, 0.12) * c.h
        sgn = 1 if forward else -1

        def pose(u):
            ph = 2 * math.pi * turns * u
            return p0.moved(pitch=0.75 * sgn * math.sin(ph), y=p0.y + sgn * amp_y * math.sin(ph),
                            size=c.L * (1 + 0.12 * sgn * math.sin(ph)))
        return Motion(pose)
    return build


def _turn(image_clockwise: bool):
    """The hand turns at the wrist like a dial; `image_clockwise` as seen in the recorded image."""

    def build(rng, c: Ctx) -> Motion:
        ease = _ease(rng)
        amount = rng.uniform(70, 130) * (1 if image_clockwise else -1)
        p0 = _base(rng, c, angle=-amount / 2 + rng.uniform(-15, 15), spread=rng.uniform(0, 0.5))
        # the forearm follows only a little: the hand turns at the wrist
        arm0, follow = rng.uniform(-15, 15), rng.uniform(0.1, 0.35)
        return Motion(lambda u: p0.moved(angle=p0.angle + amount * ease(u),
                                         arm_angle=arm0 + follow * amount * (ease(u) - 0.5)))
    return build


def _zoom_hand(zoom_in: bool):
    """Full hand: fingertips gathered to a point open into a wide spread (in) or the reverse."""

    def build(rng, c: Ctx) -> Motion:
        ease = _ease(rng)
        wide = rng.uniform(0.7, 1.0)
        a, b = (-1.0, wide) if zoom_in else (wide, -1.0)
        p0 = _base(rng, c)
        grow = rng.uniform(0.0, 0.08) * (1 if zoom_in else -1)
        return Motion(lambda u: p0.moved(spread=_lerp(a, b, ease(u)),
                                         size=c.L * (1.1 + grow * ease(u))))
    return build


def _zoom_two(zoom_in: bool):
    """Thumb and index pinched open apart (in) or closed together (out); other fingers curled."""

    def build(rng, c: Ctx) -> Motion:
        ease = _ease(rng)
        a, b = (1.0, 0.0) if zoom_in else (0.0, 1.0)
        p0 = _base(rng, c, ext=(1.0, 1.0, 0.05, 0.05, 0.05), angle=rng.uniform(-25, 25),
                   spread=rng.uniform(0.0, 0.4), thumb_angle=rng.uniform(45, 60))
        p0 = p0.moved(size=c.L * 1.15)  # done close to the camera: the pinch must be visible
        return Motion(lambda u: p0.moved(pinch=_lerp(a, b, ease(u))))
    return build


def _thumb(up: bool):
    """A fist with the thumb pointing up (down), jabbed a little up (down) and held."""

    def build(rng, c: Ctx) -> Motion:
        ease = _ease(rng)
        ta = rng.uniform(75, 90)
        angle = c.side * ta + (0 if up else 180) + rng.uniform(-12, 12)
        p0 = _base(rng, c, ext=(1.0, 0.0, 0.0, 0.0, 0.0), angle=angle, thumb_angle=ta,
                   y=c.h * rng.uniform(0.45, 0.6))
        # the forearm comes up from below and the wrist bends the fist sideways
        p0 = p0.moved(size=c.L * 0.9, arm_angle=c.side * rng.uniform(15, 50))
        jab = rng.uniform(0.12, 0.22) * c.h * (1 if up else -1)
        reach = rng.uniform(0.35, 0.6)

        def pose(u):
            e = ease(min(1.0, u / reach))
            return p0.moved(y=p0.y + jab * (1 - e), size=p0.size * (0.92 + 0.08 * e))
        return Motion(pose, pre="absent" if rng.random() < 0.5 else "hold")
    return build


def _shake(rng, c: Ctx) -> Motion:
    # few, wide swings: a model sampling 8-16 of 36 frames must still see them as swings
    amp, turns = rng.uniform(22, 38), rng.uniform(1.25, 2.0)
    sway = rng.uniform(0.02, 0.05) * c.w
    p0 = _base(rng, c, spread=rng.uniform(0, 0.6))

    def pose(u):
        s = math.sin(2 * math.pi * turns * u)
        return p0.moved(angle=p0.angle + amp * s, x=p0.x + sway * s)
    return Motion(pose)


def _stop(rng, c: Ctx) -> Motion:
    """Open palm, fingers together, raised into view and held towards the camera."""
    ease = _ease(rng)
    p0 = _base(rng, c, spread=rng.uniform(-0.35, -0.05), y=c.h * rng.uniform(0.5, 0.62))
    low = c.h + 0.25 * c.L
    reach = rng.uniform(0.3, 0.5)

    def pose(u):
        e = ease(min(1.0, u / reach))
        return p0.moved(y=_lerp(low, p0.y, e), size=c.L * (0.92 + 0.12 * e))
    return Motion(pose, pre="absent", post="hold")


def _drum(rng, c: Ctx) -> Motion:
    """Fingers tap one after another (index to little) while the hand stays put, tilted down."""
    turns = rng.uniform(2.0, 3.5)
    lag = rng.uniform(0.7, 1.1)
    angle = rng.uniform(-30, 30) + (c.side * rng.uniform(60, 90) if rng.random() < 0.4 else 0)
    p0 = _base(rng, c, ext=(0.6, 0.8, 0.8, 0.8, 0.8), angle=angle, spread=rng.uniform(0, 0.4))
    p0 = p0.moved(pitch=rng.uniform(0.2, 0.5))

    def pose(u):
        ph = 2 * math.pi * turns * u
        ext = [0.6] + [0.45 + 0.55 * max(0.0, math.sin(ph - i * lag)) for i in range(4)]
        return p0.moved(ext=tuple(ext))
    return Motion(pose, pre="hold", post="hold")


def _nothing(rng, c: Ctx) -> Motion:
    """No hand (most clips), or a hand resting still, low in the frame."""
    if rng.random() < 0.55:
        return Motion(lambda u: None, pre="absent", post="absent")
    p0 = _base(rng, c, ext=tuple(rng.uniform(0, 1, 5)), y=c.h * rng.uniform(0.6, 0.95),
               angle=rng.uniform(-40, 40))
    dx, dy = rng.normal(0, 0.8, 2)
    return Motion(lambda u: p0.moved(x=p0.x + dx * u, y=p0.y + dy * u), pre="hold", post="hold")


def _other(rng, c: Ctx) -> Motion:
    """Random non-gesture motion: the hand wanders between a few nearby poses (scratching,
    reaching, fidgeting), small and without a consistent direction; sometimes it leaves."""
    n = int(rng.integers(3, 6))
    p0 = _base(rng, c, ext=tuple(rng.uniform(0, 1, 5)), y=c.h * rng.uniform(0.5, 0.8))
    if c.head is not None and rng.random() < 0.5:  # to the face: glasses, hair, chin, nose
        p0 = p0.moved(x=c.head[0] + rng.normal(0, 0.25) * c.L, y=c.head[1] + rng.normal(0.2, 0.25) * c.L,
                      angle=rng.uniform(-60, 60))
    keys = [p0.moved(x=p0.x + rng.normal(0, 0.08) * c.w, y=p0.y + rng.normal(0, 0.08) * c.h,
                     angle=p0.angle + rng.normal(0, 15), ext=tuple(rng.uniform(0, 1, 5)),
                     spread=rng.uniform(-0.3, 0.6), pitch=rng.uniform(-0.3, 0.3))
            for _ in range(n)]
    leave = rng.random() < 0.25

    def pose(u):
        if leave and 0.4 < u < 0.7:
            return None
        s = u * (n - 1)
        i = min(int(s), n - 2)
        t = smooth(s - i)
        a, b = keys[i], keys[i + 1]
        return a.moved(x=_lerp(a.x, b.x, t), y=_lerp(a.y, b.y, t),
                       angle=_lerp(a.angle, b.angle, t), spread=_lerp(a.spread, b.spread, t),
                       pitch=_lerp(a.pitch, b.pitch, t),
                       ext=tuple(_lerp(p, q, t) for p, q in zip(a.ext, b.ext, strict=True)))
    return Motion(pose)


# Image directions: the actor's left is the image's right (larger x); their clockwise, the image's
# counterclockwise.
GESTURES: dict[str, Callable[[np.random.Generator, Ctx], Motion]] = {
    "Swiping Left": _translate(1, 0),
    "Swiping Right": _translate(-1, 0),
    "Swiping Down": _translate(0, 1),
    "Swiping Up": _translate(0, -1),
    "Pushing Hand Away": _scale(True),
    "Pulling Hand In": _scale(False),
    "Sliding Two Fingers Left": _translate(1, 0, TWO, (0.25, 0.4)),
    "Sliding Two Fingers Right": _translate(-1, 0, TWO, (0.25, 0.4)),
    "Sliding Two Fingers Down": _translate(0, 1, TWO, (0.3, 0.42)),
    "Sliding Two Fingers Up": _translate(0, -1, TWO, (0.3, 0.42)),
    "Pushing Two Fingers Away": _scale(True, TWO),
    "Pulling Two Fingers In": _scale(False, TWO),
    "Rolling Hand Forward": _roll(True),
    "Rolling Hand Backward": _roll(False),
    "Turning Hand Clockwise": _turn(image_clockwise=False),
    "Turning Hand Counterclockwise": _turn(image_clockwise=True),
    "Zooming In With Full Hand": _zoom_hand(True),
    "Zooming Out With Full Hand": _zoom_hand(False),
    "Zooming In With Two Fingers": _zoom_two(True),
    "Zooming Out With Two Fingers": _zoom_two(False),
    "Thumb Up": _thumb(True),
    "Thumb Down": _thumb(False),
    "Shaking Hand": _shake,
    "Stop Sign": _stop,
    "Drumming Fingers": _drum,
    "No gesture": _nothing,
    "Doing other things": _other,
}
assert tuple(GESTURES) == JESTER_LABELS


def _circle(rng, c: Ctx) -> Motion:
    """Index finger extended, the hand draws one circle (either way round)."""
    r = rng.uniform(0.12, 0.2) * c.h
    sgn = 1 if rng.random() < 0.5 else -1
    start = rng.uniform(0, 2 * math.pi)
    p0 = _base(rng, c, ext=(0.2, 1.0, 0.05, 0.05, 0.05), y=c.h * rng.uniform(0.55, 0.65))

    def pose(u):
        a = start + sgn * 2 * math.pi * smooth(u)
        return p0.moved(x=p0.x + r * math.cos(a), y=p0.y + r * math.sin(a))
    return Motion(pose)


def _wave(rng, c: Ctx) -> Motion:
    """Bye-bye: the raised hand flaps all four fingers down and up together, two to three times."""
    turns = rng.uniform(2.0, 3.0)
    p0 = _base(rng, c, y=c.h * rng.uniform(0.45, 0.6), spread=rng.uniform(-0.2, 0.2))

    def pose(u):
        f = 0.5 + 0.5 * math.cos(2 * math.pi * turns * u)
        return p0.moved(ext=(1.0,) + (0.25 + 0.75 * f,) * 4, x=p0.x + 2.0 * math.sin(6 * u))
    return Motion(pose)


def _peace(rng, c: Ctx) -> Motion:
    """Index and middle finger in a V, raised into view and held."""
    p0 = _base(rng, c, ext=TWO, spread=rng.uniform(0.8, 1.0), y=c.h * rng.uniform(0.5, 0.6))
    low, reach = c.h + 0.2 * c.L, rng.uniform(0.3, 0.5)
    return Motion(lambda u: p0.moved(y=_lerp(low, p0.y, smooth(u / reach))), pre="absent",
                  post="hold")


def _ok(rng, c: Ctx) -> Motion:
    """Thumb and index touching in a ring, the other fingers up, brought forward and held."""
    p0 = _base(rng, c, ext=OPEN, spread=rng.uniform(0.1, 0.4), thumb_angle=rng.uniform(45, 55))
    return Motion(lambda u: p0.moved(pinch=smooth(2 * u), size=c.L * (0.9 + 0.1 * smooth(u))))


EXTRA_GESTURES: dict[str, Callable[[np.random.Generator, Ctx], Motion]] = {
    "Drawing Circle": _circle,
    "Waving Hello": _wave,
    "Peace Sign": _peace,
    "OK Sign": _ok,
}


def motion_builder(label: str):
    """The motion builder of a Jester class or an extra gesture; LCRError if unknown."""
    from lcr_edge.errors import LCRError

    if label in GESTURES:
        return GESTURES[label]
    if label in EXTRA_GESTURES:
        return EXTRA_GESTURES[label]
    raise LCRError(f"unknown gesture {label!r}; known: the 27 Jester classes and "
                   f"{', '.join(EXTRA_GESTURES)}")
