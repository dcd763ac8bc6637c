"""Clips chained into streams: a clip set (Jester's layout, or class folders of videos as
`lcr-edge record` writes them) -> a stream set for `lcr-edge train --mode stream`.

Stream training needs long recordings with gestures in them, idle stretches between, and where
each gesture ends (`lcr_edge.training.streams`). Real clip sets have the gestures but not the
streams: this strings clips of one split together, back to back, into videos at Jester's 12 fps.

    idle  gesture clip  idle  gesture clip  idle ...

- A gesture clip is one event that spans the whole clip: Jester does not say where in its 3 s the
  hand moves, only that the gesture is over by the clip's end. Stream targets name a gesture from
  a little before its end to a little after it, and ignore the rest of it, so the part of the clip
  where nothing happens yet costs nothing. "Doing other things" clips are chained the same way
  (a class of their own, never an event, as in synthetic streams).
- Between two gestures (and at both ends) is an idle stretch: a "No gesture" clip of the same
  split (chance `idle_p`, when the set has any), or else the last frame of the clip before, held
  for `hold_s` seconds (a hand that stops, then the next gesture).
- Frames are resized to `size` and resampled to 12 fps from the clip's own rate. A validation
  stream is made of validation clips only, so no clip is in both splits. Unreadable clips are
  skipped and counted.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import cv2
import numpy as np

from lcr_edge.errors import LCRError
from lcr_edge.io import read_image, write_json
from lcr_edge.labels import JESTER_FPS
from lcr_edge.training.data import (
    Clip,
    _video_fps,
    decode_video,
    is_jester,
    jester_clips,
    read_jester_frames,
    video_clips,
)
from lcr_edge.training.streams import BACKGROUND, INDEX
from lcr_edge.training.synth.dataset import MARKER, STREAM_FPS, _prepare_out, _write_lines
from lcr_edge.training.synth.render import write_video


def split_clips(root: Path, split: str) -> tuple[list[Clip], list[str], float | None]:
    """The clips of one split, the set's labels, and the clips' frame rate (None: each video's)."""
    if is_jester(root):
        clips, labels = jester_clips(root, split)
        return clips, labels, JESTER_FPS
    clips, labels = video_clips(root, split)
    return clips, labels, None


def read_clip(clip: Clip, size: tuple[int, int], fps: float | None) -> list[np.ndarray]:
    """A clip's frames at `size` (W, H) and 12 fps; ValueError/OSError when unreadable."""
    if clip.video is not None:
        frames, rate = decode_video(clip.video), fps or _video_fps(clip.video)
    else:
        frames, rate = [], fps or JESTER_FPS
        for p in read_jester_frames(clip.frames_dir):
            img = read_image(p)
            if img is None:
                raise ValueError(f"{p}: unreadable or cut-short image")
            frames.append(img)
    n_out = max(1, int(round(len(frames) * STREAM_FPS / rate)))
    idx = np.minimum((np.arange(n_out) * rate / STREAM_FPS).astype(int), len(frames) - 1)
    return [cv2.resize(frames[i], size, interpolation=cv2.INTER_AREA)
            if frames[i].shape[1::-1] != size else frames[i] for i in idx]


def chain_clips(data: str | os.PathLike, out: str | os.PathLike, streams: int,
                clips: tuple[int, int] = (3, 8), seed: int = 0, val_fraction: float = 0.1,
                size: tuple[int, int] = (176, 100), idle_p: float = 0.5,
                hold_s: tuple[float, float] = (0.8, 2.5), overwrite: bool = False,
                progress: bool = True) -> dict:
    """Write `streams` chained streams (`clips[0]`..`clips[1]` gesture clips each) to OUT in the
    stream set layout; returns a summary. Same inputs and seed, same streams."""
    data, out = Path(data), Path(out)
    if not data.is_dir():
        raise LCRError(f"{data}: data folder not found")
    if streams < 1:
        raise LCRError(f"--streams must be at least 1, got {streams}")
    if clips[0] < 1 or clips[1] < clips[0]:
        raise LCRError(f"--clips must be LO-HI gesture clips a stream with 1 <= LO <= HI, got {clips}")
    if not 0.0 <= val_fraction < 1.0 or not 0.0 <= idle_p <= 1.0:
        raise LCRError("--val-fraction must be in [0, 1) and idle_p in [0, 1]")
    if hold_s[0] < 0 or hold_s[1] < hold_s[0]:
        raise LCRError(f"hold_s must be LO <= HI seconds, got {hold_s}")
    if (data / INDEX).is_file():
        raise LCRError(f"{data}: already a stream set; train on it with --mode stream")
    pools = {}
    for split in ("train", "validation"):
        try:
            pools[split] = split_clips(data, split)
        except LCRError:
            if split == "train":
                raise
    labels = pools["train"][1]
    if "validation" in pools and pools["validation"][1] != labels:
        raise LCRError(f"{data}: the validation split's classes {pools['validation'][1]} differ "
                       f"from the train split's {labels}")
    if BACKGROUND not in labels:
        raise LCRError(f"{data}: stream training needs a {BACKGROUND!r} class for the frames between "
                       f"gestures; the set's classes are {labels}")
    n_val = min(streams - 1, int(round(streams * val_fraction))) if streams > 1 else 0
    if n_val and "validation" not in pools:
        raise LCRError(f"{data}: no validation clips for {n_val} validation stream(s); "
                       f"pass --val-fraction 0")
    bg = labels.index(BACKGROUND)
    _prepare_out(out, overwrite)
    info = {"generator": "lcr-edge chain", "data": str(data), "seed": seed, "streams": streams,
            "clips": list(clips), "size": list(size), "complete": False}
    write_json(out / MARKER, info)
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    lines, skipped, t0 = [], [], time.perf_counter()
    for k in tqdm(range(streams), unit="stream", desc="chain", disable=not progress):
        split = "validation" if k < n_val else "train"
        pool, _, fps = pools[split]
        gestures = [c for c in pool if c.label >= 0 and c.label != bg]
        idles = [c for c in pool if c.label == bg]
        if not gestures:
            raise LCRError(f"{data}: the {split} split has no gesture clips (only {BACKGROUND!r})")
        frames, events, used = _chain_one(rng, gestures, idles, labels, fps, clips, size,
                                          idle_p, hold_s, skipped)
        if not events:
            raise LCRError(f"stream {k + 1}: none of its clips could be read ({skipped[-1]})")
        sid = f"c{k + 1:05d}"
        write_video(out / f"{sid}.mp4", frames, fps=STREAM_FPS)
        lines.append({"id": sid, "video": f"{sid}.mp4", "frames": len(frames), "fps": STREAM_FPS,
                      "split": split, "events": events, "clips": used})
    _write_lines(out / "labels.txt", labels)
    _write_lines(out / INDEX, [json.dumps(d) for d in lines])  # last: the set is complete
    n_frames = sum(d["frames"] for d in lines)
    summary = {"out": str(out), "streams": streams, "validation": n_val, "total_frames": n_frames,
               "minutes": round(n_frames / STREAM_FPS / 60, 1), "skipped": len(skipped),
               "seconds": round(time.perf_counter() - t0, 3)}
    write_json(out / MARKER, {**info, "complete": True, **summary,
                              "skipped_clips": skipped[:20]})
    return summary


def _chain_one(rng, gestures: list[Clip], idles: list[Clip], labels: list[str], fps, clips,
               size, idle_p: float, hold_s, skipped: list[str]):
    """One stream: (frames, events [[label, start, end], ...], keys of the clips used)."""
    frames, events, used = [], [], []

    def idle(last):
        if idles and rng.random() < idle_p:
            clip = idles[int(rng.integers(0, len(idles)))]
            try:
                frames.extend(read_clip(clip, size, fps))
                used.append(clip.key)
                return
            except (OSError, ValueError, cv2.error) as exc:
                skipped.append(f"{clip.key}: {exc}")
        if last is not None:
            frames.extend([last] * int(round(rng.uniform(*hold_s) * STREAM_FPS)))

    idle(None)
    for _ in range(int(rng.integers(clips[0], clips[1] + 1))):
        clip = gestures[int(rng.integers(0, len(gestures)))]
        try:
            shot = read_clip(clip, size, fps)
        except (OSError, ValueError, cv2.error) as exc:
            skipped.append(f"{clip.key}: {exc}")
            continue
        events.append([labels[clip.label], len(frames), len(frames) + len(shot)])
        frames.extend(shot)
        used.append(clip.key)
        idle(shot[-1])
    return frames, events, used
