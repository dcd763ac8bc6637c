"""Everything around the hand: appearance styles, backgrounds, a person, a moving distractor, the
camera.

A `Style` says what a clip may look like (skin palette, background families, the person behind,
lighting, camera). `STYLES["default"]` is what `lcr-edge synth` trains on; `STYLES["new-user"]`
draws skin tones, a background family and camera noise that the default never uses, to stand in
for a user the model has not seen (its hands centred, as the held-out sets measured before the
framing knobs). `STYLES["drawn"]` is close to the earlier look (flat drawn hands, no camera
effects) and `STYLES["scene"]` the new scene through a clean camera, kept to measure what the
realism buys; `STYLES["webcam"]` is the default without its framing knobs, to measure what they
add. A `Scene` is one clip's (or stream's) fixed draw of a style: colours, background image,
person, distractor path, camera, all from one numpy Generator.

>>> import numpy as np
>>> scene = Scene.sample(np.random.default_rng(0), (176, 100), STYLES["default"], frames=4)
>>> scene.frame(0, hand=None).shape
(100, 176, 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from lcr_edge.training.synth.backgrounds import BACKGROUNDS
from lcr_edge.training.synth.camera import Camera
from lcr_edge.training.synth.hand import Look, Pose, draw_hand, hand_box
from lcr_edge.training.synth.person import draw_person

BGR = tuple[int, int, int]
PAD = 6  # camera drift margin (px) around the visible frame


@dataclass(frozen=True)
class Style:
    """What clips may look like. Ranges are (low, high), drawn uniformly per clip; probabilities
    are per clip. Each knob is shown in docs/synth.md with a contact sheet.

    skin: BGR anchor tones; a clip's skin interpolates between two neighbouring anchors.
    backgrounds: families, drawn uniformly (see training/synth/backgrounds.py).
    hand_size: hand length (wrist to middle fingertip) as a fraction of the frame height.
    person: probability of a person (face, hair, torso, clothes) behind the hand; the arm then
    comes from their shoulder. distractor: of a moving object.
    outline: range of the edge shade (1 = no drawn outline, 0.55 = a cartoon outline);
    shading: range of the light gradient across the hand. yaw: how far the hand may be turned
    edge-on (degrees). motion_blur: probability that moving hands smear (exposure fraction drawn
    per clip). occlusion: probability that the distractor passes in front of the hand.
    light_change: probability of a lighting change (drift or a step) during the clip.
    white_balance: spread of per-channel gains (log scale); tint: probability of a strong cast;
    exposure, gamma, contrast, saturation: ranges; vignette: probability.
    noise: camera noise sigma (grey levels). blur: probability of a soft focus. low_res:
    probability of a small, upscaled picture. jpeg: probability of the camera's own JPEG
    compression at jpeg_quality. refresh: probability that the picture changes only
    refresh_fps times a second (repeated frames, as in a recorded webcam window).
    overlay: probability of a demo program's box and text drawn over the picture.
    small_hand: probability that the hand is far from the camera, its length drawn from
    small_hand_size instead of hand_size (an arm stretched out, a person sitting back).
    off_centre: probability that the whole clip happens away from the frame's middle: every pose
    moves by off_centre_x times the width (either side) and off_centre_y times the height (down
    is positive: hands low in the frame and partly out of its bottom edge).
    quick: probability that a swipe, slide, push or pull takes quick_fraction of the clip instead
    of 50-80 % (real swipes cross the frame in a few frames, smeared).
    """

    skin: tuple[BGR, ...]
    backgrounds: tuple[str, ...]
    sleeves: tuple[BGR, ...]
    hand_size: tuple[float, float] = (0.25, 0.65)
    noise: tuple[float, float] = (1.0, 8.0)
    blur: float = 0.3
    distractor: float = 0.3
    person: float = 0.85
    light_change: float = 0.4
    outline: tuple[float, float] = (0.75, 0.95)
    shading: tuple[float, float] = (0.0, 0.5)
    yaw: tuple[float, float] = (0.0, 50.0)
    motion_blur: float = 0.6
    occlusion: float = 0.1
    white_balance: float = 0.08
    tint: float = 0.25
    exposure: tuple[float, float] = (0.7, 1.4)
    gamma: tuple[float, float] = (0.75, 1.3)
    contrast: tuple[float, float] = (0.65, 1.1)
    saturation: tuple[float, float] = (0.55, 1.2)
    vignette: float = 0.3
    low_res: float = 0.3
    jpeg: float = 0.5
    jpeg_quality: tuple[int, int] = (25, 80)
    refresh: float = 0.2
    refresh_fps: tuple[float, float] = (3.5, 6.0)
    overlay: float = 0.1
    small_hand: float = 0.2
    small_hand_size: tuple[float, float] = (0.13, 0.25)
    off_centre: float = 0.35
    off_centre_x: tuple[float, float] = (0.1, 0.3)
    off_centre_y: tuple[float, float] = (-0.1, 0.25)
    quick: float = 0.35
    quick_fraction: tuple[float, float] = (0.18, 0.4)


# Training skin anchors run from pale to dark brown; the new user's tones (rosy-pale, deep
# olive, grey-blue cast under a cold light) lie off that line.
DEFAULT_SKIN: tuple[BGR, ...] = ((185, 205, 240), (170, 195, 235), (140, 175, 225), (110, 150, 205),
                                 (90, 130, 185), (70, 105, 160), (50, 80, 125), (40, 60, 95))
NEW_USER_SKIN: tuple[BGR, ...] = ((175, 170, 240), (150, 165, 225), (70, 120, 110), (120, 110, 120))
SLEEVES: tuple[BGR, ...] = ((90, 60, 40), (40, 40, 40), (200, 200, 200), (40, 40, 150),
                            (60, 120, 60), (150, 110, 60), (30, 90, 160))
_NO_CAMERA = dict(outline=(0.55, 0.55), shading=(0.0, 0.0), yaw=(0.0, 0.0), motion_blur=0.0,
                  occlusion=0.0, white_balance=0.0, tint=0.0, exposure=(0.75, 1.2),
                  gamma=(1.0, 1.0), contrast=(1.0, 1.0), saturation=(1.0, 1.0), vignette=0.0,
                  low_res=0.0, jpeg=0.0, refresh=0.0, overlay=0.0)
# The framing knobs (small, off-centre, quick hands) came after the webcam look; the ablation
# styles and the held-out new-user style keep them off, so each renders what it rendered before.
_CENTRED = dict(small_hand=0.0, off_centre=0.0, quick=0.0)

STYLES: dict[str, Style] = {
    "default": Style(skin=DEFAULT_SKIN,
                     backgrounds=("room", "room", "room", "photo", "photo", "gradient", "texture",
                                  "stripes", "clutter"),
                     sleeves=SLEEVES),
    # Close to the earlier look: flat drawn hands with an outline over abstract backgrounds, no
    # camera effects.
    "drawn": Style(skin=DEFAULT_SKIN[1:], backgrounds=("gradient", "texture", "stripes", "clutter"),
                   sleeves=SLEEVES, hand_size=(0.34, 0.48), noise=(1.0, 6.0), distractor=0.5,
                   person=0.6, **_NO_CAMERA, **_CENTRED),
    # The webcam look's scene (person, rooms, photographs, shaded hands, arms) through a clean
    # camera: what the camera effects add is default minus this.
    "scene": Style(skin=DEFAULT_SKIN,
                   backgrounds=("room", "room", "room", "photo", "photo", "gradient", "texture",
                                "stripes", "clutter"),
                   sleeves=SLEEVES, noise=(1.0, 6.0),
                   **{**_NO_CAMERA, "outline": (0.75, 0.95), "shading": (0.0, 0.5),
                      "yaw": (0.0, 50.0)}, **_CENTRED),
    # The default before the framing knobs (every hand near the middle, 25-65 % of the height,
    # every gesture at its usual pace): what small, off-centre and quick hands add is default
    # minus this.
    "webcam": Style(skin=DEFAULT_SKIN,
                    backgrounds=("room", "room", "room", "photo", "photo", "gradient", "texture",
                                 "stripes", "clutter"),
                    sleeves=SLEEVES, **_CENTRED),
    # A plain studio: one gradient behind the hand, nobody else in view, little noise. Small models
    # learn it from 80 clips a class on a CPU in minutes.
    "studio": Style(skin=DEFAULT_SKIN, backgrounds=("gradient",), sleeves=SLEEVES[:4],
                    hand_size=(0.40, 0.50), noise=(0.5, 2.0), blur=0.0, distractor=0.0, person=0.0,
                    light_change=0.0, **_NO_CAMERA, **_CENTRED),
    "new-user": Style(skin=NEW_USER_SKIN, backgrounds=("office",),
                      sleeves=((120, 40, 120), (20, 150, 200)), hand_size=(0.30, 0.60),
                      noise=(6.0, 9.0), blur=0.5, distractor=0.5, person=0.9, **_CENTRED),
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


def _luma(c) -> float:
    return 0.114 * c[0] + 0.587 * c[1] + 0.299 * c[2]


@dataclass
class Scene:
    """One clip's fixed appearance and camera; `frame(t, hand)` renders frame t (BGR HxWx3)."""

    size: tuple[int, int]
    background: np.ndarray  # (H + 2 PAD) x (W + 2 PAD) x 3
    look: Look
    hand_size: float  # px
    side: int
    drift: np.ndarray  # frames x 2 camera offsets (int px)
    brightness: np.ndarray  # frames: light level (1 = as sampled)
    camera: Camera
    distractor: dict | None
    shoulder: tuple[float, float] | None = None  # background px of the arm's shoulder
    head: tuple[float, float] | None = None  # image px of the person's face, if any
    yaw: float = 0.0
    exposure: float = 0.0  # fraction of a frame's motion smeared into it
    offset: tuple[float, float] = (0.0, 0.0)  # px every pose is moved by (an off-centre clip)
    quick: bool = False  # swipes, slides, pushes and pulls are done quickly
    extras: dict = field(default_factory=dict)

    @property
    def skin(self) -> BGR:
        return self.look.skin

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
        side = 1 if rng.random() < 0.5 else -1
        shoulder = head = None
        if rng.random() < style.person:
            body = draw_person(rng, bg, skin)
            head = (body["head"][0] - PAD, body["head"][1] - PAD)
            # a right hand (side +1: thumb towards smaller x in the image) is on the image's left
            shoulder = body["shoulders"][0 if side > 0 else 1]
        # keep the hand visible: most of the time the background differs from the skin in brightness
        if rng.random() < 0.75:
            s, m = _luma(skin), float(cv2.cvtColor(bg, cv2.COLOR_BGR2GRAY).mean())
            if abs(m - s) < 35:
                up, down = s + 35 - m, s - 35 - m
                beta = up if (m >= s and s + 35 < 235) or s - 35 < 20 else down
                bg = cv2.convertScaleAbs(bg, alpha=1.0, beta=beta)
        # camera: slow drift of a few px, light gain per frame (drift or a step)
        steps = rng.normal(0, 0.35, (frames, 2)).cumsum(0) if rng.random() < 0.6 else \
            np.zeros((frames, 2))
        drift = np.clip(np.round(steps), -PAD, PAD).astype(int)
        ramp = np.ones(frames)
        if rng.random() < style.light_change:
            if rng.random() < 0.5:
                ramp = np.linspace(1.0, rng.uniform(0.7, 1.3), frames)
            else:
                ramp[int(rng.integers(1, max(2, frames))):] = rng.uniform(0.7, 1.3)
        camera = Camera.sample(rng, size, style, frames)
        distractor = None
        if rng.random() < style.distractor:
            r = rng.uniform(0.06, 0.18) * h
            start = rng.uniform(0, 1, 2) * (bw, bh)
            velocity = rng.normal(0, 1, 2) * rng.uniform(0.2, 1.2) * w / max(frames, 1) * 0.5
            distractor = {"r": r, "start": start, "v": velocity, "colour": _colour(rng),
                          "kind": int(rng.integers(0, 2)), "angle": rng.uniform(0, 180),
                          "front": rng.random() < style.occlusion}
        L = rng.uniform(*style.hand_size) * h
        # framing: knobs at 0 draw nothing, so styles without them keep their pixels
        if style.small_hand and rng.random() < style.small_hand:
            L = rng.uniform(*style.small_hand_size) * h
        offset = (0.0, 0.0)
        if style.off_centre and rng.random() < style.off_centre:
            side_x = 1 if rng.random() < 0.5 else -1
            offset = (side_x * rng.uniform(*style.off_centre_x) * w,
                      rng.uniform(*style.off_centre_y) * h)
        quick = bool(style.quick) and rng.random() < style.quick
        sleeve = style.sleeves[int(rng.integers(0, len(style.sleeves)))]
        look = Look(skin=skin, sleeve=sleeve, outline=rng.uniform(*style.outline),
                    light=rng.uniform(0, 360), contrast=rng.uniform(*style.shading),
                    sleeve_from=rng.uniform(0.0, 1.0))
        yaw = rng.uniform(*style.yaw)
        exposure = rng.uniform(0.3, 1.0) if rng.random() < style.motion_blur else 0.0
        return cls(size, bg, look, L, side, drift, ramp, camera, distractor, shoulder, head, yaw,
                   exposure, offset, quick)

    def _draw_distractor(self, img, t, dx, dy):
        d = self.distractor
        cx, cy = d["start"] + d["v"] * t - (PAD + dx, PAD + dy)
        centre = (int(cx * 16), int(cy * 16))
        axes = (int(d["r"] * 16), int(d["r"] * 0.6 * 16))
        if d["kind"] == 0:
            cv2.ellipse(img, centre, axes, d["angle"] + 3 * t, 0, 360, d["colour"], -1,
                        cv2.LINE_AA, 4)
        else:
            cv2.circle(img, centre, axes[0], d["colour"], -1, cv2.LINE_AA, 4)

    def frame(self, t: int, hand: Pose | None, prev: Pose | None = None) -> np.ndarray:
        """Frame t with the hand drawn in `hand` (image coordinates of the visible frame); `prev`,
        the pose one frame earlier, lets a moving hand smear (motion blur)."""
        w, h = self.size
        t_cam = min(t, len(self.drift) - 1)
        dx, dy = self.drift[t_cam]
        img = self.background[PAD + dy:PAD + dy + h, PAD + dx:PAD + dx + w].copy()
        d = self.distractor
        if d is not None and not d["front"]:
            self._draw_distractor(img, t, dx, dy)
        box = None
        if hand is not None:
            motion = None  # the smear: how far the hand moved since the frame before
            if prev is not None and self.exposure > 0:
                motion = (self.exposure * (hand.x - prev.x), self.exposure * (hand.y - prev.y))
            if self.yaw:
                hand = hand.moved(yaw=hand.yaw + self.yaw)
            ox, oy = self.offset[0] - dx, self.offset[1] - dy  # off-centre; the camera's drift
            if ox or oy:
                hand = hand.moved(x=hand.x + ox, y=hand.y + oy)
            shoulder = None
            if self.shoulder is not None:
                shoulder = (self.shoulder[0] - PAD - dx, self.shoulder[1] - PAD - dy)
            draw_hand(img, hand, look=self.look, shoulder=shoulder, motion=motion)
            if self.camera.overlay is not None:
                box = hand_box(hand)
        if d is not None and d["front"]:
            self._draw_distractor(img, t, dx, dy)
        gain = float(self.brightness[t_cam])
        if abs(gain - 1.0) > 0.01:
            img = cv2.convertScaleAbs(img, alpha=gain)
        return self.camera.apply(img, t_cam, box)
