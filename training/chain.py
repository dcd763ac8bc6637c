"""Clips chained into streams: a clip set (Jester's layout, as `lcr-edge record` writes it, or
class folders of videos) -> a stream set for `lcr-edge train --mode stream`.

Stream training needs long recordings with gestures in them, idle stretches between, and where
each gesture ends (`lcr_edge.training.streams`). Real clip sets have the gestures but not the
streams: this strings clips of one split together, back to back, into videos at Jester's 12 fps.

    idle  gesture clip  idle  gesture clip  idle ...

- A gesture clip is one event that spans the whole clip: Jester does not say where in its 3 s the
  hand moves, only that the gesture is over by the clip's end. Stream targets name a gesture from
  a little before its end to a little after it, and ignore the rest of it, so the part of the clip
  where nothing happens yet costs nothing. "Doing other things" clips are chained the same way
  (a class of their own, never an event, as in synthetic streams).
- After each gesture is an idle stretch: a "No gesture" clip of the same split (chance `idle_p`,
  when the set has any), or else the gesture's last frame, held for `hold_s` seconds (a hand that
  stops, then the next gesture). A stream starts with a "No gesture" clip by the same chance.
- Frames are resized to `size` and resampled to 12 fps from the clip's own rate. A validation
  stream is made of validation clips only, so no clip is in both splits. An unreadable clip is
  skipped, named once and never drawn again.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cv2
import numpy as np

from lcr_edge.errors import LCRError
from lcr_edge.io import write_json
from lcr_edge.training.data import (
    Clip,
    _video_fps,
    decode_video,
    find_clips,
    read_frame,
    read_jester_frames,
)
from lcr_edge.training.streams import BACKGROUND, INDEX
from lcr_edge.training.synth.dataset import MARKER, STREAM_FPS, _prepare_out, _write_lines
from lcr_edge.training.synth.render import write_video


def read_clip(clip: Clip, size: tuple[int, int], fps: float) -> list[np.ndarray]:
    """A clip as frames at `size` (W, H) and 12 fps, from a video's own rate or, for Jester's
    frame folders, the set's `fps`; ValueError or OSError when unreadable."""
    if clip.video is not None:
        frames, fps = decode_video(clip.video), _video_fps(clip.video)
    else:
        frames = [read_frame(p) for p in read_jester_frames(clip.frames_dir)]
    n_out = max(1, int(round(len(frames) * STREAM_FPS / fps)))
    idx = np.minimum((np.arange(n_out) * fps / STREAM_FPS).astype(int), len(frames) - 1)
    return [cv2.resize(frames[i], size, interpolation=cv2.INTER_AREA)
            if frames[i].shape[1::-1] != size else frames[i] for i in idx]


class _Pool:
    """One split's clips, gesture clips and "No gesture" clips apart; unreadable ones leave it."""

    def __init__(self, clips: list[Clip], background: int, fps: float):
        self.gestures = [c for c in clips if c.label >= 0 and c.label != background]
        self.idles = [c for c in clips if c.label == background]
        self.fps = fps

    def draw(self, rng, idle: bool) -> Clip | None:
        pool = self.idles if idle else self.gestures
        return pool[int(rng.integers(0, len(pool)))] if pool else None

    def drop(self, clip: Clip) -> None:
        for pool in (self.gestures, self.idles):
            if clip in pool:
                pool.remove(clip)


