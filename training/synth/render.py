"""Clips and streams: a Scene (appearance, camera) plus a timeline of hand poses, rendered.

>>> frames = render_clip("Swiping Left", seed=0, frames=8)
>>> len(frames), frames[0].shape, frames[0].dtype
(8, (100, 176, 3), dtype('uint8'))
>>> frames, events = render_stream(["Thumb Up", "Stop Sign"], seed=1)
>>> [e[0] for e in events]
['Thumb Up', 'Stop Sign']
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lcr_edge.errors import LCRError
from lcr_edge.labels import JESTER_FPS
from lcr_edge.training.synth.camera import refresh_schedule
from lcr_edge.training.synth.gestures import Ctx, Motion, motion_builder
from lcr_edge.training.synth.hand import Pose
from lcr_edge.training.synth.scene import Scene, Style, get_style

# A gesture occupies this fraction of a clip; idle frames (hand absent or still) fill the rest.
# A brisk one in a quick scene takes the style's quick_fraction instead.
GESTURE_FRACTION = (0.5, 0.8)


@dataclass(frozen=True)
class ClipInfo:
    """What a rendered clip shows: the hand's pose per frame (None: no hand) and the frames
    [start, end) in which the gesture moves."""

    label: str
    track: list[Pose | None]
    start: int
    end: int


def _check_size(size) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise LCRError(f"size must be (width, height), got {size!r}") from None
    if w < 16 or h < 16 or w > 4096 or h > 4096:
        raise LCRError(f"size must be between 16x16 and 4096x4096 pixels, got {w}x{h}")
    return w, h


def _hold(pose: Pose | None, t: int, amount: float = 0.4) -> Pose | None:
    """A held hand is never perfectly still: a sub-pixel tremor."""
    if pose is None:
        return None
    return pose.moved(x=pose.x + amount * math.sin(1.7 * t), y=pose.y + amount * math.cos(1.3 * t))


def _offscreen(pose: Pose, h: int, rng) -> Pose:
    """Where a hand comes from or goes to out of view: below the frame, a little to one side."""
    return pose.moved(x=pose.x + rng.uniform(-0.3, 0.3) * pose.size,
                      y=h + rng.uniform(0.5, 0.9) * pose.size, angle=pose.angle + rng.uniform(-20, 20))


def _travel(a: Pose, b: Pose, n: int) -> list[Pose]:
    """n poses moving smoothly from a towards b (b itself not included): a hand raised into view
    or lowered out of it, which real clips show around the gesture."""
    out = []
    for i in range(n):
        u = (i + 1) / (n + 1)
        e = u * u * (3 - 2 * u)
        out.append(b.moved(x=a.x + (b.x - a.x) * e, y=a.y + (b.y - a.y) * e,
                           angle=a.angle + (b.angle - a.angle) * e))
    return out


def _enter(track: list, end: int, first: Pose | None, room: int, h: int, rng) -> None:
    """Up to frame `end` (the last `room` frames before it are empty), raise the hand into view
    to `first` (70 %)."""
    if first is None or room < 2 or rng.random() >= 0.7:
        return
    n = min(room, int(rng.integers(2, 6)))
    track[end - n:end] = _travel(_offscreen(first, h, rng), first, n)


def _leave(track: list, at: int, last: Pose | None, room: int, h: int, rng) -> None:
    """From frame `at` on (an empty stretch of `room` frames), lower the hand out of view (70 %)."""
    if last is None or room < 2 or rng.random() >= 0.7:
        return
    n = min(room, int(rng.integers(2, 6)))
    track[at:at + n] = _travel(last, _offscreen(last, h, rng), n)


def _idle_mode(rng, wish: str) -> str:
    return wish if wish in ("hold", "absent") else ("hold" if rng.random() < 0.65 else "absent")


def _gesture_poses(motion: Motion, n: int) -> list[Pose | None]:
    return [motion.pose(i / max(1, n - 1)) for i in range(n)]


def _render(rng, scene: Scene, style: Style, track: list[Pose | None], fps: float = JESTER_FPS):
    """Frames of a pose track; with probability style.refresh the picture changes only a few
    times a second and the frames in between repeat it, as in a recorded webcam window."""
    shown = np.arange(len(track))
    if rng.random() < style.refresh:
        shown = refresh_schedule(rng, len(track), fps, rng.uniform(*style.refresh_fps))
    images: dict[int, np.ndarray] = {}
    for t in sorted(set(shown.tolist())):
        images[t] = scene.frame(t, track[t], track[t - 1] if t > 0 else None)
    return [images[int(s)] for s in shown]


def render_clip(label: str, seed: int, frames: int = 36, size: tuple[int, int] = (176, 100),
                style: str | Style | None = None, return_track: bool = False):
    """Render one clip of `label` (a Jester class or an extra gesture) -> list of `frames` BGR
    uint8 images (H x W x 3, size = (W, H)). The same (label, seed, frames, size, style) always
    gives the same pixels. With return_track=True, returns (frames, ClipInfo).

    The gesture fills a random 50-80 % of the clip; before and after it the hand is still (it
    holds its first/last pose) or absent, as in Jester.
    """
    if frames < 1:
        raise LCRError(f"a clip needs at least 1 frame, got {frames}")
    w, h = _check_size(size)
    style = get_style(style)
    build = motion_builder(label)
    rng = np.random.default_rng(seed)
    scene = Scene.sample(rng, (w, h), style, frames)
    motion = build(rng, Ctx(w, h, scene.hand_size, scene.side, scene.head))
    fraction = style.quick_fraction if scene.quick and motion.brisk else GESTURE_FRACTION
    n = min(frames, max(2, int(round(frames * rng.uniform(*fraction)))))
    start = int(rng.integers(0, frames - n + 1))
    poses = _gesture_poses(motion, n)
    pre, post = _idle_mode(rng, motion.pre), _idle_mode(rng, motion.post)
    track: list[Pose | None] = []
    for t in range(frames):
        if t < start:
            track.append(None if pre == "absent" else _hold(poses[0], t))
        elif t < start + n:
            track.append(poses[t - start])
        else:
            track.append(None if post == "absent" else _hold(poses[-1], t))
    if pre == "absent":
        _enter(track, start, poses[0], start, h, rng)
    if post == "absent":
        _leave(track, start + n, poses[-1], frames - start - n, h, rng)
    images = _render(rng, scene, style, track)
    if return_track:
        return images, ClipInfo(label, track, start, start + n)
    return images


def render_stream(labels: list[str], seed: int, idle_frames: tuple[int, int] = (8, 20),
                  gesture_frames: tuple[int, int] = (16, 28), size: tuple[int, int] = (176, 100),
                  style: str | Style | None = None, gaps: list[int] | None = None):
    """A long recording of one user doing `labels` in order, with idle gaps between them.

    Returns (frames, events): frames a list of BGR uint8 images; events a list of
    (label, start_frame, end_frame), end exclusive: the frames in which that gesture moves.
    Gaps last idle_frames[0]..idle_frames[1] frames (also before the first and after the last
    gesture); in a gap the hand holds its last pose for a while, then drops out of view, and may
    appear holding the next gesture's first pose just before it starts. `gaps` (len(labels) + 1
    frame counts) sets every gap's length instead, for long idle stretches. Same seed, same pixels.
    """
    w, h = _check_size(size)
    lo, hi = idle_frames
    g_lo, g_hi = gesture_frames
    if lo < 0 or hi < lo or g_lo < 2 or g_hi < g_lo:
        raise LCRError(f"need 0 <= idle_frames[0] <= idle_frames[1] and 2 <= gesture_frames[0] <= "
                       f"gesture_frames[1], got idle_frames={idle_frames}, "
                       f"gesture_frames={gesture_frames}")
    style = get_style(style)
    builders = [motion_builder(lab) for lab in labels]
    rng = np.random.default_rng(seed)
    drawn = [int(rng.integers(lo, hi + 1)) for _ in range(len(labels) + 1)]
    if gaps is not None and (len(gaps) != len(labels) + 1 or min(gaps) < 0):
        raise LCRError(f"gaps must be {len(labels) + 1} frame counts >= 0, got {gaps}")
    gaps = drawn if gaps is None else [int(g) for g in gaps]
    lengths = [int(rng.integers(g_lo, g_hi + 1)) for _ in labels]
    total = sum(gaps) + sum(lengths)
    scene = Scene.sample(rng, (w, h), style, max(1, total))
    ctx = Ctx(w, h, scene.hand_size, scene.side, scene.head)
    track: list[Pose | None] = []
    events = []
    last: Pose | None = None
    for i, label in enumerate(labels):
        motion = builders[i](rng, ctx)
        n = lengths[i]
        if scene.quick and motion.brisk:  # the same share of its usual length as in a clip
            usual = sum(GESTURE_FRACTION) / 2
            n = max(2, int(round(n * rng.uniform(*style.quick_fraction) / usual)))
        poses = _gesture_poses(motion, n)
        gap = gaps[i]
        keep = int(rng.integers(0, gap // 2 + 1)) if last is not None else 0
        lead = int(rng.integers(0, gap // 3 + 1)) if poses[0] is not None else 0
        lead = min(lead, gap - keep)
        at = len(track)
        for t in range(gap):
            if t < keep:
                track.append(_hold(last, len(track)))
            elif t >= gap - lead:
                track.append(_hold(poses[0], len(track)))
            else:
                track.append(None)
        empty = gap - keep - lead
        _leave(track, at + keep, last, empty // 2, h, rng)
        if not lead:
            _enter(track, at + gap, poses[0], empty - empty // 2, h, rng)
        events.append((label, len(track), len(track) + len(poses)))
        track.extend(poses)
        last = poses[-1]
    keep = int(rng.integers(0, gaps[-1] // 2 + 1))
    at = len(track)
    for t in range(gaps[-1]):
        track.append(_hold(last, len(track)) if t < keep else None)
    _leave(track, at + keep, last, gaps[-1] - keep, h, rng)
    return _render(rng, scene, style, track), events


def write_video(path: str | Path, frames: list[np.ndarray], fps: float = JESTER_FPS) -> Path:
    """Write BGR frames to .mp4 (mp4v) or .avi (MJPG); returns the path. The file appears only
    when it holds every frame (`lcr_edge.io.VideoOut`): a full disk is an error, not a short video.

    Jester was recorded at about 12 frames per second, hence the default fps."""
    from lcr_edge.io import VideoOut

    path = Path(path)
    if path.suffix.lower() not in (".mp4", ".avi"):
        raise LCRError(f"{path}: video must end in .mp4 or .avi")
    if not frames:
        raise LCRError(f"{path}: no frames to write")
    out, ok = VideoOut(path, fps), False
    try:
        for f in frames:
            out.write(f)
        ok = True
    finally:
        out.close(ok)
    return path