def chain_clips(data: str | os.PathLike, out: str | os.PathLike, streams: int,
                clips: tuple[int, int] = (3, 8), seed: int = 0, val_fraction: float = 0.1,
                size: tuple[int, int] = (176, 100), idle_p: float = 0.5,
                hold_s: tuple[float, float] = (0.8, 2.5), overwrite: bool = False,
                progress: bool = True) -> dict:
    """Write `streams` chained streams (`clips[0]`..`clips[1]` gesture clips each) to OUT in the
    stream set layout; returns a summary. Same inputs and seed, same streams. Everything that can
    be checked before writing is: a failure then leaves OUT as it was."""
    data, out = Path(data), Path(out)
    if not data.is_dir():
        raise LCRError(f"{data}: data folder not found")
    if streams < 1:
        raise LCRError(f"--streams must be at least 1, got {streams}")
    if clips[0] < 1 or clips[1] < clips[0]:
        raise LCRError(f"--clips must be LO-HI gesture clips a stream with 1 <= LO <= HI, got {clips}")
    if not 0.0 <= val_fraction < 1.0:
        raise LCRError(f"--val-fraction must be in [0, 1), got {val_fraction}")
    if not 0.0 <= idle_p <= 1.0:
        raise LCRError(f"--idle must be a chance in [0, 1], got {idle_p}")
    if hold_s[0] < 0 or hold_s[1] < hold_s[0]:
        raise LCRError(f"hold_s must be LO <= HI seconds, got {hold_s}")
    if (data / INDEX).is_file():
        raise LCRError(f"{data}: already a stream set; train on it with --mode stream")
    n_val = min(streams - 1, int(round(streams * val_fraction))) if streams > 1 else 0
    train_clips, labels, fps = find_clips(data, "train")
    if BACKGROUND not in labels:
        raise LCRError(f"{data}: stream training needs a {BACKGROUND!r} class for the frames between "
                       f"gestures; the set's classes are {labels}")
    bg = labels.index(BACKGROUND)
    pools = {"train": _Pool(train_clips, bg, fps)}
    if n_val:
        val_clips, val_labels, _ = find_clips(data, "validation")
        if val_labels != labels:
            raise LCRError(f"{data}: the validation split's classes {val_labels} differ from the "
                           f"train split's {labels} (pass --val-fraction 0 to make training "
                           f"streams only)")
        pools["validation"] = _Pool(val_clips, bg, fps)
    for split, pool in pools.items():
        if not pool.gestures:
            what = "only 'No gesture' clips" if pool.idles else "no clips"
            hint = " (pass --val-fraction 0 to make training streams only)" \
                if split == "validation" else ""
            raise LCRError(f"{data}: the {split} split has {what}, no gesture clip to chain{hint}")
    _prepare_out(out, overwrite)
    info = {"generator": "lcr-edge chain", "data": str(data), "seed": seed, "streams": streams,
            "clips": list(clips), "size": list(size), "complete": False}
    write_json(out / MARKER, info)
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    lines, bad, t0 = [], {}, time.perf_counter()
    for k in tqdm(range(streams), unit="stream", desc="chain", disable=not progress):
        split = "validation" if k < n_val else "train"
        frames, events, used = _chain_one(rng, pools[split], labels, clips, size, idle_p, hold_s,
                                          bad)
        sid = f"c{k + 1:05d}"
        write_video(out / f"{sid}.mp4", frames, fps=STREAM_FPS)
        lines.append({"id": sid, "video": f"{sid}.mp4", "frames": len(frames), "fps": STREAM_FPS,
                      "split": split, "events": events, "clips": used})
    _write_lines(out / "labels.txt", labels)
    _write_lines(out / INDEX, [json.dumps(d) for d in lines])  # last: the set is complete
    n_frames = sum(d["frames"] for d in lines)
    summary = {"out": str(out), "streams": streams, "validation": n_val, "total_frames": n_frames,
               "minutes": round(n_frames / STREAM_FPS / 60, 1), "skipped": len(bad),
               "seconds": round(time.perf_counter() - t0, 3)}
    write_json(out / MARKER, {**info, "complete": True, **summary,
                              "skipped_clips": [f"{k}: {why}" for k, why in list(bad.items())[:20]]})
    return summary


def _read(pool: _Pool, clip: Clip, size, bad: dict) -> list[np.ndarray] | None:
    """A clip's frames, or None (it is then named in `bad` and leaves the pool)."""
    try:
        return read_clip(clip, size, pool.fps)
    except (OSError, ValueError, cv2.error) as exc:
        bad[clip.key] = str(exc)
        pool.drop(clip)
        return None


def _chain_one(rng, pool: _Pool, labels: list[str], clips, size, idle_p: float, hold_s,
               bad: dict):
    """One stream: (frames, events [[label, start, end], ...], keys of the clips used)."""
    frames, events, used = [], [], []

    def idle(last):
        clip = pool.draw(rng, idle=True) if rng.random() < idle_p else None
        shot = _read(pool, clip, size, bad) if clip is not None else None
        if shot is not None:
            frames.extend(shot)
            used.append(clip.key)
        elif last is not None:
            frames.extend([last] * int(round(rng.uniform(*hold_s) * STREAM_FPS)))

    idle(None)
    want = int(rng.integers(clips[0], clips[1] + 1))
    while len(events) < want:
        clip = pool.draw(rng, idle=False)
        if clip is None:
            raise LCRError(f"no gesture clip of the set could be read ({len(bad)} unreadable; "
                           f"first: {next(iter(bad.values()))})")
        shot = _read(pool, clip, size, bad)
        if shot is None:
            continue
        events.append([labels[clip.label], len(frames), len(frames) + len(shot)])
        frames.extend(shot)
        used.append(clip.key)
        idle(shot[-1])
    return frames, events, used
